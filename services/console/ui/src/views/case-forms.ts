import { ApiError } from '../api.js';
import type { BreachFacts, CaseStatus } from '../case-api-types.js';
import { field, h, notice, select } from '../dom.js';
import { isoDay } from '../format.js';
import { sentence } from './login.js';

/**
 * The small forms of a case page: add a note, change the status (with its required reason),
 * record the breach facts the clock runs on. Each checks what the API would refuse before
 * sending and shows the API's own message when it refuses anyway.
 */

export const CASE_STATUS_LABELS: Record<CaseStatus, string> = {
  open: 'Open',
  investigating: 'Investigating',
  closed: 'Closed',
};

/** Shortest free text the API accepts (titles, notes, reasons). */
export const MIN_TEXT = 3;
const MAX_TEXT = 8000;

/**
 * Sends `form` through `run` on submit: `check` first (a message stops it), the button disabled
 * while saving, errors shown in the form. `run` usually re-renders the page on success.
 */
export function onSubmit(form: HTMLFormElement, check: () => string | undefined, run: () => Promise<void>): void {
  const status = h('div', { class: 'form-status' });
  form.append(status);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const problem = check();
    if (problem !== undefined) {
      status.replaceChildren(notice('error', problem));
      return;
    }
    const buttons = [...form.querySelectorAll('button')];
    for (const b of buttons) b.disabled = true;
    status.replaceChildren(notice('info', 'Saving…'));
    run()
      .then(() => status.replaceChildren())
      .catch((error: unknown) => {
        status.replaceChildren(
          notice('error', error instanceof ApiError ? sentence(error.message) : 'It was not saved. Please try again.'),
        );
      })
      .finally(() => {
        for (const b of buttons) b.disabled = false;
      });
  });
}

/** A required free-text box (notes, reasons). */
export function textBox(name: string, placeholder: string, rows = 3): HTMLTextAreaElement {
  return h('textarea', { name, rows, required: true, minlength: MIN_TEXT, maxlength: MAX_TEXT, placeholder });
}

/** "Write a reason (at least 3 characters)." when `value` is too short. */
export function needText(value: string, what: string): string | undefined {
  return value.trim().length < MIN_TEXT ? `Write ${what} (at least ${MIN_TEXT} characters).` : undefined;
}

export function noteForm(save: (text: string) => Promise<void>): HTMLFormElement {
  const text = textBox('note', 'e.g. "Spoke with the staff member; she says she was covering the front desk."');
  const form = h(
    'form',
    { class: 'case-form note-form' },
    field('Note', text),
    h('button', { type: 'submit', class: 'primary' }, 'Add note'),
  );
  onSubmit(
    form,
    () => needText(text.value, 'a note'),
    () => save(text.value.trim()),
  );
  return form;
}

export function statusForm(current: CaseStatus, save: (status: CaseStatus, reason: string) => Promise<void>) {
  const others = (Object.keys(CASE_STATUS_LABELS) as CaseStatus[]).filter((s) => s !== current);
  const choice = select(
    'status',
    others.map((s) => [s, CASE_STATUS_LABELS[s]] as const),
    others[0],
  );
  const reason = textBox('reason', 'Why? e.g. "Interview done; the access was a mistake, training booked."', 2);
  const form = h(
    'form',
    { class: 'case-form status-form' },
    field('New status', choice),
    field('Reason for the change (required)', reason),
    h('button', { type: 'submit' }, 'Change status'),
  );
  onSubmit(
    form,
    () => needText(reason.value, 'a reason'),
    () => save(choice.value as CaseStatus, reason.value.trim()),
  );
  return form;
}

function countInput(name: string, value: number | undefined): HTMLInputElement {
  return h('input', { name, type: 'number', min: 0, max: 1_000_000_000, step: 1, value: value ?? '' });
}

/**
 * The facts the clock runs on: discovery date, people affected, the most affected state's count.
 * Prefilled with the latest facts (or the case's discovery date).
 */
export function breachFactsForm(
  latest: BreachFacts | undefined,
  discoveredOn: string,
  save: (facts: BreachFacts) => Promise<void>,
): HTMLFormElement {
  const discovered = h('input', {
    name: 'discoveredOn',
    type: 'date',
    required: true,
    max: isoDay(new Date()),
    value: latest?.discoveredOn ?? discoveredOn,
  });
  const affected = countInput('affectedIndividuals', latest?.affectedIndividuals);
  affected.required = true;
  const largest = countInput('largestJurisdictionCount', latest?.largestJurisdictionCount);
  const reason = textBox('reason', 'Where the numbers come from, e.g. "Audit of the user\'s accesses, 1–20 March."', 2);
  const form = h(
    'form',
    { class: 'case-form facts-form' },
    h(
      'div',
      { class: 'form-row' },
      field('Discovery date', discovered, 'Day 0 of the 60 days.'),
      field('Individuals affected', affected, 'People whose information was or may have been involved.'),
      field(
        'Residents of the most affected state (if known)',
        largest,
        'Decides the media notice (more than 500 in one state or jurisdiction).',
      ),
    ),
    field('Reason for these facts (required)', reason),
    h('button', { type: 'submit' }, 'Save breach facts'),
  );
  const whole = (input: HTMLInputElement) => /^\d{1,10}$/.test(input.value.trim());
  onSubmit(
    form,
    () => {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(discovered.value)) return 'Choose the discovery date.';
      if (!whole(affected)) return 'Enter the number of individuals affected (a whole number).';
      if (largest.value.trim() !== '' && !whole(largest))
        return 'The count of the most affected state must be a whole number.';
      return needText(reason.value, 'a reason');
    },
    () =>
      save({
        discoveredOn: discovered.value,
        affectedIndividuals: Number(affected.value),
        ...(largest.value.trim() === '' ? {} : { largestJurisdictionCount: Number(largest.value) }),
        reason: reason.value.trim(),
      }),
  );
  return form;
}
