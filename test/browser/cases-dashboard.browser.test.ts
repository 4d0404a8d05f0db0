import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseVerifierKey, verifyEvidenceBundle } from '@phi-audit/ledger';
import {
  browserAvailability,
  DEMO_TENANT,
  openSession,
  type BrowserSession,
  type RunningProduct,
  AUDITOR,
  INVESTIGATOR,
  logIn,
  OFFICER,
  startBrowserSuite,
  type BrowserSuite,
} from './console-browser-harness.js';

// The dashboard and the case workflow in Chromium against `phi-audit start` with demo alerts: the
// officer lands on the dashboard (charts drawn, ledger verified), opens a case from an alert,
// reads its 60-day breach clock, adds a note, records the four-factor risk assessment and the
// breach facts (600 affected: HHS with the individuals, media required), changes the status;
// an auditor gets the dashboard but no cases. No JS error or CSP violation anywhere; each step
// leaves a screenshot in test-results/screenshots/.

const available = browserAvailability();

/**
 * How many of the dashboard's chart canvases hold drawn (non-transparent) pixels. A string, since
 * the tests compile without the DOM library.
 */
const DRAWN_CHARTS = `[...document.querySelectorAll('figure.chart canvas')].filter((canvas) => {
  if (canvas.width === 0 || canvas.height === 0) return false;
  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) return true;
  return false;
}).length`;

function drawnCharts(page: Page): Promise<number> {
  return page.evaluate<number>(DRAWN_CHARTS);
}

