import { post, tenantPath } from '../api.js';
import type { CaseDetail } from '../case-api-types.js';
import { field, h } from '../dom.js';
import { isoDay, plural } from '../format.js';
import type { PageContext } from '../page.js';
import { needText, onSubmit, textBox } from './case-forms.js';

export interface OpenCaseOptions {
  ctx: PageContext;
  /** The alerts the case is opened from (read when the form is sent). */
  alertIds: () => readonly string[];
  /** Prefilled title. */
  title?: string;
}

/**
 * "Open a case" from one alert or a selection (issue 6): title, summary and discovery date
 * (today by default), then the new case page. The API escalates each alert into the case with
 * the summary as the reason.
 */
export function openCaseForm(options: OpenCaseOptions): { element: HTMLDetailsElement; setCount(n: number): void } {
  const { ctx } = options;
  const title = h('input', { name: 'title', required: true, maxlength: 200, value: options.title ?? '' });
  const summary = textBox('summary', 'What happened and why it needs an investigation', 3);
  summary.maxLength = 4000;
  const discovered = h('input', {
    name: 'discoveredOn',
    type: 'date',
    required: true,
    max: isoDay(new Date()),
    value: isoDay(new Date()),
  });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Open case');
  const form = h(
    'form',
    { class: 'case-form open-case-form' },
    field('Case title', title),
    field('Summary (required; also the reason the alerts are escalated)', summary),
    field('Discovery date', discovered, 'The day the incident was discovered: day 0 of the 60-day notification clock.'),
    submit,
  );
  onSubmit(
    form,
    () => {
      if (options.alertIds().length === 0) return 'Select alerts first.';
      if (needText(title.value, 'a title') !== undefined) return needText(title.value, 'a title');
      if (!/^\d{4}-\d{2}-\d{2}$/.test(discovered.value)) return 'Choose the discovery date.';
      return needText(summary.value, 'a summary');
    },
    async () => {
      const answer = await post<{ case: CaseDetail }>(tenantPath(ctx.tenant, '/cases'), {
        title: title.value.trim(),
        summary: summary.value.trim(),
        alertIds: [...options.alertIds()],
        discoveredOn: discovered.value,
      });
      ctx.navigate(`/cases/${answer.case.caseId}`, { opened: '1' });
    },
  );
  const label = h('summary', {}, 'Open a case from this alert');
  const element = h('details', { class: 'open-case' }, label, form);
  return {
    element,
    setCount(n) {
      label.textContent =
        n === 0 ? 'Open a case from the selected alerts' : `Open a case from ${plural(n, 'selected alert')}`;
      submit.disabled = n === 0;
    },
  };
}
