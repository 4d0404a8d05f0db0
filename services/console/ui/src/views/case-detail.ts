import { get, post, tenantPath } from '../api.js';
import type { CaseDetail } from '../case-api-types.js';
import { h, notice, replace, table } from '../dom.js';
import { dateTime, day, plural, ruleLabel, SEVERITY_LABELS, statusLabel } from '../format.js';
import type { Page, PageContext } from '../page.js';
import { CAN } from '../session.js';
import { breachClockPanel } from './breach-clock.js';
import { breachFactsForm, CASE_STATUS_LABELS, noteForm, statusForm } from './case-forms.js';
import { caseHistoryTable } from './case-history.js';
import { assessmentForm, assessmentView } from './risk-assessment.js';

/**
 * One investigation case (#/cases/<id>): the breach notification clock first, then the summary,
 * the alerts, notes, the risk assessment, the breach facts and the history. Privacy officers and
 * admins change it; investigators read it and add notes (the API's case route access). Every
 * change answers the updated case, which is drawn again without reading it once more (each read
 * is recorded in the ledger as a disclosure).
 */

/** Roles that change a case beyond notes: routes/cases.ts CHANGERS. */
const canChange = CAN.decide;

function section(title: string, ...children: (Node | null)[]): HTMLElement {
  return h('section', { class: 'case-section' }, h('h2', {}, title), ...children);
}

function draw(root: HTMLElement, ctx: PageContext, c: CaseDetail, flash?: string): void {
  const path = (rest: string) => tenantPath(ctx.tenant, `/cases/${encodeURIComponent(c.caseId)}${rest}`);
  const change = (rest: string, message: string) => async (body: unknown) => {
    const next = await post<CaseDetail>(path(rest), body);
    draw(root, ctx, next, message);
    window.scrollTo({ top: 0 });
  };
  const changer = canChange(ctx.me.role);

  const alerts =
    c.alerts.length === 0
      ? notice('info', 'The alerts of this case are no longer stored.')
      : table(
          ['Risk', 'Severity', 'What happened', 'Staff member', 'Patient', 'Day', 'Alert status', ''],
          c.alerts,
          (a) => [
            h('span', { class: 'risk' }, a.riskScore),
            h('span', { class: `severity severity-${a.severity}` }, SEVERITY_LABELS[a.severity] ?? a.severity),
            h('div', {}, h('strong', {}, ruleLabel(a.ruleId)), h('div', { class: 'explanation' }, a.explanation)),
            a.userId,
            a.patientId ?? '(many)',
            day(a.day),
            h('span', { class: `status status-${a.status}` }, statusLabel(a.status)),
            h('a', { href: `#/alerts/${a.alertId}`, class: 'open-alert' }, 'Open alert'),
          ],
        );

  const notes = h(
    'ol',
    { class: 'case-notes' },
    ...[...c.notes]
      .reverse()
      .map((n) => h('li', {}, h('div', { class: 'muted' }, `${n.by}, ${dateTime(n.at)}`), h('p', {}, n.text))),
  );

  const facts = c.breachFacts;
  replace(
    root,
    h('a', { href: '#/cases', class: 'back' }, '← Back to cases'),
    flash ? notice('ok', flash) : null,
    h(
      'div',
      { class: 'case-heading' },
      h('h1', {}, c.title),
      h(
        'span',
        { class: `case-status case-status-${c.status}`, 'data-case-status': c.status },
        CASE_STATUS_LABELS[c.status],
      ),
    ),
    h(
      'p',
      { class: 'muted' },
      `Opened by ${c.openedBy}, ${dateTime(c.openedAt)}. Last change ${dateTime(c.updatedAt)}.`,
    ),
    breachClockPanel(c.breachClock),
    section('Summary', h('p', { class: 'case-summary' }, c.summary)),
    changer
      ? section(
          'Status',
          h('p', {}, `This case is ${CASE_STATUS_LABELS[c.status].toLowerCase()}.`),
          statusForm(c.status, (status, reason) =>
            change('/status', `Status changed to ${CASE_STATUS_LABELS[status]}.`)({ status, reason }),
          ),
        )
      : null,
    section(`Alerts (${c.alertIds.length})`, alerts),
    section(
      `Notes (${c.notes.length})`,
      c.notes.length === 0 ? notice('info', 'No notes yet.') : notes,
      noteForm((text) => change('/notes', 'Note added.')({ text })),
    ),
    section(
      'Risk assessment (45 CFR 164.402)',
      h(
        'p',
        { class: 'muted' },
        'An access that HIPAA does not permit is presumed a breach unless an assessment of these four factors shows a low probability that the information was compromised.',
      ),
      c.assessment === undefined
        ? notice('info', 'No assessment yet: the clock runs as for a breach.')
        : assessmentView(c.assessment),
      changer
        ? h(
            'details',
            { class: 'form-details', open: c.assessment === undefined },
            h('summary', {}, c.assessment === undefined ? 'Record the assessment' : 'Record a new assessment'),
            assessmentForm(c.assessment, change('/assessment', 'Risk assessment saved.')),
          )
        : null,
    ),
    section(
      'Breach facts',
      facts === undefined
        ? notice('info', 'Not entered yet. The number of people affected decides the HHS and media notices.')
        : h(
            'p',
            { class: 'breach-facts' },
            `${plural(facts.affectedIndividuals, 'individual')} affected`,
            facts.largestJurisdictionCount === undefined
              ? ' (most affected state not known)'
              : `, ${facts.largestJurisdictionCount} in the most affected state`,
            `; discovered ${day(facts.discoveredOn)}. Entered by ${facts.by}, ${dateTime(facts.at)}: ${facts.reason}`,
          ),
      changer ? breachFactsForm(facts, c.discoveredOn, change('/breach-facts', 'Breach facts saved.')) : null,
    ),
    section('History', caseHistoryTable(c.history)),
  );
  document.title = `${c.title} · phi-audit`;
}

async function render(root: HTMLElement, ctx: PageContext): Promise<void> {
  root.append(h('a', { href: '#/cases', class: 'back' }, '← Back to cases'), notice('info', 'Loading the case…'));
  const id = ctx.params.id ?? '';
  const c = await get<CaseDetail>(tenantPath(ctx.tenant, `/cases/${encodeURIComponent(id)}`));
  const flash = ctx.query.get('opened') === '1' ? 'Case opened. The alerts are marked "Escalated".' : undefined;
  draw(root, ctx, c, flash);
}

export const caseDetailPage: Page = { title: 'Case', allowed: CAN.readAlerts, render };