/** YYYY-MM-DD of today plus `days`, in the browser's (this machine's) time zone. */
function localDay(days = 0): string {
  const d = new Date();
  d.setDate(d.getDate() + days);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

describe.runIf(available.run)('browser: cases and the dashboard', () => {
  let suite: BrowserSuite | undefined;
  let product: RunningProduct | undefined;
  let browser: Browser | undefined;
  let officer: BrowserSession;
  let api: (path: string) => Promise<unknown>;
  let caseUrl = '';

  beforeAll(async () => {
    if (available.missing !== undefined) throw new Error(available.missing);
    suite = await startBrowserSuite({ users: [OFFICER, INVESTIGATOR, AUDITOR], scenarios: 6, days: 3, minAlerts: 5 });
    ({ product, browser, officer, api } = suite);
  }, 120_000);

  afterAll(async () => {
    await suite?.close();
  });

  it('an officer lands on the dashboard: cards, four drawn charts, the ledger verified OK', async () => {
    const { page } = officer;
    await logIn(page, product!.url, OFFICER);
    await expect.poll(() => page.url()).toMatch(/#\/dashboard$/);
    expect(await page.locator('header nav').textContent()).toMatch(/Dashboard.*Alerts.*Cases/);
    await page.locator('.cards [data-card=open-alerts]').waitFor();
    const open = Number((await page.locator('[data-card=open-alerts] .card-value').textContent())?.replace(/\D/g, ''));
    expect(open).toBeGreaterThanOrEqual(5);
    expect(await page.locator('figure.chart canvas').count()).toBe(4);
    await expect.poll(() => drawnCharts(page)).toBe(4);
    expect(await page.locator('[data-chart=volume] figcaption').textContent()).toMatch(/[1-9][\d,]* events/);

    // The first checkpoint is signed a few seconds after the demo's events: reload until it is.
    await expect
      .poll(
        async () => {
          await page.reload();
          await page.locator('table.ledger-status, .dashboard .notice').first().waitFor();
          return page.locator('[data-card=ledger] [data-ledger]').getAttribute('data-ledger', { timeout: 5_000 });
        },
        { timeout: 30_000, interval: 1_000 },
      )
      .toBe('ok');
    const ledgerRow = page.locator('table.ledger-status tbody tr').first();
    expect(await ledgerRow.textContent()).toContain(DEMO_TENANT);
    expect(await ledgerRow.locator('[data-ledger]').textContent()).toBe('OK');
    await expect.poll(() => drawnCharts(page)).toBe(4);
    await officer.screenshot('20-dashboard');
    expect(officer.problems).toEqual([]);
  });

  it('opens a case from an alert: the case page shows the 60-day breach clock and the alert', async () => {
    const { page } = officer;
    await page.goto(`${product!.url}/console/#/alerts`);
    await page.locator('table.alerts tbody a.open-alert').first().click();
    await page.locator('.alert-heading h1').waitFor();
    const alertId = /#\/alerts\/([0-9a-f]{64})$/.exec(page.url())?.[1];
    expect(alertId).toBeDefined();

    // The alert's events as a signed evidence bundle, saved byte for byte: it verifies offline.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export evidence bundle' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^phi-audit-evidence-\d+\.json$/);
    const key = parseVerifierKey(readFileSync(join(product!.dataDir, 'checkpoint-signing.key.pub'), 'utf8').trim());
    const verified = verifyEvidenceBundle(readFileSync(await download.path()), { trustedKeys: [key] });
    expect(verified.problems).toEqual([]);
    expect(verified.ok).toBe(true);
    const shown = (await api(`/api/tenants/${DEMO_TENANT}/alerts/${alertId}`)) as {
      evidence: { event: { eventId: string } }[];
    };
    expect(verified.records.map((r) => r.eventId).sort()).toEqual(shown.evidence.map((e) => e.event.eventId).sort());
    await expect
      .poll(() => page.locator('.evidence-export .notice-ok').textContent())
      .toContain('Saved phi-audit-evidence-');

    await page.getByText('Open a case from this alert').click();
    expect(await page.getByLabel('Case title').inputValue()).not.toBe('');
    expect(await page.getByLabel('Discovery date').inputValue()).toBe(localDay());
    await page.getByLabel('Case title').fill('Front desk looked at a coworker');
    await page.getByLabel(/^Summary/).fill('Possible snooping on a coworker; needs an interview.');
    await officer.screenshot('21-open-case-form');
    await page.getByRole('button', { name: 'Open case' }).click();

    await expect.poll(() => page.url()).toMatch(/#\/cases\/[0-9a-f-]{36}\?opened=1$/);
    caseUrl = page.url();
    const clock = page.locator('section.breach-clock');
    await clock.waitFor();
    expect(await clock.getAttribute('data-clock-status')).toBe('running');
    expect(await clock.locator('.clock-headline').textContent()).toContain('60 days remaining');
    expect(await clock.locator('[data-deadline]').getAttribute('data-deadline')).toBe(localDay(60));
    expect(await clock.getAttribute('data-hhs-notice')).toBe('unknown');
    expect(await page.locator('.case-heading h1').textContent()).toBe('Front desk looked at a coworker');
    expect(await page.locator('[data-case-status]').getAttribute('data-case-status')).toBe('open');
    expect(await page.locator(`a[href="#/alerts/${alertId}"]`).count()).toBe(1);
    expect(await page.locator('.notice-ok').textContent()).toContain('Case opened');
    await officer.screenshot('22-case-opened');

    const detail = (await api(`/api/tenants/${DEMO_TENANT}/alerts/${alertId}`)) as { status: string };
    expect(detail.status).toBe('escalated');
    // The alert's page now leads to its case.
    await page.goto(`${product!.url}/console/#/alerts/${alertId}`);
    await page.getByRole('link', { name: 'Open the case of this alert' }).click();
    await expect.poll(() => page.url()).toBe(caseUrl.replace(/\?opened=1$/, ''));
    await page.locator('section.breach-clock').waitFor();
    expect(officer.problems).toEqual([]);
  });

  it('works the case: note, four-factor assessment, breach facts (600 → HHS within 60 days, media), status', async () => {
    const { page } = officer;
    await page.getByLabel('Note', { exact: true }).fill('Called the staff member; interview booked for Monday.');
    await page.getByRole('button', { name: 'Add note' }).click();
    await expect.poll(() => page.locator('.notice-ok').textContent()).toBe('Note added.');
    expect(await page.locator('ol.case-notes').textContent()).toContain('interview booked for Monday');
    await officer.screenshot('23-case-note');

    const levels = {
      natureAndExtent: 'high',
      unauthorizedPerson: 'medium',
      acquiredOrViewed: 'high',
      mitigation: 'low',
    };
    for (const [factor, level] of Object.entries(levels)) {
      const box = page.locator(`fieldset[data-factor=${factor}]`);
      await box.locator('select').selectOption(level);
      await box.locator('textarea').fill(`Findings on ${factor}: rated ${level}.`);
    }
    await page.getByLabel('Breach: notification is required').check();
    await page.getByLabel('Rationale (required)').fill('Diagnoses were viewed by a coworker without a reason.');
    await page.getByRole('button', { name: 'Save assessment' }).click();
    await expect.poll(() => page.locator('.notice-ok').textContent()).toBe('Risk assessment saved.');
    const assessment = page.locator('.assessment');
    expect(await assessment.getAttribute('data-conclusion')).toBe('breach');
    expect(await assessment.locator('tbody tr').count()).toBe(4);
    expect(await assessment.textContent()).toContain('Findings on natureAndExtent: rated high.');
    await officer.screenshot('24-case-assessment');

    await page.getByLabel('Individuals affected').fill('600');
    await page.getByLabel('Residents of the most affected state (if known)').fill('550');
    await page.getByLabel('Reason for these facts (required)').fill('Counted from the access report.');
    await page.getByRole('button', { name: 'Save breach facts' }).click();
    await expect.poll(() => page.locator('.notice-ok').textContent()).toBe('Breach facts saved.');
    const clock = page.locator('section.breach-clock');
    expect(await clock.getAttribute('data-hhs-notice')).toBe('contemporaneous');
    expect(await clock.getAttribute('data-media-notice')).toBe('required');
    expect(await clock.textContent()).toContain('Within 60 days, with the individual notices');
    expect(await clock.textContent()).toContain('500 or more people');
    expect(await page.locator('p.breach-facts').textContent()).toContain('600 individuals affected');
    await officer.screenshot('25-case-breach-facts');

    await page.getByLabel('New status').selectOption('investigating');
    await page.getByLabel('Reason for the change (required)').fill('Interview scheduled.');
    await page.getByRole('button', { name: 'Change status' }).click();
    await expect.poll(() => page.locator('[data-case-status]').getAttribute('data-case-status')).toBe('investigating');
    const history = await page.locator('table.case-history').textContent();
    for (const step of [
      'Opened the case',
      'Note:',
      'Risk assessment:',
      'Breach facts: 600',
      'Status changed to Investigating',
    ]) {
      expect(history).toContain(step);
    }
    expect(history).toContain('officer');
    await officer.screenshot('26-case-investigating');

    const caseId = /#\/cases\/([0-9a-f-]{36})/.exec(caseUrl)?.[1];
    const stored = (await api(`/api/tenants/${DEMO_TENANT}/cases/${caseId}`)) as {
      status: string;
      notes: unknown[];
      breachClock: { hhs: { notice: string }; media: { notice: string } };
    };
    expect(stored.status).toBe('investigating');
    expect(stored.notes).toHaveLength(1);
    expect(stored.breachClock.hhs.notice).toBe('contemporaneous');
    expect(stored.breachClock.media.notice).toBe('required');
    expect(officer.problems).toEqual([]);
  });

  it('a low-probability assessment stops the clock; the list and the dashboard show the case', async () => {
    const { page } = officer;
    await page.getByText('Record a new assessment').click();
    await page.getByLabel('Low probability of compromise: not a breach, no notification').check();
    await page.getByLabel('Rationale (required)').fill('The coworker only saw the appointment time.');
    await page.getByRole('button', { name: 'Save assessment' }).click();
    await expect
      .poll(() => page.locator('section.breach-clock .clock-headline').textContent())
      .toBe('Not a breach — no notification due');
    await officer.screenshot('27-case-not-a-breach');

    await page.goto(`${product!.url}/console/#/cases`);
    const row = page.locator('table.cases tbody tr').first();
    await row.waitFor();
    expect(await row.textContent()).toContain('Front desk looked at a coworker');
    expect(await row.locator('[data-case-status]').textContent()).toBe('Investigating');
    expect(await row.locator('[data-clock]').getAttribute('data-clock')).toBe('none');
    await officer.screenshot('28-cases-list');

    await page.locator('header nav a', { hasText: 'Dashboard' }).click();
    await page.locator('[data-card=cases] .card-value').waitFor();
    expect(await page.locator('[data-card=cases] .card-detail').textContent()).toContain('1 investigating');
    expect(officer.problems).toEqual([]);
  });

  it('opens one case from two alerts selected in the list', async () => {
    const { page } = officer;
    await page.goto(`${product!.url}/console/#/alerts`);
    const boxes = page.locator('table.alerts tbody input[type=checkbox]');
    await boxes.first().waitFor();
    const ids = [await boxes.nth(0).getAttribute('value'), await boxes.nth(1).getAttribute('value')];
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    await page.getByText('Open a case from 2 selected alerts').click();
    await page.getByLabel('Case title').fill('Two alerts of one afternoon');
    await page.getByLabel(/^Summary/).fill('Both alerts concern the same workstation.');
    await page.getByRole('button', { name: 'Open case' }).click();
    await expect.poll(() => page.url()).toMatch(/#\/cases\/[0-9a-f-]{36}\?opened=1$/);
    await page.locator('section.breach-clock').waitFor();
    expect(await page.locator('.case-heading h1').textContent()).toBe('Two alerts of one afternoon');
    for (const id of ids) expect(await page.locator(`a[href="#/alerts/${id}"]`).count()).toBe(1);
    await officer.screenshot('30-case-from-selection');
    expect(officer.problems).toEqual([]);
  });

  it('an investigator reads a case and may add notes, nothing else', async () => {
    const investigator = await openSession(browser!, product!.url);
    try {
      const { page } = investigator;
      await logIn(page, product!.url, INVESTIGATOR);
      expect(await page.locator('header nav').textContent()).toContain('Cases');
      await page.goto(caseUrl.replace(/\?opened=1$/, ''));
      await page.locator('section.breach-clock').waitFor();
      expect(await page.locator('.assessment').count()).toBe(1);
      for (const form of ['status-form', 'assessment-form', 'facts-form']) {
        expect(await page.locator(`form.${form}`).count(), form).toBe(0);
      }
      await page.getByLabel('Note', { exact: true }).fill('Investigator: pulled the badge logs.');
      await page.getByRole('button', { name: 'Add note' }).click();
      await expect.poll(() => page.locator('ol.case-notes').textContent()).toContain('pulled the badge logs');
      expect(await page.locator('ol.case-notes li').first().textContent()).toContain('inv');
      await investigator.screenshot('31-investigator-case');
      expect(investigator.problems).toEqual([]);
    } finally {
      await investigator.close();
    }
  });

  it('an auditor sees the dashboard but no alerts and no cases', async () => {
    const auditor = await openSession(browser!, product!.url);
    try {
      const { page } = auditor;
      await logIn(page, product!.url, AUDITOR);
      await expect.poll(() => page.url()).toMatch(/#\/dashboard$/);
      const nav = await page.locator('header nav').textContent();
      expect(nav).toContain('Dashboard');
      expect(nav).not.toContain('Cases');
      expect(nav).not.toContain('Alerts');
      await expect.poll(() => drawnCharts(page)).toBe(4);
      expect(await page.locator('[data-card=ledger] [data-ledger]').getAttribute('data-ledger')).toBe('ok');
      // Counts without links to pages the auditor cannot open.
      expect(await page.locator('a.card').count()).toBe(0);
      await auditor.screenshot('29-auditor-dashboard');
      await page.goto(`${product!.url}/console/#/cases`);
      await page.getByText('Your role cannot open this page.').waitFor();
      expect(auditor.problems).toEqual([]);
    } finally {
      await auditor.close();
    }
  });
});
