import { ApiError } from '../api.js';
import type { Decision } from '../api-types.js';
import { h, notice } from '../dom.js';
import { DECISIONS } from '../format.js';
import { sentence } from './login.js';

export interface DecisionFormOptions {
  /** Heading, e.g. "Your decision" or "Decide the selected alerts". */
  legend: string;
  /** Button text; may change with the selection (see setLabel). */
  submitLabel: string;
  onSubmit(decision: Decision['decision'], reason: string): Promise<void>;
}

/**
 * A decision with its required reason (HIPAA review documentation): appropriate, false positive
 * or escalate. Refuses to send without a decision and a reason of at least 3 characters.
 */
export function decisionForm(options: DecisionFormOptions): {
  form: HTMLFormElement;
  setLabel(label: string, enabled: boolean): void;
} {
  const choices = DECISIONS.map(([value, label]) =>
    h('label', { class: 'choice' }, h('input', { type: 'radio', name: 'decision', value, required: true }), label),
  );
  const reason = h('textarea', {
    name: 'reason',
    rows: 3,
    required: true,
    minlength: 3,
    maxlength: 4000,
    placeholder: 'Why? e.g. "Covering for Dr. Lee that day; confirmed with the schedule."',
  });
  const status = h('div', { class: 'form-status' });
  const submit = h('button', { type: 'submit', class: 'primary' }, options.submitLabel);
  const form = h(
    'form',
    { class: 'decision' },
    h(
      'fieldset',
      {},
      h('legend', {}, options.legend),
      h('div', { class: 'choices' }, ...choices),
      h('label', { class: 'field' }, h('span', { class: 'label' }, 'Reason (required, kept in the record)'), reason),
      submit,
      status,
    ),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const chosen = new FormData(form).get('decision');
    const text = reason.value.trim();
    if (typeof chosen !== 'string' || chosen === '') {
      status.replaceChildren(notice('error', 'Choose a decision first.'));
      return;
    }
    if (text.length < 3) {
      status.replaceChildren(notice('error', 'Write a reason (at least 3 characters).'));
      return;
    }
    submit.disabled = true;
    status.replaceChildren(notice('info', 'Saving…'));
    options
      .onSubmit(chosen as Decision['decision'], text)
      .then(() => status.replaceChildren())
      .catch((error: unknown) => {
        status.replaceChildren(
          notice('error', error instanceof ApiError ? sentence(error.message) : 'The decision was not saved.'),
        );
      })
      .finally(() => {
        submit.disabled = false;
      });
  });
  return {
    form,
    setLabel(label, enabled) {
      submit.textContent = label;
      submit.disabled = !enabled;
    },
  };
}
