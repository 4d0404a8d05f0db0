import type { LedgerStatus, LogStatus } from '../case-api-types.js';
import { h, notice, table } from '../dom.js';
import { dateTime } from '../format.js';

/**
 * The ledger's verification status for the dashboard: per log, its size, the latest signed
 * checkpoint, whether the signature verifies and the stored tiles still lead to the signed root,
 * and how many records wait for the next checkpoint. OK only when every check passes.
 */

export function logOk(log: LogStatus): boolean {
  return log.signatureValid && log.rootMatchesTiles !== false && log.problems.length === 0;
}

function badge(ok: boolean): HTMLElement {
  return h(
    'span',
    { class: `ledger-badge ${ok ? 'ledger-ok' : 'ledger-problem'}`, 'data-ledger': ok ? 'ok' : 'problem' },
    ok ? 'OK' : 'PROBLEM',
  );
}

const yesNo = (v: boolean | null, none = 'no checkpoint') => (v === null ? none : v ? 'Yes' : 'NO');

/** The status of every log of the tenant, with one badge for them all. */
export function ledgerStatusPanel(status: LedgerStatus): { element: HTMLElement; ok: boolean } {
  const ok = status.logs.length > 0 && status.logs.every(logOk);
  if (status.logs.length === 0) {
    return { ok, element: notice('info', 'No ledger logs hold records of this practice yet.') };
  }
  const rows = table(
    ['Log', 'Records', 'Latest checkpoint', 'Signature valid', 'Root matches tiles', 'Not yet checkpointed', 'Status'],
    status.logs,
    (log) => [
      log.origin,
      log.size.toLocaleString(),
      log.checkpoint === null
        ? 'none yet'
        : `${log.checkpoint.size.toLocaleString()} records, signed ${dateTime(log.checkpoint.timestamp)}${log.checkpoint.keyName ? ` by ${log.checkpoint.keyName}` : ''}`,
      yesNo(log.signatureValid),
      yesNo(log.rootMatchesTiles),
      log.uncheckpointed.toLocaleString(),
      h('div', {}, badge(logOk(log)), ...log.problems.map((p) => h('div', { class: 'ledger-problem-text' }, p))),
    ],
  );
  rows.classList.add('ledger-status');
  const keys =
    status.verifierKeys.length === 0
      ? 'No verifier key is configured, so no signature can be checked.'
      : `Signatures checked with: ${status.verifierKeys.join(', ')}.`;
  return {
    ok,
    element: h('div', {}, rows, h('p', { class: 'muted' }, keys, ` Checked ${dateTime(status.logs[0]!.checkedAt)}.`)),
  };
}

export { badge as ledgerBadge };
