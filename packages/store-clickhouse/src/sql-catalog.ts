import { createChainBuilder, emptyHead } from '@phi-audit/ledger';
import type { AccessEvent } from '@phi-audit/schema';
import { rowFromRecord } from './access-log-row.js';
import { DEFAULT_DATABASE } from './connection-options.js';
import { MIGRATIONS } from './migrations.js';
import { rowFromCheckpoint, rowFromTile } from './merkle-rows.js';
import { insertSettingsFor, lookupSettingsFor, READ_SETTINGS, SCAN_SETTINGS } from './query-settings.js';
import { quoteString } from './sql-literal.js';
import * as sql from './statements.js';
import * as detection from './detection-statements.js';
import * as review from './alert-review-statements.js';
import * as cases from './case-statements.js';

export interface CatalogStatement {
  name: string;
  sql: string;
}

/** Settings the users.d profiles set: they must exist on the current engine too. */
const PROFILE_SETTINGS = ['readonly', 'allow_ddl'];

const SAMPLE_EVENT = {
  eventId: "evt-1 'quoted' \\ {x:String}",
  tenant: 'clinic-a',
  occurredAt: 1_714_573_800_123,
  receivedAt: 1_714_573_801_000,
  source: { system: 'ehr', site: 'main' },
  actor: { userId: "dr.o'neil", role: 'physician', workstation: 'ws-7' },
  patient: { id: 'MRN-\u00e9\u{1F600}-1' },
  action: 'view',
  resource: { type: 'Encounter', id: 'enc-9' },
  outcome: 'success',
} satisfies AccessEvent;

/**
 * Every DDL and query text the store issues, in the order a fresh deployment runs them,
 * rendered with sample values for database `phi_audit`: the migrations, the migration
 * bookkeeping, a check that every per-query and profile setting exists, append's
 * INSERT with one JSONEachRow row after it, then heads, head, scan, recent keys, logs, counts, the
 * console queries, the Merkle tile, checkpoint and record-lookup inserts and queries, and the detection
 * store's inserts and queries (reference data, alerts). deploy/chdb/check-sql.py runs it on the current engine.
 */
export function sqlCatalog(): CatalogStatement[] {
  const db = DEFAULT_DATABASE;
  const origin = 'phi-audit/access-events/0';
  const record = createChainBuilder(emptyHead(origin)).append({ sourceOffset: 42, event: SAMPLE_EVENT });
  const settings = [
    ...new Set([
      ...Object.keys(insertSettingsFor('99.1')),
      ...Object.keys(SCAN_SETTINGS),
      ...Object.keys(READ_SETTINGS),
      ...Object.keys(lookupSettingsFor(0)),
      ...PROFILE_SETTINGS,
    ]),
  ];

  const out: CatalogStatement[] = [
    { name: 'create database', sql: sql.createDatabase(db) },
    { name: 'create schema_migrations', sql: sql.createSchemaMigrationsTable(db) },
    { name: 'select applied migrations', sql: sql.selectAppliedMigrations(db) },
  ];
  for (const m of MIGRATIONS) {
    m.statements(db).forEach((statement, i) =>
      out.push({ name: `migration ${m.version} (${m.name}) statement ${i + 1}`, sql: statement }),
    );
    out.push({ name: `record migration ${m.version}`, sql: sql.insertAppliedMigration(db, m.version, m.name) });
  }
  const tileRows = [
    rowFromTile({ origin, level: 0, index: 0, hashes: Buffer.from(record.leafHash, 'hex') }, 0),
    rowFromTile({ origin, level: 1, index: Number.MAX_SAFE_INTEGER, hashes: Buffer.alloc(2 * 32, 0xab) }, 1),
  ];
  const tileIds = [
    { level: 0, index: 0 },
    { level: 0, index: 3 },
    { level: 1, index: Number.MAX_SAFE_INTEGER },
  ];
  const checkpointRow = rowFromCheckpoint({
    origin,
    size: 1,
    rootHex: record.leafHash,
    note: `${origin}\n1\nq83vEjRWeJA=\n\n\u2014 example.org/ckpt AAAA\n`,
    signedAt: 1_714_573_802_000,
  });
  const sample = { tenant: SAMPLE_EVENT.tenant, from: 1_714_000_000_000, to: 1_715_000_000_000, limit: 100 };
  out.push(
    {
      name: 'settings sent per query and set by the users.d profiles exist',
      sql: `SELECT throwIf(count() != ${settings.length}) FROM system.settings WHERE name IN (${settings.map(quoteString).join(', ')})`,
    },
    {
      name: 'append (INSERT … FORMAT JSONEachRow + one row)',
      sql: `${sql.insertAccessLogQuery(db)}\n${JSON.stringify(rowFromRecord(record))}`,
    },
    { name: 'heads', sql: sql.selectHeads(db) },
    { name: 'head', sql: sql.selectHead(db, origin) },
    { name: 'scan', sql: sql.selectScan(db, origin, 0) },
    { name: 'recent keys', sql: sql.selectRecentKeys(db, origin, 100_000) },
    { name: 'logs', sql: sql.selectLogs(db) },
    { name: 'counts by tenant', sql: sql.selectCountsByTenant(db) },
    {
      name: 'accesses by patient',
      sql: sql.selectAccessesByPatient(db, { ...sample, patientId: SAMPLE_EVENT.patient.id }),
    },
    { name: 'accesses by user', sql: sql.selectAccessesByUser(db, { ...sample, userId: SAMPLE_EVENT.actor.userId }) },
    { name: 'access volume', sql: sql.selectAccessVolume(db, { ...sample, width: 3_600_000 }) },
    {
      name: 'put tiles (INSERT … FORMAT JSONEachRow + two rows)',
      sql: `${sql.insertMerkleTilesQuery(db)}\n${tileRows.map((r) => JSON.stringify(r)).join('\n')}`,
    },
    { name: 'stored tile widths', sql: sql.selectTileWidths(db, origin, tileIds) },
    { name: 'read tiles', sql: sql.selectTiles(db, origin, tileIds) },
    { name: 'tile coverage', sql: sql.selectTileCoverage(db, origin) },
    {
      name: 'put checkpoint (INSERT … FORMAT JSONEachRow + one row)',
      sql: `${sql.insertCheckpointQuery(db)}\n${JSON.stringify(checkpointRow)}`,
    },
    { name: 'checkpoints', sql: sql.selectCheckpoints(db, origin) },
    { name: 'latest checkpoint', sql: sql.selectLatestCheckpoint(db, origin) },
    { name: 'checkpointed logs', sql: sql.selectCheckpointedLogs(db) },
    { name: 'records at indexes', sql: sql.selectRecordsAt(db, origin, [0, 7, Number.MAX_SAFE_INTEGER]) },
    {
      name: 'records by event id',
      sql: sql.selectRecordsByEventId(db, SAMPLE_EVENT.tenant, [SAMPLE_EVENT.eventId, 'evt-2']),
    },
    ...detectionStatements(db),
    { name: 'ping', sql: sql.SELECT_ONE },
    { name: 'server version', sql: sql.SELECT_VERSION },
  );
  return out;
}

