import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Role } from '@phi-audit/console-accounts';
import { createConsoleAuditTrail } from '@phi-audit/console-audit';
import type { AccessRow } from '@phi-audit/ledger';
import type { AccessEvent } from '@phi-audit/schema';
import { createSqliteLedgerStore, ledgerFileIn, type SqliteLedgerStore } from '@phi-audit/store-sqlite';
import { createRouteTestApp } from '../testing/route-test-app.js';
import { createSqliteLedgerAppender } from '../testing/sqlite-ledger-appender.js';
import { registerAccessReportRoutes, type AccessReport } from './access-report.js';
import { ACCESS_CSV_COLUMNS } from './search-csv.js';
import { registerSearchRoutes } from './search.js';

interface PageBody {
  items: AccessRow[];
  limit: number;
  next: string | null;
}

// Issue 6 items 5 and 6 (search, CSV export, patient access report) and item 8 (audit before
// disclose), against a real SQLite ledger; the console's own events go to the same ledger.
const A = 'clinic-a';
const B = 'clinic-b';
const T0 = Date.UTC(2026, 2, 10, 12); // 2026-03-10 12:00Z
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The console's clock: its own audit events fall after every window the tests query. */
const CONSOLE_NOW = T0 + 100 * DAY;
const WINDOW = `from=${T0 - 60 * DAY}&to=${T0 + 60 * DAY}`;

interface Spec {
  eventId: string;
  userId: string;
  patientId: string;
  at: number;
  action?: AccessEvent['action'];
  workstation?: string;
  role?: string;
  department?: string;
}

function ehr(tenant: string, s: Spec): AccessEvent {
  return {
    eventId: s.eventId,
    tenant,
    occurredAt: s.at,
    receivedAt: s.at + 1000,
    source: { system: 'ehr' },
    actor: {
      userId: s.userId,
      ...(s.role !== undefined ? { role: s.role } : {}),
      ...(s.department !== undefined ? { department: s.department } : {}),
      ...(s.workstation !== undefined ? { workstation: s.workstation } : {}),
    },
    patient: { id: s.patientId },
    action: s.action ?? 'view',
    resource: { type: 'Patient' },
    outcome: 'success',
  };
}

/** The CSV document's records, header first (csv-parse's default: arrays of strings). */
function csvRecords(body: string): string[][] {
  const records: string[][] = parse(body);
  return records;
}

const HYPERLINK = '=HYPERLINK("http://evil.example/?x","click")';
const doc = { role: 'physician', department: 'cardiology' };
const nurse = { role: 'nurse', department: 'icu' };

const A_SPECS: Spec[] = [
  { eventId: 'e-old', userId: 'dr-1', patientId: 'MRN-1', at: T0 - 30 * DAY, workstation: 'ws-1', ...doc },
  { eventId: 'e-1', userId: 'dr-1', patientId: 'MRN-1', at: T0, workstation: 'ws-1', ...doc },
  { eventId: 'e-2', userId: 'dr-1', patientId: 'MRN-1', at: T0 + HOUR, action: 'update', workstation: 'ws-1', ...doc },
  { eventId: 'e-3', userId: 'nurse-7', patientId: 'MRN-1', at: T0 + 2 * HOUR, workstation: 'ws-2', ...nurse },
  { eventId: HYPERLINK, userId: 'dr-1', patientId: 'MRN-1', at: T0 + 3 * HOUR, action: 'print', workstation: '+1' },
  { eventId: '-2', userId: 'nurse-7', patientId: 'MRN-1', at: T0 + 4 * HOUR, workstation: '@SUM(A1:A9)', ...nurse },
  { eventId: 'e-6', userId: 'dr-1', patientId: 'MRN-2', at: T0 + 5 * HOUR, workstation: 'ws-1', ...doc },
  { eventId: 'e-7', userId: 'dr-2', patientId: 'MRN-2', at: T0 + DAY, workstation: 'ws-3' },
];
const A_EVENTS = A_SPECS.map((s) => ehr(A, s));

// 450 reads of MRN-BIG by dr-3: 300 in one millisecond (more than one store batch), the rest a
// minute apart, one of them from workstation ws-rare.
const TIE = T0 + 20 * HOUR;
const BIG_EVENTS: AccessEvent[] = Array.from({ length: 450 }, (_, i) =>
  ehr(A, {
    eventId: `big-${String(i).padStart(3, '0')}`,
    userId: 'dr-3',
    patientId: 'MRN-BIG',
    at: i < 300 ? TIE : TIE - (i - 299) * 60_000,
    ...(i === 420 ? { workstation: 'ws-rare' } : {}),
  }),
);

