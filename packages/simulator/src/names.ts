/**
 * Invented name and address parts for synthetic people. Any resemblance to real people is chance.
 * Kept as one string per list so the file stays short.
 */

const words = (text: string): readonly string[] => text.trim().split(/\s+/);

export const GIVEN_NAMES = words(`
  Aaliyah Aaron Abigail Adam Adrian Aisha Alan Alejandro Alice Amara Amelia Ana Andre Angela Anthony Arjun Ava
  Benjamin Bianca Brandon Brian Camila Carlos Caroline Charles Chen Chloe Christopher Daniel David Deborah Diego
  Dmitri Elena Elijah Elizabeth Emily Emma Eric Ethan Fatima Felix Fiona Gabriel Grace Hannah Hassan Helen Henry
  Hiro Imani Isaac Isabella Jack James Jasmine Jennifer Jessica John Jordan Joseph Joshua Julia Kai Karen Kevin
  Kwame Laura Leah Leo Liam Linda Lucas Lucy Luis Maria Mark Mateo Maya Mei Michael Michelle Mohammed Nadia Naomi
  Nathan Nia Noah Olivia Omar Patricia Paul Priya Rachel Rafael Ravi Rebecca Robert Rosa Ryan Samuel Sara Sean
  Sofia Sophie Stephen Susan Thomas Valentina Victor Wei William Yara Yusuf Zoe`);

export const FAMILY_NAMES = words(`
  Abbott Adeyemi Alvarez Anderson Andersson Baker Banerjee Bauer Bennett Brooks Brown Campbell Carter Castillo
  Chang Chen Clark Collins Cooper Cruz Davis Diaz Dubois Edwards Evans Fischer Flores Foster Garcia Gomez Gonzalez
  Gray Green Gupta Hall Harris Hayes Hernandez Hill Hoffman Howard Hughes Ibrahim Jackson James Jensen Johnson
  Jones Kaur Kelly Kim King Kowalski Kumar Lee Lewis Li Lopez Martin Martinez Mendoza Miller Mitchell Moore Morales
  Morgan Murphy Nakamura Nguyen Novak Okafor Olsen Ortiz Owens Park Patel Perez Peterson Phillips Price Ramirez
  Reed Reyes Richardson Rivera Roberts Robinson Rodriguez Rossi Russell Sanchez Sanders Schmidt Scott Shah Silva
  Singh Smith Sullivan Suzuki Taylor Thomas Thompson Torres Tran Turner Walker Wang Ward Watson White Williams
  Wilson Wong Wright Yamamoto Young Zhang`);

export const STREETS =
  `Maple Avenue, Oak Street, Pine Road, Cedar Lane, Elm Street, Birch Court, Willow Way, Chestnut Drive,
  Spruce Street, Walnut Avenue, Highland Road, Lakeview Drive, River Road, Hillcrest Avenue, Sunset Boulevard,
  Park Place, Church Street, Mill Road, Meadow Lane, Forest Avenue, Orchard Street, Harbor View, School Street,
  Spring Street, Union Street, Water Street, Prospect Avenue, Franklin Street, Washington Avenue`
    .split(',')
    .map((s) => s.trim());

/** Invented towns; the state and ZIP prefix fit the default New York time zone. */
export const TOWNS = [
  { city: 'Millbrook', state: 'NY', zip: '125' },
  { city: 'Cedar Falls', state: 'NY', zip: '124' },
  { city: 'Riverton', state: 'NY', zip: '126' },
  { city: 'Ashford', state: 'NY', zip: '127' },
  { city: 'Greenport', state: 'NY', zip: '129' },
  { city: 'Hollis Springs', state: 'NY', zip: '128' },
] as const;
