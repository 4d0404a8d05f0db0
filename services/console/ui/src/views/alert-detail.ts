import { get, post, tenantPath } from '../api.js';
import type { AlertDetail } from '../api-types.js';
import { h, notice, table, replace } from '../dom.js';
import { dateTime, day, plural, ruleLabel, SEVERITY_LABELS, statusLabel } from '../format.js';
import type { Page, PageContext } from '../page.js';
import { CAN } from '../session.js';
import { accessTable } from './access-table.js';
import { decisionForm } from './decision-form.js';
import { evidenceExportButton } from './evidence-export.js';
import { openCaseForm } from './open-case-form.js';

function facts(rows: readonly (readonly [string, string])[]): HTMLDListElement {
  const dl = h('dl', { class: 'facts' });
  for (const [term, value] of rows) dl.append(h('dt', {}, term), h('dd', {}, value));
  return dl;
}

async function render(root: HTMLElement, ctx: PageContext, flash?: string): Promise<void> {
  const alertId = ctx.params.id ?? '';
  const back = h('a', { href: '#/alerts', class: 'back' }, '← Back to alerts');
  root.append(back, notice('info', 'Loading the alert…'));
  const d = await get<AlertDetail>(tenantPath(ctx.tenant, `/alerts/${encodeURIComponent(alertId)}`));
  const { alert } = d;
  const heading = h(
    'div',
    { class: 'alert-heading' },
    h('h1', {}, ruleLabel(alert.ruleId)),
    h('span', { class: `severity severity-${alert.severity}` }, `${SEVERITY_LABELS[alert.severity]} severity`),
    h('span', { class: 'risk' }, `Risk ${alert.riskScore} of 100`),
    h('span', { class: `status status-${d.status}`, 'data-alert-status': d.status }, statusLabel(d.status)),
  );

  const decide = CAN.decide(ctx.me.role)
    ? decisionForm({
        legend: d.status === 'open' ? 'Your decision' : 'Change the decision',
        submitLabel: 'Record decision',
        onSubmit: async (decision, reason) => {
          await post(tenantPath(ctx.tenant, `/alerts/${encodeURIComponent(alertId)}/decisions`), { decision, reason });
          root.replaceChildren();
          await render(root, ctx, `Recorded "${statusLabel(decision)}".`);
        },
      }).form
    : null;

  const history =
    d.decisions.length === 0
      ? notice('info', 'No decision yet.')
      : table(['When', 'Who', 'Decision', 'Reason'], [...d.decisions].reverse(), (x) => [
          dateTime(x.decidedAt),
          x.decidedBy,
          statusLabel(x.decision),
          x.reason,
        ]);

  const evidence =
    d.evidence.length === 0
      ? notice('info', 'The events behind this alert are not in the log.')
      : table(
          ['When', 'Staff member', 'Role', 'Department', 'Workstation', 'Action', 'Record', 'Patient', 'Outcome'],
          d.evidence,
          ({ event: e, columnMismatch }) => [
            dateTime(e.occurredAt),
            e.actor.name ? `${e.actor.userId} (${e.actor.name})` : e.actor.userId,
            e.actor.role ?? '',
            e.actor.department ?? '',
            e.actor.workstation ?? '',
            e.action,
            e.resource.type,
            e.patient?.id ?? '',
            columnMismatch ? h('strong', {}, `${e.outcome} (stored copy differs: ${columnMismatch})`) : e.outcome,
          ],
        );

  const windowText = `${dateTime(d.timelineWindow.from)} to ${dateTime(d.timelineWindow.to)}`;
  replace(
    root,
    back,
    flash ? notice('ok', flash) : null,
    heading,
    h('p', { class: 'explanation lead' }, alert.explanation),
    facts([
      ['Staff member', alert.userId],
      ['Patient', alert.patientId ?? 'Many patients (see the events below)'],
      ['Day', day(alert.day)],
      ['First access', dateTime(alert.firstEventAt)],
      ['Last access', dateTime(alert.lastEventAt)],
      ['Events', `${plural(alert.evidence.length, 'event')}${alert.truncated ? ' shown (more happened)' : ''}`],
    ]),
    decide,
    CAN.decide(ctx.me.role)
      ? openCaseForm({ ctx, alertIds: () => [alertId], title: `${ruleLabel(alert.ruleId)}: ${alert.userId}` }).element
      : null,
    ...d.decisions
      .filter((x) => x.caseId !== undefined)
      .slice(-1)
      .map((x) =>
        h('p', { class: 'in-case' }, h('a', { href: `#/cases/${x.caseId ?? ''}` }, 'Open the case of this alert')),
      ),
    h('h2', {}, 'Decision history'),
    history,
    h('h2', {}, 'The events behind this alert'),
    d.missingEvidence > 0
      ? notice('error', `${plural(d.missingEvidence, 'event')} of this alert could not be found in the log.`)
      : null,
    evidence,
    d.evidence.length === 0
      ? null
      : evidenceExportButton(
          ctx.tenant,
          d.evidence.map((x) => x.event.eventId),
        ),
    h('h2', {}, `What ${alert.userId} did around this time`),
    h('p', { class: 'muted' }, windowText),
    accessTable(d.userTimeline, 'No other accesses by this staff member in this period.'),
    d.patientTimeline === null
      ? null
      : h(
          'div',
          {},
          h('h2', {}, `Who opened patient ${alert.patientId ?? ''}'s record around this time`),
          h('p', { class: 'muted' }, windowText),
          accessTable(d.patientTimeline, 'No other accesses to this patient in this period.'),
        ),
  );
  document.title = `${ruleLabel(alert.ruleId)} · phi-audit`;
}

export const alertDetailPage: Page = {
  title: 'Alert',
  allowed: CAN.readAlerts,
  render: (root, ctx) => render(root, ctx),
};