const B_EVENTS: AccessEvent[] = [
  ehr(B, { eventId: 'b-secret', userId: 'dr-1', patientId: 'MRN-1', at: T0 + HOUR, workstation: 'ws-1' }),
];

describe('investigator search, CSV export and patient access report', () => {
  let dir: string;
  let ledger: SqliteLedgerStore;
  let app: FastifyInstance;
  let ledgerDown = false;

  /** The console's own access events of tenant A (newest first). */
  const consoleRows = (username = 'ivan'): Promise<AccessRow[]> =>
    ledger.accessesByUser({ tenant: A, userId: `console:${username}`, limit: 10_000 });
  const recordedSince = async (before: readonly AccessRow[], username?: string): Promise<AccessRow[]> => {
    const seen = new Set(before.map((r) => r.eventId));
    return (await consoleRows(username)).filter((r) => !seen.has(r.eventId));
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'phi-console-search-'));
    ledger = createSqliteLedgerStore({ file: ledgerFileIn(dir) });
    const appendEvents = createSqliteLedgerAppender(ledger);
    await appendEvents(A_EVENTS);
    await appendEvents(BIG_EVENTS);
    await appendEvents(B_EVENTS);
    const audit = createConsoleAuditTrail({
      publish: (events) => (ledgerDown ? Promise.reject(new Error('ledger down')) : appendEvents(events)),
      now: () => CONSOLE_NOW,
    });
    app = await createRouteTestApp({
      tenants: [A],
      defaultUser: 'ivan',
      register: (api) => {
        registerSearchRoutes(api, { ledger, audit });
        registerAccessReportRoutes(api, { ledger, audit, now: () => CONSOLE_NOW });
      },
    });
  });

  afterAll(async () => {
    await app.close();
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    ledgerDown = false;
  });

  const get = (url: string, role: Role = 'investigator') =>
    app.inject({ method: 'GET', url, headers: { 'x-test-role': role } });
  const search = async (query: string, tenant = A): Promise<PageBody> => {
    const res = await get(`/api/tenants/${tenant}/accesses?${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json<PageBody>();
  };
  const eventIds = (body: PageBody) => body.items.map((r) => r.eventId);

  describe('search', () => {
    it('finds a patient`s accesses newest first, only the tenant`s, and records the search first', async () => {
      const before = await consoleRows();
      const body = await search(`patient=MRN-1&${WINDOW}`);
      expect(eventIds(body)).toEqual(['-2', HYPERLINK, 'e-3', 'e-2', 'e-1', 'e-old']);
      expect(body.next).toBeNull();
      expect(body.items.every((r) => r.tenant === A)).toBe(true);
      expect(JSON.stringify(body)).not.toContain('b-secret');
      const rows = await recordedSince(before);
      expect(rows.map((r) => [r.action, r.resourceType, r.patientId])).toEqual([
        ['query', 'phi-audit.search', 'MRN-1'],
      ]);
      expect(rows[0]?.occurredAt).toBe(CONSOLE_NOW);
    });

    it('filters by user, time window, action and workstation', async () => {
      expect(eventIds(await search(`user=nurse-7&${WINDOW}`))).toEqual(['-2', 'e-3']);
      expect(eventIds(await search(`patient=MRN-1&user=dr-1&${WINDOW}`))).toEqual([HYPERLINK, 'e-2', 'e-1', 'e-old']);
      // from inclusive, to exclusive; ISO and epoch ms alike.
      const window = `from=${new Date(T0).toISOString()}&to=${T0 + 3 * HOUR}`;
      expect(eventIds(await search(`patient=MRN-1&${window}`))).toEqual(['e-3', 'e-2', 'e-1']);
      expect(eventIds(await search(`patient=MRN-1&action=update&${WINDOW}`))).toEqual(['e-2']);
      expect(eventIds(await search(`user=dr-1&workstation=ws-1&${WINDOW}`))).toEqual(['e-6', 'e-2', 'e-1', 'e-old']);
      expect(eventIds(await search(`user=dr-1&workstation=ws-1&action=view&from=2026-03-10&to=${T0 + DAY}`))).toEqual([
        'e-6',
        'e-1',
      ]);
    });

    it('records the patients a user search disclosed', async () => {
      const before = await consoleRows();
      await search(`user=dr-1&${WINDOW}`);
      const rows = await recordedSince(before);
      expect(rows.map((r) => r.patientId).sort()).toEqual(['MRN-1', 'MRN-2']);
      expect(rows.every((r) => r.action === 'query')).toBe(true);
    });

    it('pages with a cursor through 300 accesses in one millisecond, each once and in order', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: PageBody = await search(
          `patient=MRN-BIG&limit=100&${WINDOW}${cursor !== null ? `&cursor=${cursor}` : ''}`,
        );
        expect(page.items.length).toBeLessThanOrEqual(100);
        seen.push(...eventIds(page));
        cursor = page.next;
        pages++;
      } while (cursor !== null && pages < 20);
      expect(seen).toEqual(BIG_EVENTS.map((e) => e.eventId));
      expect(pages).toBeGreaterThanOrEqual(5);
    });

    it('finds a rare workstation deep in a long history', async () => {
      expect(eventIds(await search(`patient=MRN-BIG&workstation=ws-rare&${WINDOW}`))).toEqual(['big-420']);
    });

    it('never returns another tenant`s accesses', async () => {
      const body = await search(`user=dr-1&${WINDOW}`);
      expect(eventIds(body)).not.toContain('b-secret');
      expect((await get(`/api/tenants/${B}/accesses?patient=MRN-BIG`, 'investigator')).json<PageBody>().items).toEqual(
        [],
      );
    });

    it('answers 400 naming the field for a bad query, recording nothing', async () => {
      const before = await consoleRows();
      const cases: [string, string][] = [
        [`${WINDOW}`, 'query.patient: patient or user is required'],
        [`patient=MRN-1&limit=501`, 'query.limit'],
        [`patient=MRN-1&limit=abc`, 'query.limit'],
        [`patient=MRN-1&from=yesterday`, 'query.from'],
        [`patient=MRN-1&to=2026-03-10T12:00:00`, 'query.to'],
        [`patient=MRN-1&from=${T0 + 1}&to=${T0}`, 'query.from'],
        [`patient=MRN-1&action=peek`, 'query.action'],
        [`patient=MRN-1&cursor=bm90LWEtY3Vyc29y`, 'query.cursor'],
        [`patient=MRN-1&sort=asc`, 'sort'],
      ];
      for (const [query, named] of cases) {
        const res = await get(`/api/tenants/${A}/accesses?${query}`);
        expect(res.statusCode, query).toBe(400);
        expect(res.json<{ error: { code: string; message: string } }>().error.code).toBe('CONSOLE_INVALID_REQUEST');
        expect(res.body, query).toContain(named);
      }
      expect(await recordedSince(before)).toEqual([]);
    });

    it('answers 503 and discloses nothing when the ledger does not acknowledge the search', async () => {
      ledgerDown = true;
      const res = await get(`/api/tenants/${A}/accesses?patient=MRN-1&${WINDOW}`);
      expect(res.statusCode).toBe(503);
      expect(res.body).not.toContain('e-1');
      expect(res.body).not.toContain('dr-1');
    });

    it('is not for auditors', async () => {
      expect((await get(`/api/tenants/${A}/accesses?patient=MRN-1`, 'auditor')).statusCode).toBe(403);
    });
  });

  describe('CSV export', () => {
    it('exports the rows with a header, escaping spreadsheet formulas, and records the export', async () => {
      const before = await consoleRows();
      const res = await get(`/api/tenants/${A}/accesses.csv?patient=MRN-1&${WINDOW}`);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(res.headers['content-disposition']).toBe('attachment; filename="accesses.csv"');
      const records = csvRecords(res.body);
      expect(records[0]).toEqual([...ACCESS_CSV_COLUMNS]);
      expect(records).toHaveLength(1 + 6);
      const col = (name: string) => ACCESS_CSV_COLUMNS.indexOf(name);
      const byId = new Map(records.slice(1).map((r) => [r[col('eventId')], r]));
      expect([...byId.keys()]).toEqual([`'-2`, `'${HYPERLINK}`, 'e-3', 'e-2', 'e-1', 'e-old']);
      expect(byId.get(`'${HYPERLINK}`)?.[col('workstation')]).toBe(`'+1`);
      expect(byId.get(`'-2`)?.[col('workstation')]).toBe(`'@SUM(A1:A9)`);
      expect(byId.get('e-1')?.[col('occurredAt')]).toBe(new Date(T0).toISOString());
      expect(byId.get('e-1')?.[col('userDepartment')]).toBe('cardiology');
      // No cell of the document starts a formula.
      expect(records.flat().filter((c) => /^[=+\-@\t\r]/.test(c))).toEqual([]);
      const rows = await recordedSince(before);
      expect(rows.map((r) => [r.action, r.patientId])).toEqual([['export', 'MRN-1']]);
    });

    it('exports a long history in one file and names the next cursor when capped', async () => {
      const all = await get(`/api/tenants/${A}/accesses.csv?patient=MRN-BIG&${WINDOW}`);
      expect(csvRecords(all.body).length).toBe(1 + 450);
      expect(all.headers['x-next-cursor']).toBeUndefined();
      const capped = await get(`/api/tenants/${A}/accesses.csv?patient=MRN-BIG&limit=10&${WINDOW}`);
      expect(csvRecords(capped.body).length).toBe(1 + 10);
      expect(typeof capped.headers['x-next-cursor']).toBe('string');
      const rest = await get(
        `/api/tenants/${A}/accesses.csv?patient=MRN-BIG&limit=50000&${WINDOW}&cursor=${String(capped.headers['x-next-cursor'])}`,
      );
      expect(csvRecords(rest.body).length).toBe(1 + 440);
    });

    it('answers 503 with no CSV when the ledger does not acknowledge the export', async () => {
      ledgerDown = true;
      const res = await get(`/api/tenants/${A}/accesses.csv?patient=MRN-1&${WINDOW}`);
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toContain('application/json');
      expect(res.body).not.toContain('e-1');
    });

    it('rejects a limit above 50,000', async () => {
      const res = await get(`/api/tenants/${A}/accesses.csv?patient=MRN-1&limit=50001`);
      expect(res.statusCode).toBe(400);
      expect(res.body).toContain('query.limit');
    });
  });

  describe('patient access report', () => {
    const report = (query: string, role: Role = 'privacy_officer') =>
      get(`/api/tenants/${A}/patients/MRN-1/access-report?${query}`, role);

    it('groups the period`s accesses by user with role, department and action counts', async () => {
      const before = await consoleRows('ivan');
      const res = await report(`from=${T0}&to=${T0 + DAY}`);
      expect(res.statusCode).toBe(200);
      const body = res.json<AccessReport>();
      expect(body).toEqual({
        patientId: 'MRN-1',
        from: T0,
        to: T0 + DAY,
        totalAccesses: 5,
        truncated: false,
        users: [
          {
            userId: 'nurse-7',
            role: 'nurse',
            department: 'icu',
            accesses: 2,
            first: T0 + 2 * HOUR,
            last: T0 + 4 * HOUR,
            actions: { view: 2 },
          },
          {
            userId: 'dr-1',
            role: 'physician',
            department: 'cardiology',
            accesses: 3,
            first: T0,
            last: T0 + 3 * HOUR,
            actions: { view: 1, update: 1, print: 1 },
          },
        ],
      });
      const rows = await recordedSince(before);
      expect(rows.map((r) => [r.action, r.patientId, r.resourceType])).toEqual([
        ['query', 'MRN-1', 'phi-audit.patient-access-report'],
      ]);
    });

    it('defaults to the six years up to now, which includes the console`s own look-ups', async () => {
      const body = (await report('')).json<AccessReport>();
      expect(body.to).toBe(CONSOLE_NOW + 1);
      expect(body.users.map((u) => u.userId)).toContain('console:ivan');
      expect(body.users.find((u) => u.userId === 'dr-1')?.accesses).toBe(4);
      expect(JSON.stringify(body)).not.toContain('b-secret');
    });

    it('prints as escaped HTML', async () => {
      const res = await report(`from=${T0}&to=${T0 + DAY}&format=html`);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body).toContain('<td>nurse-7</td><td>nurse</td><td>icu</td><td>2</td>');
      expect(res.headers['content-security-policy']).toBe("default-src 'none'; style-src 'unsafe-inline'");
    });

    it('is for privacy officers and admins; 503 and nothing disclosed when the ledger is down', async () => {
      expect((await report('', 'investigator')).statusCode).toBe(403);
      expect((await report('', 'admin')).statusCode).toBe(200);
      ledgerDown = true;
      const res = await report(`from=${T0}&to=${T0 + DAY}`);
      expect(res.statusCode).toBe(503);
      expect(res.body).not.toContain('nurse-7');
    });

    it('answers 400 naming the field', async () => {
      const res = await report('from=soon');
      expect(res.statusCode).toBe(400);
      expect(res.body).toContain('query.from');
    });
  });
});
