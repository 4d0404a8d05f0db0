import type { AccessRow } from '../api-types.js';
import { h, notice, table } from '../dom.js';
import { dateTime } from '../format.js';

/** Accesses as a table: when, who (role, department, workstation), what, which patient, outcome. */
export function accessTable(rows: readonly AccessRow[], empty: string): HTMLElement {
  if (rows.length === 0) return notice('info', empty);
  return table(
    ['When', 'Staff member', 'Role', 'Department', 'Workstation', 'Action', 'Record', 'Patient', 'Outcome'],
    rows,
    (r) => [
      dateTime(r.occurredAt),
      r.userId,
      r.userRole ?? '',
      r.userDepartment ?? '',
      r.workstation ?? '',
      r.action,
      r.resourceType,
      r.patientId ?? '',
      r.outcome === 'success' ? 'OK' : h('strong', {}, r.outcome),
    ],
  );
}
