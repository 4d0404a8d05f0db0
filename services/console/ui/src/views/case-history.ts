import type { CaseHistoryEvent } from '../case-api-types.js';
import { table } from '../dom.js';
import { dateTime, day, plural } from '../format.js';
import { CASE_STATUS_LABELS } from './case-forms.js';
import { conclusionLabel } from './risk-assessment.js';

/** What one case event did, in a sentence. */
export function describeCaseEvent(e: CaseHistoryEvent): string {
  switch (e.kind) {
    case 'opened':
      return `Opened the case "${e.title}" from ${plural(e.alertIds.length, 'alert')}, discovered ${day(e.discoveredOn)}: ${e.summary}`;
    case 'note':
      return `Note: ${e.text}`;
    case 'status':
      return `Status changed to ${CASE_STATUS_LABELS[e.status]}: ${e.reason}`;
    case 'alerts_linked':
      return `Linked ${plural(e.alertIds.length, 'more alert')}`;
    case 'assessment':
      return `Risk assessment: ${conclusionLabel(e.conclusion)}. ${e.rationale}`;
    case 'breach_facts': {
      const largest =
        e.largestJurisdictionCount === undefined ? '' : `, ${e.largestJurisdictionCount} in the most affected state`;
      return `Breach facts: ${plural(e.affectedIndividuals, 'individual')} affected${largest}, discovered ${day(e.discoveredOn)}. ${e.reason}`;
    }
    default:
      return e satisfies never;
  }
}

/** Who did what when, newest first. */
export function caseHistoryTable(history: readonly CaseHistoryEvent[]): HTMLTableElement {
  const t = table(['When', 'Who', 'What'], [...history].reverse(), (e) => [dateTime(e.at), e.by, describeCaseEvent(e)]);
  t.classList.add('case-history');
  return t;
}