/** The detection store's inserts (with sample rows) and queries, every optional filter set. */
function detectionStatements(db: string): CatalogStatement[] {
  const tenant = SAMPLE_EVENT.tenant;
  const recordRow = {
    tenant,
    kind: 'patients',
    record_key: SAMPLE_EVENT.patient.id,
    version: 1,
    record_json: JSON.stringify({ id: SAMPLE_EVENT.patient.id, givenName: "O'Neil" }),
  };
  const loadRow = { tenant, version: 1, kind: 'patients', record_count: 1, source: 'import:x.csv', loaded_at: 1 };
  const alertRow = {
    tenant,
    alert_id: 'a'.repeat(64),
    day: '2026-03-10',
    rule_id: 'vip',
    user_id: SAMPLE_EVENT.actor.userId,
    patient_id: SAMPLE_EVENT.patient.id,
    severity_rank: 2,
    risk_score: 80,
    first_event_at: 1,
    last_event_at: 2,
    alert_json: '{}',
    revision: 1,
    updated_at: 3,
  };
  const filter = {
    tenant,
    fromDay: '2026-03-01',
    toDay: '2026-03-31',
    ruleId: 'vip',
    userId: SAMPLE_EVENT.actor.userId,
    patientId: SAMPLE_EVENT.patient.id,
    minSeverityRank: 1,
    limit: 1000,
  };
  return [
    {
      name: 'put reference records (INSERT … FORMAT JSONEachRow + one row)',
      sql: `${detection.insertReferenceRecordsQuery(db)}\n${JSON.stringify(recordRow)}`,
    },
    {
      name: 'put reference load (INSERT … FORMAT JSONEachRow + one row)',
      sql: `${detection.insertReferenceLoadQuery(db)}\n${JSON.stringify(loadRow)}`,
    },
    { name: 'max reference version', sql: detection.selectMaxReferenceVersion(db, tenant) },
    { name: 'reference version as of', sql: detection.selectReferenceVersionAsOf(db, tenant, 1) },
    { name: 'reference records as of', sql: detection.selectReferenceRecordsAsOf(db, tenant, 1) },
    { name: 'reference versions', sql: detection.selectReferenceVersions(db) },
    { name: 'reference loads', sql: detection.selectReferenceLoads(db, tenant) },
    {
      name: 'upsert alerts (INSERT … FORMAT JSONEachRow + one row)',
      sql: `${detection.insertAlertsQuery(db)}\n${JSON.stringify(alertRow)}`,
    },
    {
      name: 'stored alert rows',
      sql: detection.selectAlertRows(db, new Map([[tenant, [alertRow.alert_id, 'b'.repeat(64)]]])),
    },
    { name: 'alert', sql: detection.selectAlert(db, tenant, alertRow.alert_id) },
    { name: 'alert page, every filter', sql: detection.selectAlertPage(db, filter) },
    { name: 'alert page, tenant only', sql: detection.selectAlertPage(db, { tenant, limit: 10 }) },
    ...reviewStatements(db, alertRow.alert_id),
    ...caseStatements(db),
  ];
}

