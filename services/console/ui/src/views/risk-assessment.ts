import type { Assessment, AssessmentConclusion, RiskFactor, RiskLevel } from '../case-api-types.js';
import { field, h, select, table } from '../dom.js';
import { dateTime } from '../format.js';
import { needText, onSubmit, textBox } from './case-forms.js';

/**
 * The HIPAA breach risk assessment of a case: the four factors of 45 CFR 164.402(2), each rated
 * low / medium / high with notes, and the conclusion. An impermissible use or disclosure is
 * presumed a breach unless this shows a low probability that the information was compromised.
 */

/** The four factors in the regulation's order, with what each asks. */
export const FACTORS: readonly (readonly [RiskFactor, string, string])[] = [
  [
    'natureAndExtent',
    'Nature and extent of the information',
    'Which identifiers and how sensitive (diagnoses, SSN, financial)? How likely is it that a person can be identified?',
  ],
  [
    'unauthorizedPerson',
    'The unauthorized person',
    'Who used or received it? Another covered entity bound by HIPAA is lower risk than a stranger or the press.',
  ],
  [
    'acquiredOrViewed',
    'Whether it was actually acquired or viewed',
    'Was the record actually opened, printed or copied, or only exposed?',
  ],
  [
    'mitigation',
    'The extent of mitigation',
    'What was done to reduce the risk: assurances obtained, copies returned or destroyed, access revoked?',
  ],
];

const LEVELS: readonly (readonly [RiskLevel, string])[] = [
  ['low', 'Low'],
  ['medium', 'Medium'],
  ['high', 'High'],
];

export const CONCLUSIONS: readonly (readonly [AssessmentConclusion, string])[] = [
  ['breach', 'Breach: notification is required'],
  ['low_probability_of_compromise', 'Low probability of compromise: not a breach, no notification'],
];

export function conclusionLabel(c: AssessmentConclusion): string {
  return CONCLUSIONS.find(([v]) => v === c)?.[1] ?? c;
}

/** The latest assessment, as a table of the factors with the conclusion and who made it. */
export function assessmentView(a: Assessment & { at: number; by: string }): HTMLElement {
  return h(
    'div',
    { class: 'assessment', 'data-conclusion': a.conclusion },
    h('p', {}, h('strong', {}, conclusionLabel(a.conclusion)), ` — by ${a.by}, ${dateTime(a.at)}`),
    h('p', { class: 'rationale' }, a.rationale),
    table(['Factor', 'Risk', 'Notes'], FACTORS, ([key, label]) => [
      label,
      h('span', { class: `level level-${a.factors[key].level}` }, a.factors[key].level),
      a.factors[key].notes,
    ]),
  );
}

/** The form for a new assessment, prefilled with the latest one. */
export function assessmentForm(
  latest: Assessment | undefined,
  save: (assessment: Assessment) => Promise<void>,
): HTMLFormElement {
  const controls = FACTORS.map(([key, label, question]) => {
    const level = select('level', LEVELS, latest?.factors[key].level ?? '', { required: true });
    if (latest === undefined) level.prepend(h('option', { value: '', selected: true, disabled: true }, 'Choose…'));
    const notes = textBox('notes', 'What you found', 2);
    notes.value = latest?.factors[key].notes ?? '';
    const box = h(
      'fieldset',
      { class: 'factor', 'data-factor': key },
      h('legend', {}, label),
      h('p', { class: 'muted' }, question),
      h('div', { class: 'form-row' }, field('Risk', level), field('Notes', notes)),
    );
    return { key, label, level, notes, box };
  });
  const conclusion = h(
    'div',
    { class: 'choices' },
    ...CONCLUSIONS.map(([value, label]) =>
      h(
        'label',
        { class: 'choice' },
        h('input', {
          type: 'radio',
          name: 'conclusion',
          value,
          required: true,
          checked: latest?.conclusion === value,
        }),
        label,
      ),
    ),
  );
  const rationale = textBox('rationale', 'Why, weighing the four factors together', 3);
  rationale.value = latest?.rationale ?? '';
  const form = h(
    'form',
    { class: 'case-form assessment-form' },
    ...controls.map((c) => c.box),
    h('fieldset', {}, h('legend', {}, 'Conclusion'), conclusion, field('Rationale (required)', rationale)),
    h('button', { type: 'submit', class: 'primary' }, 'Save assessment'),
  );
  const chosen = () => new FormData(form).get('conclusion');
  onSubmit(
    form,
    () => {
      for (const c of controls) {
        if (c.level.value === '') return `Choose a risk level for "${c.label}".`;
        const missing = needText(c.notes.value, `notes for "${c.label}"`);
        if (missing !== undefined) return missing;
      }
      if (typeof chosen() !== 'string') return 'Choose a conclusion.';
      return needText(rationale.value, 'a rationale');
    },
    () => {
      const factors = Object.fromEntries(
        controls.map((c) => [c.key, { level: c.level.value as RiskLevel, notes: c.notes.value.trim() }]),
      ) as Assessment['factors'];
      return save({ factors, conclusion: chosen() as AssessmentConclusion, rationale: rationale.value.trim() });
    },
  );
  return form;
}
