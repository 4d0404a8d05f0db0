import type { AccessReport } from './access-report.js';

/**
 * The patient access report as a minimal printable HTML page. Every value is escaped: user ids,
 * roles and departments come from ingested events and may hold markup.
 */

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text escaped for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The report as a self-contained HTML document (no scripts, no external resources). */
export function accessReportHtml(report: AccessReport): string {
  const e = escapeHtml;
  const rows = report.users
    .map((u) => {
      const actions = Object.entries(u.actions)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([action, n]) => `${e(action)}: ${n}`)
        .join(', ');
      return `<tr><td>${e(u.userId)}</td><td>${e(u.role)}</td><td>${e(u.department)}</td><td>${u.accesses}</td><td>${iso(u.first)}</td><td>${iso(u.last)}</td><td>${actions}</td></tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Access report</title>
<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #999;padding:4px 8px;text-align:left}</style>
</head><body>
<h1>Access report for patient ${e(report.patientId)}</h1>
<p>Period: ${iso(report.from)} to ${iso(report.to)} (UTC). Accesses: ${report.totalAccesses}${report.truncated ? ' (truncated: only the most recent are counted)' : ''}.</p>
<table><thead><tr><th>User</th><th>Role</th><th>Department</th><th>Accesses</th><th>First</th><th>Last</th><th>Actions</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}
