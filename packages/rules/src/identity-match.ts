/**
 * Matching of surnames and addresses for the family, neighbour and coworker rules. Source systems
 * spell the same name and address differently ("García-López" / "GARCIA LOPEZ", "12 Main St." /
 * "12 main street apt 3"), so both sides are normalised before comparing. The matchers are
 * deliberately conservative on addresses (postal code, street and house number must all agree)
 * and lenient on surname spelling, because the family rule needs both to fire.
 */

import type { Address } from './reference-data.js';

// Letters NFKD does not decompose into a base letter plus a combining mark.
const FOLDED: Readonly<Record<string, string>> = {
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  ł: 'l',
  đ: 'd',
  ð: 'd',
  þ: 'th',
  ı: 'i',
};

/** Lower case, diacritics removed, every run of non-alphanumerics a single space, trimmed. */
export function foldText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[ßæœøłđðþı]/g, (c) => FOLDED[c] ?? c)
    .replace(/['’`]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

// Particles of compound surnames; sharing only "de" or "van" says nothing about family.
const PARTICLES = new Set([
  'de',
  'del',
  'della',
  'der',
  'den',
  'di',
  'da',
  'das',
  'dos',
  'du',
  'la',
  'le',
  'van',
  'von',
  'y',
  'e',
  'bin',
  'ibn',
  'al',
]);

/** The significant parts of a surname: "García-López" → ["garcia", "lopez"]. */
export function surnameParts(surname: string): string[] {
  return foldText(surname)
    .split(' ')
    .filter((part) => part.length > 0 && !PARTICLES.has(part));
}

/**
 * Whether two surnames are the same family name: equal after folding case, diacritics,
 * punctuation and spacing ("O'Brien" = "OBRIEN", "van der Berg" = "Van der Berg"), or, when either
 * is compound, sharing a part of three letters or more ("Smith-Jones" = "Jones", a married or
 * double-barrelled name). Particles alone never match.
 */
export function sameSurname(a: string, b: string): boolean {
  const pa = surnameParts(a);
  const pb = surnameParts(b);
  if (pa.length === 0 || pb.length === 0) return false;
  if (pa.join('') === pb.join('')) return true;
  if (pa.length === 1 && pb.length === 1) return false;
  const setB = new Set(pb);
  return pa.some((part) => part.length >= 3 && setB.has(part));
}

const STREET_WORDS: Readonly<Record<string, string>> = {
  st: 'street',
  str: 'strasse',
  ave: 'avenue',
  av: 'avenue',
  rd: 'road',
  blvd: 'boulevard',
  dr: 'drive',
  ln: 'lane',
  ct: 'court',
  pl: 'place',
  pkwy: 'parkway',
  hwy: 'highway',
  ter: 'terrace',
  cir: 'circle',
  sq: 'square',
  trl: 'trail',
  n: 'north',
  s: 'south',
  e: 'east',
  w: 'west',
  ne: 'northeast',
  nw: 'northwest',
  se: 'southeast',
  sw: 'southwest',
};

const UNIT_WORDS = new Set(['apt', 'apartment', 'unit', 'ste', 'suite', 'fl', 'floor', 'rm', 'room', 'no']);

/** An address line taken apart: "12B Main St., Apt #4" → number "12b", street "main street", unit "4". */
export interface ParsedAddress {
  houseNumber: string | undefined;
  street: string;
  unit: string | undefined;
  postalCode: string;
}

const HOUSE_NUMBER = /^\d+[a-z]?$/;

/** Normalises an address for comparison; see {@link ParsedAddress}. */
export function parseAddress(address: Pick<Address, 'line' | 'postalCode'>): ParsedAddress {
  // "#4" marks a unit; keep it as a word before folding strips the "#".
  const tokens = foldText(address.line.replace(/#\s*/g, ' unit ')).split(' ').filter(Boolean);
  let unit: string | undefined;
  const unitAt = tokens.findIndex((t, i) => i > 0 && UNIT_WORDS.has(t));
  const streetTokens = unitAt === -1 ? tokens : tokens.slice(0, unitAt);
  if (unitAt !== -1)
    unit =
      tokens
        .slice(unitAt + 1)
        .filter((t) => !UNIT_WORDS.has(t))
        .join(' ') || undefined;
  let houseNumber: string | undefined;
  // US style "12 Main St" or continental "Hauptstraße 12".
  if (streetTokens.length > 1 && HOUSE_NUMBER.test(streetTokens[0] ?? '')) houseNumber = streetTokens.shift();
  else if (streetTokens.length > 1 && HOUSE_NUMBER.test(streetTokens.at(-1) ?? '')) houseNumber = streetTokens.pop();
  const street = streetTokens.map((t) => STREET_WORDS[t] ?? t.replace(/str$/, 'strasse')).join(' ');
  // A post-office box is no street: two boxes at one post office are not neighbours.
  const isBox = /^(p ?o )?box$/.test(street) || street.startsWith('po box') || street.startsWith('p o box');
  return { houseNumber, street: isBox ? '' : street, unit, postalCode: normalisePostalCode(address.postalCode) };
}

/** Upper case without spaces; a US ZIP+4 compares as its five-digit ZIP. */
export function normalisePostalCode(code: string): string {
  const compact = code.toUpperCase().replace(/[\s-]/g, '');
  return /^\d{9}$/.test(compact) ? compact.slice(0, 5) : compact;
}

/**
 * Same street in the same postal code (house numbers may differ). Addresses without a parseable
 * house number never share a street: a PO box or "General Delivery" is no street.
 */
export function sameStreet(a: Pick<Address, 'line' | 'postalCode'>, b: Pick<Address, 'line' | 'postalCode'>): boolean {
  const pa = parseAddress(a);
  const pb = parseAddress(b);
  return streetOf(pa) !== undefined && streetOf(pa) === streetOf(pb);
}

function streetOf(p: ParsedAddress): string | undefined {
  // Spacing is dropped so that "Haupt Str." and "Hauptstraße" agree.
  return p.houseNumber === undefined || p.street === '' || p.postalCode === ''
    ? undefined
    : `${p.postalCode}|${p.street.replaceAll(' ', '')}`;
}

/**
 * Same household: same street, postal code and house number, and the same unit when both name
 * one. A unit on one side only still matches, because data entry often drops it and the family
 * rule also needs the surname to agree.
 */
export function sameAddress(a: Pick<Address, 'line' | 'postalCode'>, b: Pick<Address, 'line' | 'postalCode'>): boolean {
  const pa = parseAddress(a);
  const pb = parseAddress(b);
  if (streetOf(pa) === undefined || streetOf(pa) !== streetOf(pb) || pa.houseNumber !== pb.houseNumber) return false;
  return pa.unit === undefined || pb.unit === undefined || pa.unit === pb.unit;
}

/**
 * Neighbours: the same street and postal code but not the same household — a different house
 * number, or another unit of the same building. Chosen over a distance rule because it needs no
 * geocoding and explains itself ("lives on the same street").
 */
export function areNeighbours(
  a: Pick<Address, 'line' | 'postalCode'>,
  b: Pick<Address, 'line' | 'postalCode'>,
): boolean {
  return sameStreet(a, b) && !sameAddress(a, b);
}
