import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson } from '@phi-audit/ledger';
import {
  alertId,
  mergeAlert,
  type Alert,
  type DetectionStore,
  type DetectorCursorStore,
  type Evidence,
  type Patient,
  type Severity,
  type TreatmentRelationship,
  type WorkforceMember,
} from '@phi-audit/rules';

/** One opened detection store under test. */
export interface OpenedDetectionStore {
  store: DetectionStore;
  /** The same store as a cursor store, when the adapter keeps detector cursors (SQLite). */
  cursors?: DetectorCursorStore;
  /** Closes `store` and opens a new one on the same data (a process restart). */
  reopen(): Promise<{ store: DetectionStore; cursors?: DetectorCursorStore }>;
  /** Closes whichever store is current and releases what open() created. */
  close(): Promise<void>;
}

export interface DetectionStoreHarness {
  /** True when the adapter keeps detector cursors (SQLite): the cursor tests run. */
  keepsCursors: boolean;
  /** Opens a fresh, empty store. */
  open(): Promise<OpenedDetectionStore>;
}

const A = 'clinic-a';
const B = 'clinic-b';
const META = { source: 'import:reference.json', loadedAt: 1_773_100_000_000 };

function patient(id: string, over: Partial<Patient> = {}): Patient {
  return {
    id,
    givenName: 'Ana',
    familyName: `Family ${id}`,
    address: { line: '1 Main St', city: 'Springfield', state: 'IL', postalCode: '62701' },
    birthDate: '1980-02-03',
    vip: false,
    confidential: false,
    ...over,
  };
}

function member(userId: string, over: Partial<WorkforceMember> = {}): WorkforceMember {
  return {
    userId,
    givenName: 'Maria',
    familyName: 'Lopez',
    role: 'physician',
    department: 'cardiology',
    status: 'active',
    hiredAt: 1_600_000_000_000,
    ...over,
  };
}

function relationship(over: Partial<TreatmentRelationship> = {}): TreatmentRelationship {
  return {
    patientId: 'p1',
    userId: 'u1',
    kind: 'appointment',
    validFrom: 1_773_000_000_000,
    validTo: 1_773_086_400_000,
    ...over,
  };
}

const ev = (eventId: string, occurredAt: number, source = 'ehr'): Evidence => ({ source, eventId, occurredAt });

interface AlertSpec {
  tenant?: string;
  ruleId?: string;
  userId?: string;
  patientId?: string | undefined;
  day?: string;
  severity?: Severity;
  riskScore?: number;
  explanation?: string;
  evidence?: Evidence[];
}

function makeAlert(spec: AlertSpec = {}): Alert {
  const key = {
    tenant: spec.tenant ?? A,
    ruleId: spec.ruleId ?? 'after-hours',
    userId: spec.userId ?? 'u1',
    day: spec.day ?? '2026-03-10',
    ...('patientId' in spec
      ? spec.patientId === undefined
        ? {}
        : { patientId: spec.patientId }
      : { patientId: 'p1' }),
  };
  const evidence = spec.evidence ?? [ev('e1', 1_773_140_000_000)];
  const times = evidence.map((e) => e.occurredAt);
  return {
    alertId: alertId(key),
    ...key,
    severity: spec.severity ?? 'medium',
    riskScore: spec.riskScore ?? 50,
    explanation: spec.explanation ?? 'A user opened a record outside their shift.',
    evidence,
    truncated: false,
    firstEventAt: Math.min(...times),
    lastEventAt: Math.max(...times),
  };
}

/** Records compared regardless of order (the contract does not order them). */
const sorted = <T>(records: readonly T[]): T[] =>
  [...records].sort((x, y) => (canonicalJson(x) < canonicalJson(y) ? -1 : 1));

const ids = (alerts: readonly Alert[]) => alerts.map((a) => a.alertId);

/**
 * The behaviour every DetectionStore adapter must share (SQLite and ClickHouse run the same
 * tests): versioned reference data per tenant, reads as of a version, the referenceKey identity,
 * all-or-nothing loads, tenant isolation, alerts that converge under repeated and partial
 * upserts, the alert list's filters, order and limit, cursors (where kept) and a restart.
 * Every test opens a fresh store.
 */
