import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { SEVERITIES, type Alert, type AlertQuery, type DetectionStore, type Severity } from '@phi-audit/rules';
import { createClickHouseDetectionStore } from '@phi-audit/store-clickhouse';
import { createSqliteDetectionStore, detectionFileIn } from '@phi-audit/store-sqlite';
import { resolveVerifyTarget } from './verify.js';

/** Exit codes of `phi-audit alerts`. */
export const ALERTS_EXIT = { ok: 0, error: 2 } as const;

export interface AlertsCommandOptions {
  tenant: string;
  data?: string;
  clickhouse?: string;
  database?: string;
  from?: string;
  to?: string;
  rule?: string;
  user?: string;
  patient?: string;
  minSeverity?: string;
  limit?: string;
  json?: boolean;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The store query the options ask for, or the first usage problem. */
export function alertQueryOf(options: AlertsCommandOptions): AlertQuery | string {
  const query: AlertQuery = { tenant: options.tenant };
  for (const [flag, value] of [
    ['--from', options.from],
    ['--to', options.to],
  ] as const) {
    if (value !== undefined && !DAY.test(value)) return `${flag} must be a day, YYYY-MM-DD`;
  }
  if (options.from !== undefined) query.fromDay = options.from;
  if (options.to !== undefined) query.toDay = options.to;
  if (options.rule !== undefined) query.ruleId = options.rule;
  if (options.user !== undefined) query.userId = options.user;
  if (options.patient !== undefined) query.patientId = options.patient;
  if (options.minSeverity !== undefined) {
    if (!(SEVERITIES as readonly string[]).includes(options.minSeverity)) {
      return `--min-severity must be one of ${SEVERITIES.join(', ')}`;
    }
    query.minSeverity = options.minSeverity as Severity;
  }
  if (options.limit !== undefined) {
    const limit = Number(options.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
      return '--limit must be a whole number from 1 to 10000';
    query.limit = limit;
  }
  return query;
}

/** One alert as a block of text: the facts an officer triages by, then the explanation and evidence ids. */
export function formatAlert(a: Alert): string {
  const who = a.patientId === undefined ? `user ${a.userId}` : `user ${a.userId}, patient ${a.patientId}`;
  const evidence = a.evidence.map((e) => `${e.source}/${e.eventId}`).join(', ');
  const more = a.truncated ? ' (more events than shown)' : '';
  return (
    `${a.day}  ${a.severity.padEnd(8)} risk ${String(a.riskScore).padStart(3)}  ${a.ruleId}  ${who}\n` +
    `  ${a.explanation}\n` +
    `  evidence (${a.evidence.length}${more}): ${evidence}\n` +
    `  alert ${a.alertId}\n`
  );
}

interface AlertsIo {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

/** Opens the detection store the options point at (embedded data dir or ClickHouse), lists, closes. */
export async function runAlertsCommand(options: AlertsCommandOptions, io: AlertsIo): Promise<number> {
  const query = alertQueryOf(options);
  if (typeof query === 'string') {
    io.err.write(`phi-audit alerts: ${query}\n`);
    return ALERTS_EXIT.error;
  }
  const target = resolveVerifyTarget({
    data: options.data,
    clickhouse: options.clickhouse,
    database: options.database,
    env: io.env,
    exists: existsSync,
  });
  if (target.kind === 'usage') {
    io.err.write(`phi-audit alerts: ${target.message.replace('no ledger to verify', 'no ledger to read alerts of')}\n`);
    return ALERTS_EXIT.error;
  }
  let store: DetectionStore;
  try {
    if (target.kind === 'data') {
      const file = detectionFileIn(target.dir);
      if (!existsSync(file)) {
        io.err.write(`phi-audit alerts: no detection data at ${file} (has \`phi-audit start\` run there?)\n`);
        return ALERTS_EXIT.error;
      }
      store = createSqliteDetectionStore({ file });
    } else {
      const database = options.database ?? io.env.CLICKHOUSE_DATABASE;
      store = createClickHouseDetectionStore({ url: target.url, ...(database !== undefined ? { database } : {}) });
    }
  } catch (e) {
    io.err.write(`phi-audit alerts: ${(e as Error).message}\n`);
    return ALERTS_EXIT.error;
  }
  try {
    const alerts = await store.alerts(query);
    if (options.json === true) {
      for (const a of alerts) io.out.write(`${JSON.stringify(a)}\n`);
    } else {
      for (const a of alerts) io.out.write(`${formatAlert(a)}\n`);
      io.err.write(`${alerts.length} alert${alerts.length === 1 ? '' : 's'}\n`);
    }
    return ALERTS_EXIT.ok;
  } catch (e) {
    io.err.write(`phi-audit alerts: ${(e as Error).message}\n`);
    return ALERTS_EXIT.error;
  } finally {
    await store.close();
  }
}

/** `phi-audit alerts --tenant T [--data DIR | --clickhouse URL] [filters] [--json]`. */
export function registerAlertsCommand(program: Command): void {
  program
    .command('alerts')
    .description(
      "list a tenant's alerts (newest day first, then highest risk) with their explanation and evidence event ids",
    )
    .requiredOption('--tenant <tenant>', 'the tenant whose alerts to list')
    .option('--data <dir>', 'embedded data directory (default $PHI_AUDIT_DATA_DIR, or ./data when it holds a ledger)')
    .option('--clickhouse <url>', 'cluster mode: ClickHouse URL (default $CLICKHOUSE_URL); a reader account suffices')
    .option('--database <name>', 'ClickHouse database, default $CLICKHOUSE_DATABASE or phi_audit')
    .option('--from <day>', 'first local day, YYYY-MM-DD')
    .option('--to <day>', 'last local day, YYYY-MM-DD')
    .option('--rule <id>', 'only this rule (e.g. family, bulk-read)')
    .option('--user <userId>', 'only alerts about this workforce user')
    .option('--patient <patientId>', 'only alerts about this patient')
    .option('--min-severity <severity>', `one of ${SEVERITIES.join(', ')}`)
    .option('--limit <n>', 'at most this many (default 1000, at most 10000)')
    .option('--json', 'one JSON alert per line, evidence included')
    .action(async (options: AlertsCommandOptions) => {
      process.exitCode = await runAlertsCommand(options, {
        out: process.stdout,
        err: process.stderr,
        env: process.env,
      });
    });
}
