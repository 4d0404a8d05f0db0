/**
 * Words and times as the console shows them: dates in the browser's own time zone with the zone
 * named, rule ids and decisions in plain words.
 */

const DATE_TIME = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  timeZoneName: 'short',
});
const DATE = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });

/** The browser's time zone, e.g. "Europe/Berlin". */
export const TIME_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

/** Epoch ms (or an ISO string) as a local date and time with its zone. */
export function dateTime(value: number | string): string {
  return DATE_TIME.format(typeof value === 'string' ? Date.parse(value) : value);
}

/** A calendar day `YYYY-MM-DD` (the clinic's local day of an alert) as a readable date. */
export function day(value: string): string {
  const [y, m, d] = value.split('-').map(Number);
  return y === undefined || m === undefined || d === undefined ? value : DATE.format(new Date(y, m - 1, d));
}

/** `YYYY-MM-DD` of a local date (for date inputs). */
export function isoDay(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** Epoch ms of local midnight of a `YYYY-MM-DD` day, plus `addDays`. */
export function localMidnight(value: string, addDays = 0): number {
  const [y, m, d] = value.split('-').map(Number);
  return new Date(y ?? 1970, (m ?? 1) - 1, (d ?? 1) + addDays).getTime();
}

const RULES: Record<string, string> = {
  'after-hours': 'After-hours access',
  'vip-confidential': 'VIP or confidential record',
  'bulk-read': 'Many records in a short time',
  'self-access': 'Looked at own record',
  family: 'Family member (same surname)',
  household: 'Same household (surname and address)',
  coworker: 'Record of a coworker',
  neighbour: 'Record of a neighbour',
  'deceased-patient': 'Record of a deceased patient',
  'inactive-user': 'Access by an inactive or terminated user',
  'no-treatment-relationship': 'No treatment relationship',
  'break-the-glass': 'Emergency ("break the glass") access',
  'peer-deviation': 'Unusual compared with peers',
};

/** A rule id in plain words (unknown ids shown as they are). */
export function ruleLabel(ruleId: string): string {
  return RULES[ruleId] ?? ruleId;
}
export const RULE_IDS = Object.keys(RULES);

export const STATUS_LABELS: Record<string, string> = {
  open: 'Needs review',
  appropriate: 'Appropriate',
  false_positive: 'False positive',
  escalated: 'Escalated',
};
export function statusLabel(status: string): string {
  return STATUS_LABELS[status] ?? status;
}

/** The decisions a reviewer can take, with what each means. */
export const DECISIONS = [
  ['appropriate', 'Appropriate: the access was part of the job'],
  ['false_positive', 'False positive: the alert was wrong'],
  ['escalated', 'Escalate: needs investigation'],
] as const;

export const SEVERITY_LABELS: Record<string, string> = {
  low: 'Low',
  medium: 'Medium',
  high: 'High',
  critical: 'Critical',
};

export const ACTIONS = ['view', 'create', 'update', 'delete', 'print', 'export', 'query', 'login', 'break_glass'];

/** "1 alert", "3 alerts". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