/** The case store's insert (one sample row) and queries. */
function caseStatements(db: string): CatalogStatement[] {
  const tenant = SAMPLE_EVENT.tenant;
  const caseId = '0b6f7c8e-5d1a-4c2b-9e3f-1a2b3c4d5e6f';
  const eventId = '7d9e1f20-3a4b-4c5d-8e6f-7a8b9c0d1e2f';
  const event = {
    tenant,
    caseId,
    eventId,
    at: 1_773_200_000_000,
    by: "o'neil",
    kind: 'note',
    text: "O'Neil \\ {x:String}",
  };
  const row = {
    tenant,
    case_id: caseId,
    event_id: eventId,
    at: event.at,
    by: event.by,
    kind: event.kind,
    body: JSON.stringify(event),
  };
  return [
    {
      name: 'append case events (INSERT … FORMAT JSONEachRow + one row)',
      sql: `${cases.insertCaseEventsQuery(db)}\n${JSON.stringify(row)}`,
    },
    {
      name: 'stored case keys',
      sql: cases.selectStoredCaseKeys(
        db,
        new Map([
          [tenant, { caseIds: new Set([caseId]), eventIds: new Set([eventId]) }],
          ['clinic-b', { caseIds: new Set([caseId]), eventIds: new Set([eventId, caseId]) }],
        ]),
      ),
    },
    { name: 'case events of a case', sql: cases.selectCaseEvents(db, tenant, caseId) },
    { name: 'case events of a tenant', sql: cases.selectTenantCaseEvents(db, tenant) },
  ];
}

/** The alert review's insert (one sample row) and queries, every optional filter set. */
function reviewStatements(db: string, alertId: string): CatalogStatement[] {
  const tenant = SAMPLE_EVENT.tenant;
  const ids = [alertId, 'b'.repeat(64)];
  const decisionRow = {
    tenant,
    alert_id: alertId,
    decided_at: 1_773_200_000_000,
    seq: 1,
    nonce: 2 ** 48 - 2,
    decision: 'escalated',
    reason: "O'Neil's chart \\ {x:String}\nline 2",
    decided_by: 'privacy.officer',
    case_id: 'case-1',
    stored_at: 1_773_200_000_001,
  };
  const filter = {
    tenant,
    statuses: ['open', 'escalated', 'false_positive'],
    fromDay: '2026-03-01',
    toDay: '2026-03-31',
    ruleId: 'vip',
    userId: SAMPLE_EVENT.actor.userId,
    patientId: SAMPLE_EVENT.patient.id,
    minSeverityRank: 1,
    alertIds: ids,
  };
  return [
    {
      name: 'decide (INSERT … FORMAT JSONEachRow + one row)',
      sql: `${review.insertDecisionsQuery(db)}\n${JSON.stringify(decisionRow)}`,
    },
    { name: 'known alert ids', sql: review.selectKnownAlertIds(db, tenant, ids) },
    { name: 'max decision seqs', sql: review.selectMaxDecisionSeqs(db, tenant, ids) },
    { name: 'decisions of an alert', sql: review.selectDecisions(db, tenant, alertId) },
    { name: 'latest decisions', sql: review.selectLatestDecisions(db, tenant, ids) },
    { name: 'review count, every filter', sql: review.countReview(db, filter) },
    {
      name: 'review page, every filter, by risk',
      sql: review.selectReviewPage(db, filter, { sort: 'risk', limit: 100, offset: 200 }),
    },
    {
      name: 'review page, open only, by day',
      sql: review.selectReviewPage(db, { tenant, statuses: ['open'] }, { sort: 'day', limit: 100, offset: 0 }),
    },
    {
      name: 'review page, decided only',
      sql: review.selectReviewPage(db, { tenant, statuses: ['appropriate'] }, { sort: 'risk', limit: 1, offset: 0 }),
    },
    {
      name: 'review page, only given alert ids, open only',
      sql: review.selectReviewPage(
        db,
        { tenant, alertIds: ids, statuses: ['open'] },
        { sort: 'risk', limit: ids.length, offset: 0 },
      ),
    },
    { name: 'review count, tenant only', sql: review.countReview(db, { tenant }) },
    {
      name: 'open alert summary',
      sql: review.selectOpenSummary(db, tenant, [1_700_086_400_000, 1_699_568_000_000, 1_697_408_000_000]),
    },
  ];
}
