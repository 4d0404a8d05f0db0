import { get, queryString, tenantPath } from '../api.js';
import type { AccessReport } from '../api-types.js';
import { field, h, notice, table, replace } from '../dom.js';
import { dateTime, localMidnight, plural } from '../format.js';
import type { Page, PageContext } from '../page.js';
import { CAN } from '../session.js';

/**
 * The patient access report: everyone who opened one patient's record in a period, by staff
 * member with role and department, for answering "who looked at my record?". Printable.
 */

function reportForm(ctx: PageContext): HTMLFormElement {
  const q = ctx.query;
  const input = (name: string, attrs: Record<string, string> = {}) =>
    h('input', { name, value: q.get(name) ?? '', ...attrs });
  const form = h(
    'form',
    { class: 'filters no-print', 'aria-label': 'Patient access report' },
    field('Patient id', input('patient', { required: 'required' })),
    field('From day', input('from', { type: 'date' }), 'Empty: six years back'),
    field('To day (included)', input('to', { type: 'date' }), 'Empty: today'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Make report')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const next: Record<string, string> = {};
    for (const name of ['patient', 'from', 'to']) {
      const value = data.get(name);
      if (typeof value === 'string' && value.trim() !== '') next[name] = value.trim();
    }
    ctx.navigate('/report', next);
  });
  return form;
}

async function render(root: HTMLElement, ctx: PageContext): Promise<void> {
  const q = ctx.query;
  const results = h('div', { class: 'results' });
  root.append(
    h('h1', { class: 'no-print' }, 'Patient access report'),
    h(
      'p',
      { class: 'muted no-print' },
      'For a patient who asks who looked at their record: every staff member who accessed it in the period, with their role and department.',
    ),
    reportForm(ctx),
    results,
  );
  const patient = q.get('patient');
  if (patient === null || patient === '') {
    results.append(notice('info', 'Enter the patient id and press Make report.'));
    return;
  }
  results.append(notice('info', 'Making the report…'));
  const from = q.get('from');
  const to = q.get('to');
  const period = {
    from: from ? localMidnight(from) : undefined,
    to: to ? localMidnight(to, 1) : undefined,
  };
  const path = tenantPath(ctx.tenant, `/patients/${encodeURIComponent(patient)}/access-report`);
  const report = await get<AccessReport>(path, period);
  const print = h('button', { type: 'button', class: 'no-print' }, 'Print');
  print.addEventListener('click', () => window.print());
  const printable = h(
    'a',
    { href: path + queryString({ ...period, format: 'html' }), target: '_blank', rel: 'noopener', class: 'no-print' },
    'Plain printable version',
  );
  replace(
    results,
    h('h2', {}, `Who accessed the record of patient ${report.patientId}`),
    h(
      'p',
      {},
      `From ${dateTime(report.from)} until ${dateTime(report.to)}: ${plural(report.totalAccesses, 'access', 'accesses')} by ${plural(report.users.length, 'staff member')}.`,
    ),
    report.truncated ? notice('error', 'The period has too many accesses: only the most recent are counted.') : null,
    report.users.length === 0
      ? notice('info', 'Nobody accessed this record in the period. Check the patient id, or choose a longer period.')
      : table(
          ['Staff member', 'Role', 'Department', 'Accesses', 'First', 'Last', 'What they did'],
          report.users,
          (u) => [
            u.userId,
            u.role || '—',
            u.department || '—',
            u.accesses,
            dateTime(u.first),
            dateTime(u.last),
            Object.entries(u.actions)
              .sort(([a], [b]) => (a < b ? -1 : 1))
              .map(([action, n]) => `${action} ×${n}`)
              .join(', '),
          ],
        ),
    h('div', { class: 'actions no-print' }, print, ' ', printable),
  );
}

export const accessReportPage: Page = { title: 'Patient access report', allowed: CAN.report, render };
