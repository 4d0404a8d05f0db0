import type { BreachClock, NoticeDeadline } from '../case-api-types.js';
import { h } from '../dom.js';
import { day, plural } from '../format.js';

/**
 * The HIPAA breach notification clock as the case pages show it (45 CFR 164.404-164.408):
 * the 60-day deadline with the days left, and which notices (HHS, media) the number of people
 * affected calls for. The server computes the clock; this only puts it in words and colours.
 */

/** Days left at which a deadline turns from "ok" to "soon" and to "due". */
const SOON_DAYS = 14;
const DUE_DAYS = 3;

/** ok / soon / due / overdue / none: the colour class of a deadline. */
export function urgencyOf(clock: BreachClock, deadline: NoticeDeadline = clock.individuals): string {
  if (clock.status === 'not_a_breach') return 'none';
  if (deadline.overdue) return 'overdue';
  if (deadline.daysRemaining <= DUE_DAYS) return 'due';
  return deadline.daysRemaining <= SOON_DAYS ? 'soon' : 'ok';
}

/** "12 days remaining", "due today", "overdue by 3 days" (for reference only when not a breach). */
export function daysText(d: NoticeDeadline, notABreach = false): string {
  if (d.daysRemaining > 0) return `${plural(d.daysRemaining, 'day')} remaining`;
  if (d.daysRemaining === 0) return 'due today';
  const late = plural(-d.daysRemaining, 'day');
  return notABreach ? `passed ${late} ago` : `overdue by ${late}`;
}

/** A short badge for lists: days left or overdue, colour-coded. */
export function clockBadge(clock: BreachClock): HTMLElement {
  const label =
    clock.status === 'not_a_breach'
      ? 'Not a breach'
      : `${day(clock.individuals.deadline)}: ${daysText(clock.individuals)}`;
  return h('span', { class: `clock-badge clock-${urgencyOf(clock)}`, 'data-clock': urgencyOf(clock) }, label);
}

function row(term: string, value: HTMLElement | string, explain: string, attrs: Record<string, string> = {}) {
  return h(
    'div',
    { class: 'clock-row', ...attrs },
    h('dt', {}, term),
    h('dd', {}, value, h('small', { class: 'clock-why' }, explain)),
  );
}

function hhsText(clock: BreachClock): string {
  const { hhs } = clock;
  switch (hhs.notice) {
    case 'contemporaneous':
      return `Within 60 days, with the individual notices: by ${day(hhs.deadline)} (${daysText(hhs, clock.status === 'not_a_breach')})`;
    case 'annual_log':
      return `In the annual log of small breaches, due ${day(hhs.deadline)} (${daysText(hhs, clock.status === 'not_a_breach')})`;
    case 'unknown':
      return 'Not known yet: enter the number of individuals affected below';
    default:
      return hhs satisfies never;
  }
}

function mediaText(clock: BreachClock): string {
  const { media } = clock;
  switch (media.notice) {
    case 'required':
      return `Required: by ${day(media.deadline)} (${daysText(media, clock.status === 'not_a_breach')})`;
    case 'possible':
      return `Possibly required by ${day(media.deadline)}: more than 500 people in all; enter the count of the most affected state to decide`;
    case 'not_required':
      return 'Not required';
    case 'unknown':
      return 'Not known yet: enter the number of individuals affected below';
    default:
      return media satisfies never;
  }
}

/** The clock in full, for the top of a case page. */
export function breachClockPanel(clock: BreachClock): HTMLElement {
  const notABreach = clock.status === 'not_a_breach';
  const urgency = urgencyOf(clock);
  const headline = notABreach
    ? 'Not a breach — no notification due'
    : `Notify individuals by ${day(clock.individuals.deadline)}: ${daysText(clock.individuals)}`;
  return h(
    'section',
    {
      class: `breach-clock clock-${urgency}`,
      'aria-label': 'Breach notification clock',
      'data-clock-status': clock.status,
      'data-hhs-notice': clock.hhs.notice,
      'data-media-notice': clock.media.notice,
    },
    h('h2', {}, 'Breach notification clock'),
    h('p', { class: 'clock-headline' }, headline),
    notABreach
      ? h(
          'p',
          { class: 'muted' },
          'The risk assessment concluded a low probability that the health information was compromised, so no notification is due. The dates below are for reference only.',
        )
      : null,
    h(
      'dl',
      { class: 'clock-facts' },
      row(
        'Discovered',
        day(clock.discoveredOn),
        'Day 0: the day the incident was known, or would have been known with reasonable diligence.',
      ),
      row(
        'Individuals',
        h(
          'span',
          { 'data-deadline': clock.individuals.deadline },
          `By ${day(clock.individuals.deadline)} — ${daysText(clock.individuals, notABreach)}`,
        ),
        'Affected people must be told without unreasonable delay and no later than 60 calendar days after discovery.',
      ),
      row(
        'HHS',
        hhsText(clock),
        'If 500 or more people are affected, HHS must be told at the same time as the individuals; under 500, the breach goes in the yearly log due within 60 days after the end of the calendar year.',
      ),
      row(
        'Media',
        mediaText(clock),
        'If more than 500 residents of one state or jurisdiction are affected, prominent media outlets serving it must be told within the same 60 days.',
      ),
    ),
  );
}
