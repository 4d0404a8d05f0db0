import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from './migrations.js';
import { sqlCatalog } from './sql-catalog.js';

describe('sqlCatalog', () => {
  it('lists the migrations in order before the inserts and queries, with unique names', () => {
    const catalog = sqlCatalog();
    const names = catalog.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    const ddl = MIGRATIONS.flatMap((m) => m.statements('phi_audit'));
    const positions = ddl.map((sql) => catalog.findIndex((s) => s.sql === sql));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    const insert = catalog.findIndex((s) => s.sql.startsWith('INSERT INTO phi_audit.access_log ('));
    expect(insert).toBeGreaterThan(Math.max(...positions));
    expect(catalog[insert]!.sql).toMatch(/FORMAT JSONEachRow\n\{.*\}$/);
    for (const table of [
      'merkle_tiles',
      'checkpoints',
      'reference_records',
      'reference_loads',
      'alerts',
      'alert_decisions',
      'case_events',
    ]) {
      const at = catalog.findIndex((s) => s.sql.startsWith(`INSERT INTO phi_audit.${table} (`));
      expect(at, table).toBeGreaterThan(Math.max(...positions));
      expect(catalog[at]!.sql, table).toMatch(/FORMAT JSONEachRow(\n\{.*\})+$/);
    }
    for (const name of [
      'heads',
      'head',
      'scan',
      'recent keys',
      'logs',
      'counts by tenant',
      'accesses by patient',
      'accesses by user',
      'access volume',
      'read tiles',
      'tile coverage',
      'checkpoints',
      'latest checkpoint',
      'checkpointed logs',
      'records at indexes',
      'records by event id',
      'max reference version',
      'reference version as of',
      'reference records as of',
      'reference versions',
      'reference loads',
      'stored alert rows',
      'alert',
      'alert page, every filter',
      'alert page, tenant only',
      'known alert ids',
      'max decision seqs',
      'decisions of an alert',
      'latest decisions',
      'review count, every filter',
      'review page, every filter, by risk',
      'review page, open only, by day',
      'open alert summary',
      'stored case keys',
      'case events of a case',
      'case events of a tenant',
    ]) {
      expect(names).toContain(name);
    }
  });
});