export function describeDetectionStoreConformance(name: string, harness: DetectionStoreHarness): void {
  describe(`DetectionStore conformance: ${name}`, () => {
    let h: OpenedDetectionStore;
    beforeEach(async () => {
      h = await harness.open();
    });
    afterEach(async () => {
      await h?.close();
    });

    it('putReference numbers loads 1, 2, 3 per tenant, independently of other tenants', async () => {
      const { store } = h;
      expect(await store.referenceVersions()).toEqual(new Map());
      const a1 = await store.putReference(A, 'patients', [patient('p1'), patient('p2')], META);
      expect(a1).toEqual({ tenant: A, kind: 'patients', version: 1, count: 2, ...META });
      const b1 = await store.putReference(B, 'workforce', [member('u1')], { source: 'ehr', loadedAt: 5 });
      expect(b1).toEqual({ tenant: B, kind: 'workforce', version: 1, count: 1, source: 'ehr', loadedAt: 5 });
      expect((await store.putReference(A, 'workforce', [member('u1')], META)).version).toBe(2);
      expect((await store.putReference(A, 'relationships', [relationship()], META)).version).toBe(3);
      expect((await store.putReference(B, 'patients', [patient('p9')], META)).version).toBe(2);
      expect(await store.referenceVersions()).toEqual(
        new Map([
          [A, 3],
          [B, 2],
        ]),
      );
    });

    it('referenceData: the last version of each key wins, keys a load leaves out stay, other kinds stay', async () => {
      const { store } = h;
      expect(await store.referenceData(A)).toEqual({
        version: 0,
        data: { patients: [], workforce: [], relationships: [] },
      });
      await store.putReference(A, 'patients', [patient('p1'), patient('p2')], META);
      await store.putReference(A, 'workforce', [member('u1'), member('u2', { status: 'inactive' })], META);
      const p1Dead = patient('p1', { deathDate: '2026-01-01', familyName: 'Renamed' });
      await store.putReference(A, 'patients', [p1Dead, patient('p3', { vip: true })], META);
      await store.putReference(
        A,
        'workforce',
        [member('u2', { status: 'terminated', terminatedAt: 1_700_000_000_000 })],
        META,
      );
      const { version, data } = await store.referenceData(A);
      expect(version).toBe(4);
      expect(sorted(data.patients)).toEqual(sorted([p1Dead, patient('p2'), patient('p3', { vip: true })]));
      expect(sorted(data.workforce)).toEqual(
        sorted([member('u1'), member('u2', { status: 'terminated', terminatedAt: 1_700_000_000_000 })]),
      );
      expect(data.relationships).toEqual([]);
    });

    it('referenceData asOfVersion gives the earlier state; 0 gives nothing; past the latest gives the latest', async () => {
      const { store } = h;
      await store.putReference(A, 'patients', [patient('p1'), patient('p2')], META);
      await store.putReference(A, 'workforce', [member('u1')], META);
      await store.putReference(A, 'patients', [patient('p1', { confidential: true })], META);
      const v1 = await store.referenceData(A, { asOfVersion: 1 });
      expect(v1.version).toBe(1);
      expect(sorted(v1.data.patients)).toEqual(sorted([patient('p1'), patient('p2')]));
      expect(v1.data.workforce).toEqual([]);
      const v2 = await store.referenceData(A, { asOfVersion: 2 });
      expect(v2.version).toBe(2);
      expect(sorted(v2.data.patients)).toEqual(sorted([patient('p1'), patient('p2')]));
      expect(v2.data.workforce).toEqual([member('u1')]);
      const v3 = await store.referenceData(A, { asOfVersion: 3 });
      expect(sorted(v3.data.patients)).toEqual(sorted([patient('p1', { confidential: true }), patient('p2')]));
      expect(await store.referenceData(A, { asOfVersion: 0 })).toEqual({
        version: 0,
        data: { patients: [], workforce: [], relationships: [] },
      });
      expect(await store.referenceData(A, { asOfVersion: 99 })).toEqual(await store.referenceData(A));
      expect((await store.referenceData(A)).version).toBe(3);
    });

    it('relationships are keyed as referenceKey says: same sourceId replaced, identical ones without one collapse', async () => {
      const { store } = h;
      const appt = relationship({ sourceId: 'appt-1' });
      const moved = relationship({ sourceId: 'appt-1', validFrom: 1_773_200_000_000, validTo: 1_773_203_600_000 });
      const otherUser = relationship({ sourceId: 'appt-1', userId: 'u2' });
      const { userId: _user, ...base } = relationship();
      const careTeam: TreatmentRelationship = { ...base, kind: 'care_team', departmentId: 'cardiology' };
      const encounter = relationship({ kind: 'encounter' });
      await store.putReference(A, 'relationships', [appt, otherUser, careTeam], META);
      await store.putReference(A, 'relationships', [moved, careTeam, encounter], META);
      const { data } = await store.referenceData(A);
      expect(sorted(data.relationships)).toEqual(sorted([moved, otherUser, careTeam, encounter]));
      const before = await store.referenceData(A, { asOfVersion: 1 });
      expect(sorted(before.data.relationships)).toEqual(sorted([appt, otherUser, careTeam]));
    });

    it('a load that repeats a key is rejected and stores nothing; the next load still gets the next version', async () => {
      const { store } = h;
      await store.putReference(A, 'patients', [patient('p1')], META);
      await expect(
        store.putReference(A, 'patients', [patient('p2'), patient('p3'), patient('p2', { vip: true })], META),
      ).rejects.toMatchObject({ code: 'STORE_DUPLICATE_REFERENCE_KEY' });
      const rel = relationship();
      await expect(store.putReference(B, 'relationships', [rel, { ...rel }], META)).rejects.toMatchObject({
        code: 'STORE_DUPLICATE_REFERENCE_KEY',
      });
      expect(await store.referenceVersions()).toEqual(new Map([[A, 1]]));
      expect((await store.referenceLoads(A)).map((l) => l.version)).toEqual([1]);
      expect(await store.referenceLoads(B)).toEqual([]);
      expect((await store.referenceData(A)).data.patients).toEqual([patient('p1')]);
      expect((await store.putReference(A, 'patients', [patient('p2')], META)).version).toBe(2);
    });

    it('an invalid record is rejected with STORE_INVALID_VALUE and stores nothing', async () => {
      const { store } = h;
      const bad = { ...patient('p1'), birthDate: 'not a date' };
      await expect(store.putReference(A, 'patients', [patient('p0'), bad], META)).rejects.toMatchObject({
        code: 'STORE_INVALID_VALUE',
      });
      await expect(store.putReference(A, 'nonsense' as 'patients', [patient('p0')], META)).rejects.toMatchObject({
        code: 'STORE_INVALID_VALUE',
      });
      expect(await store.referenceVersions()).toEqual(new Map());
    });

    it('referenceLoads lists every load of the tenant, ascending version, with kind, count, source and time', async () => {
      const { store } = h;
      await store.putReference(A, 'patients', [patient('p1'), patient('p2'), patient('p3')], {
        source: 'import:patients.csv',
        loadedAt: 10,
      });
      await store.putReference(B, 'patients', [patient('p1')], META);
      await store.putReference(A, 'relationships', [], { source: 'ehr', loadedAt: 20 });
      await store.putReference(A, 'workforce', [member('u1')], { source: 'ehr', loadedAt: 30 });
      expect(await store.referenceLoads(A)).toEqual([
        { tenant: A, kind: 'patients', version: 1, count: 3, source: 'import:patients.csv', loadedAt: 10 },
        { tenant: A, kind: 'relationships', version: 2, count: 0, source: 'ehr', loadedAt: 20 },
        { tenant: A, kind: 'workforce', version: 3, count: 1, source: 'ehr', loadedAt: 30 },
      ]);
      expect(await store.referenceLoads('clinic-none')).toEqual([]);
    });

    it('tenants are isolated: the same ids in two tenants never mix, in reference data or alerts', async () => {
      const { store } = h;
      const pa = patient('p1', { familyName: 'Alpha' });
      const pb = patient('p1', { familyName: 'Beta', vip: true });
      await store.putReference(A, 'patients', [pa], META);
      await store.putReference(B, 'patients', [pb], META);
      await store.putReference(B, 'workforce', [member('u1')], META);
      expect((await store.referenceData(A)).data).toEqual({ patients: [pa], workforce: [], relationships: [] });
      expect((await store.referenceData(B)).data).toEqual({
        patients: [pb],
        workforce: [member('u1')],
        relationships: [],
      });
      const alertA = makeAlert({ tenant: A, riskScore: 10 });
      const alertB = makeAlert({ tenant: B, riskScore: 90, severity: 'critical' });
      await store.upsertAlerts([alertA, alertB]);
      expect(await store.alerts({ tenant: A })).toEqual([alertA]);
      expect(await store.alerts({ tenant: B })).toEqual([alertB]);
      expect(await store.alert(A, alertA.alertId)).toEqual(alertA);
      expect(await store.alert(B, alertA.alertId)).toBeUndefined();
      expect(await store.alert(A, alertB.alertId)).toBeUndefined();
      expect(await store.alerts({ tenant: 'clinic-none' })).toEqual([]);
    });

    it('upserting the same alert twice stores one alert equal to it', async () => {
      const { store } = h;
      const alert = makeAlert({ patientId: undefined, ruleId: 'bulk-read' });
      await store.upsertAlerts([alert]);
      await store.upsertAlerts([alert]);
      await store.upsertAlerts([alert, alert]);
      expect(await store.alert(A, alert.alertId)).toEqual(alert);
      expect(await store.alerts({ tenant: A })).toEqual([alert]);
    });

    it('two partial states of one alert converge in either order, in one call or two (evidence union, max risk)', async () => {
      const { store } = h;
      const early = (tenant: string) =>
        makeAlert({ tenant, evidence: [ev('e1', 1_000), ev('e2', 2_000)], riskScore: 40, severity: 'medium' });
      const late = (tenant: string) =>
        makeAlert({
          tenant,
          evidence: [ev('e2', 2_000), ev('e3', 3_000)],
          riskScore: 75,
          severity: 'high',
          explanation: 'A user opened a record at 03:12, outside their shift.',
        });
      const C = 'clinic-c';
      await store.upsertAlerts([early(A)]);
      await store.upsertAlerts([late(A)]);
      await store.upsertAlerts([late(B)]);
      await store.upsertAlerts([early(B)]);
      await store.upsertAlerts([late(C), early(C)]);
      for (const tenant of [A, B, C]) {
        const expected = mergeAlert(early(tenant), late(tenant));
        expect(expected.evidence.map((e) => e.eventId)).toEqual(['e1', 'e2', 'e3']);
        expect(expected.riskScore).toBe(75);
        const stored = await store.alert(tenant, early(tenant).alertId);
        expect(stored, tenant).toEqual(expected);
        expect(await store.alerts({ tenant }), tenant).toEqual([expected]);
      }
    });

    it('an alert whose id is not the id of its key, or a malformed one, is rejected and nothing is stored', async () => {
      const { store } = h;
      const good = makeAlert();
      const forged = { ...makeAlert({ userId: 'u2' }), alertId: good.alertId };
      await expect(store.upsertAlerts([good, forged])).rejects.toMatchObject({ code: 'STORE_INVALID_VALUE' });
      await expect(store.upsertAlerts([{ ...good, riskScore: 101 }])).rejects.toMatchObject({
        code: 'STORE_INVALID_VALUE',
      });
      expect(await store.alerts({ tenant: A })).toEqual([]);
    });

    it('alerts(query) filters by day range, rule, user, patient and minimum severity', async () => {
      const { store } = h;
      const all = [
        makeAlert({ day: '2026-03-08', ruleId: 'after-hours', userId: 'u1', patientId: 'p1', severity: 'low' }),
        makeAlert({ day: '2026-03-09', ruleId: 'vip', userId: 'u1', patientId: 'p2', severity: 'high' }),
        makeAlert({ day: '2026-03-10', ruleId: 'vip', userId: 'u2', patientId: 'p1', severity: 'medium' }),
        makeAlert({ day: '2026-03-11', ruleId: 'bulk-read', userId: 'u2', patientId: undefined, severity: 'critical' }),
        makeAlert({ day: '2026-03-12', ruleId: 'after-hours', userId: 'u3', patientId: 'p3', severity: 'medium' }),
      ];
      await store.upsertAlerts(all);
      await store.upsertAlerts([makeAlert({ tenant: B, day: '2026-03-10', ruleId: 'vip', userId: 'u2' })]);
      const [d8, d9, d10, d11, d12] = all.map((a) => a.alertId);
      expect(ids(await store.alerts({ tenant: A }))).toEqual([d12, d11, d10, d9, d8]);
      expect(ids(await store.alerts({ tenant: A, fromDay: '2026-03-09', toDay: '2026-03-11' }))).toEqual([
        d11,
        d10,
        d9,
      ]);
      expect(ids(await store.alerts({ tenant: A, fromDay: '2026-03-11' }))).toEqual([d12, d11]);
      expect(ids(await store.alerts({ tenant: A, toDay: '2026-03-08' }))).toEqual([d8]);
      expect(ids(await store.alerts({ tenant: A, ruleId: 'vip' }))).toEqual([d10, d9]);
      expect(ids(await store.alerts({ tenant: A, userId: 'u2' }))).toEqual([d11, d10]);
      expect(ids(await store.alerts({ tenant: A, patientId: 'p1' }))).toEqual([d10, d8]);
      expect(ids(await store.alerts({ tenant: A, minSeverity: 'high' }))).toEqual([d11, d9]);
      expect(ids(await store.alerts({ tenant: A, minSeverity: 'low' }))).toHaveLength(5);
      expect(ids(await store.alerts({ tenant: A, ruleId: 'vip', userId: 'u1', patientId: 'p2' }))).toEqual([d9]);
      expect(await store.alerts({ tenant: A, ruleId: 'vip', minSeverity: 'critical' })).toEqual([]);
      expect(await store.alerts({ tenant: A, fromDay: '2026-03-13' })).toEqual([]);
    });

    it('alerts(query) orders by day descending, then risk descending, then alertId, and honours limit', async () => {
      const { store } = h;
      const sameDay = ['u1', 'u2', 'u3', 'u4'].map((userId) => makeAlert({ day: '2026-03-10', userId, riskScore: 60 }));
      const risky = makeAlert({ day: '2026-03-10', userId: 'u9', riskScore: 95, severity: 'critical' });
      const calm = makeAlert({ day: '2026-03-10', userId: 'u8', riskScore: 5, severity: 'low' });
      const older = makeAlert({ day: '2026-03-01', userId: 'u7', riskScore: 100, severity: 'critical' });
      await store.upsertAlerts([older, calm, ...sameDay, risky]);
      const tied = ids(sameDay).sort();
      const expected = [risky.alertId, ...tied, calm.alertId, older.alertId];
      expect(ids(await store.alerts({ tenant: A }))).toEqual(expected);
      expect(ids(await store.alerts({ tenant: A, limit: 3 }))).toEqual(expected.slice(0, 3));
      expect(ids(await store.alerts({ tenant: A, limit: 1 }))).toEqual([risky.alertId]);
      // A merge that raises an alert's risk moves it in the order.
      await store.upsertAlerts([{ ...calm, riskScore: 99, evidence: [ev('e9', calm.firstEventAt)] }]);
      expect(ids(await store.alerts({ tenant: A, limit: 2 }))).toEqual([calm.alertId, risky.alertId]);
      await expect(store.alerts({ tenant: A, limit: 0 })).rejects.toMatchObject({ code: 'STORE_INVALID_VALUE' });
      await expect(store.alerts({ tenant: A, limit: 10_001 })).rejects.toMatchObject({ code: 'STORE_INVALID_VALUE' });
      await expect(store.alerts({ tenant: A, fromDay: '10 March' })).rejects.toMatchObject({
        code: 'STORE_INVALID_VALUE',
      });
      await expect(store.alerts({ tenant: '' })).rejects.toMatchObject({ code: 'STORE_INVALID_VALUE' });
    });

    it('text with quotes, backslashes and control characters round-trips', async () => {
      const { store } = h;
      const tricky = `o'neil \\ "x" {x:String}\n\t😀 é`;
      const p = patient(`p-${tricky}`, { givenName: tricky, familyName: tricky });
      await store.putReference(tricky, 'patients', [p], { source: tricky, loadedAt: 1 });
      expect(await store.referenceData(tricky)).toEqual({
        version: 1,
        data: { patients: [p], workforce: [], relationships: [] },
      });
      expect(await store.referenceLoads(tricky)).toEqual([
        { tenant: tricky, kind: 'patients', version: 1, count: 1, source: tricky, loadedAt: 1 },
      ]);
      const alert = makeAlert({ tenant: tricky, userId: tricky, patientId: tricky, explanation: tricky });
      await store.upsertAlerts([alert]);
      expect(await store.alerts({ tenant: tricky, userId: tricky, patientId: tricky })).toEqual([alert]);
    });

    it('a reopened store keeps reference data, versions, loads and alerts', async () => {
      await h.store.putReference(A, 'patients', [patient('p1')], META);
      await h.store.putReference(A, 'workforce', [member('u1')], META);
      const alert = makeAlert();
      await h.store.upsertAlerts([alert]);
      const before = {
        data: await h.store.referenceData(A),
        old: await h.store.referenceData(A, { asOfVersion: 1 }),
        loads: await h.store.referenceLoads(A),
      };
      const { store } = await h.reopen();
      expect(await store.referenceData(A)).toEqual(before.data);
      expect(await store.referenceData(A, { asOfVersion: 1 })).toEqual(before.old);
      expect(await store.referenceLoads(A)).toEqual(before.loads);
      expect(await store.referenceVersions()).toEqual(new Map([[A, 2]]));
      expect(await store.alerts({ tenant: A })).toEqual([alert]);
      expect((await store.putReference(A, 'patients', [patient('p2')], META)).version).toBe(3);
    });

    // Only adapters that keep detector cursors (SQLite) run this one.
    if (harness.keepsCursors) {
      it('detector cursors: saved positions load back, per name and origin, and survive a reopen', async () => {
        const cursors = h.cursors;
        if (cursors === undefined) throw new Error('the harness keeps cursors but opened a store without them');
        expect(await cursors.cursor('detector')).toEqual(new Map());
        await cursors.saveCursor(
          'detector',
          new Map([
            ['phi-audit/embedded/clinic-a', 10],
            ['phi-audit/embedded/clinic-b', 0],
          ]),
        );
        await cursors.saveCursor('other', new Map([['phi-audit/embedded/clinic-a', 99]]));
        await cursors.saveCursor('detector', new Map([['phi-audit/embedded/clinic-a', 25]]));
        const expected = new Map([
          ['phi-audit/embedded/clinic-a', 25],
          ['phi-audit/embedded/clinic-b', 0],
        ]);
        expect(await cursors.cursor('detector')).toEqual(expected);
        expect(await cursors.cursor('other')).toEqual(new Map([['phi-audit/embedded/clinic-a', 99]]));
        await expect(cursors.saveCursor('detector', new Map([['o', -1]]))).rejects.toMatchObject({
          code: 'STORE_INVALID_VALUE',
        });
        const reopened = await h.reopen();
        expect(await reopened.cursors?.cursor('detector')).toEqual(expected);
      });
    }
  });
}
