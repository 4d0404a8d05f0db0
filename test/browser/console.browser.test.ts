import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseVerifierKey, verifyEvidenceBundle } from '@phi-audit/ledger';
import {
  browserAvailability,
  DEMO_TENANT,
  openSession,
  type BrowserSession,
  type RunningProduct,
  INVESTIGATOR,
  logIn,
  OFFICER,
  startBrowserSuite,
  type BrowserSuite,
} from './console-browser-harness.js';

// The console UI in Chromium against `phi-audit start` with demo alerts: log in, triage alerts
// (one, then two in bulk), search a patient's accesses page by page, make a patient access
// report, the investigator's read-only view, log out. Every page must load without a JS error
// or a CSP violation; each step leaves a screenshot in test-results/screenshots/.

const available = browserAvailability();

describe.runIf(available.run)('browser: the console web UI', () => {
  let suite: BrowserSuite | undefined;
  let product: RunningProduct | undefined;
  let browser: Browser | undefined;
  let officer: BrowserSession;
  let api: (path: string) => Promise<unknown>;

  beforeAll(async () => {
    if (available.missing !== undefined) throw new Error(available.missing);
    suite = await startBrowserSuite({ users: [OFFICER, INVESTIGATOR], scenarios: 8, days: 3, minAlerts: 10 });
    ({ product, browser, officer, api } = suite);
  }, 120_000);

  afterAll(async () => {
    await suite?.close();
  });

  it('/ leads to the login; a wrong password is refused with a message; the right one logs in', async () => {
    const { page } = officer;
    await page.goto(product!.url);
    expect(page.url()).toBe(`${product!.url}/console/`);
    await page.getByLabel('Username').fill(OFFICER.username);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect
      .poll(() => page.locator('.login-status [role=alert]').textContent())
      .toMatch(/wrong username or password/i);
    await officer.screenshot('01-login-wrong-password');

    await logIn(page, product!.url, OFFICER);
    await expect.poll(() => page.locator('header.top .user').textContent()).toContain('officer');
    expect(await page.locator('header.top .role').textContent()).toBe('Privacy officer');
    expect(await page.locator('header.top').textContent()).toContain(DEMO_TENANT);
    // The landing page is the first one of the navigation the role may open; alerts are one click away.
    await page.locator('header nav a', { hasText: 'Alerts' }).click();
    await page.locator('table.alerts tbody tr').first().waitFor();
    expect(page.url()).toMatch(/#\/alerts$/);
    await officer.screenshot('02-alerts-list');
    expect(officer.problems).toEqual([]);
  });

  it('triages one alert: opens it, decides "false positive" with a reason; the list shows the status', async () => {
    const { page } = officer;
    await page.locator('table.alerts tbody a.open-alert').first().click();
    await page.locator('.alert-heading h1').waitFor();
    const alertId = /#\/alerts\/([0-9a-f]{64})$/.exec(page.url())?.[1];
    expect(alertId).toBeDefined();
    expect((await page.locator('p.explanation').textContent())?.length).toBeGreaterThan(20);
    expect(await page.locator('table.data').first().locator('tbody tr').count()).toBeGreaterThan(0);
    expect(await page.getByText('No decision yet.').count()).toBe(1);

    await page.getByLabel('False positive: the alert was wrong').check();
    await page.getByLabel('Reason (required, kept in the record)').fill('Scheduled visit; checked the calendar.');
    await page.getByRole('button', { name: 'Record decision' }).click();
    await expect.poll(() => page.locator('.notice-ok').textContent()).toContain('Recorded "False positive"');
    expect(await page.locator('.alert-heading [data-alert-status]').getAttribute('data-alert-status')).toBe(
      'false_positive',
    );
    const history = page.locator('table.data').first();
    expect(await history.textContent()).toContain('Scheduled visit; checked the calendar.');
    expect(await history.textContent()).toContain('officer');
    await officer.screenshot('03-alert-decided');

    // Back on the list (all statuses), its row shows the new status.
    await page.goto(`${product!.url}/console/#/alerts?status=any`);
    const row = page.locator('table.alerts tbody tr', { has: page.locator(`a[href="#/alerts/${alertId}"]`) });
    await expect
      .poll(() => row.locator('[data-alert-status]').getAttribute('data-alert-status'))
      .toBe('false_positive');
    expect(await row.textContent()).toContain('False positive');
    await officer.screenshot('04-alerts-list-with-status');
    expect(officer.problems).toEqual([]);
  });

  it('decides two alerts at once with the bulk form', async () => {
    const { page } = officer;
    await page.goto(`${product!.url}/console/#/alerts`);
    const boxes = page.locator('table.alerts tbody input[type=checkbox]');
    await boxes.first().waitFor();
    const ids = [await boxes.nth(0).getAttribute('value'), await boxes.nth(1).getAttribute('value')];
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    const bulk = page.locator('form.decision');
    expect(await bulk.getByRole('button').textContent()).toBe('Record decision for 2 alerts');
    await bulk.getByLabel('Appropriate: the access was part of the job').check();
    await bulk.getByLabel('Reason (required, kept in the record)').fill('Both are the front desk doing check-in.');
    await bulk.getByRole('button').click();
    await expect.poll(() => page.locator('.notice-ok').textContent()).toContain('Recorded "Appropriate" for 2 alerts');
    await officer.screenshot('05-bulk-decided');
    for (const id of ids) {
      const detail = (await api(`/api/tenants/${DEMO_TENANT}/alerts/${id}`)) as { status: string };
      expect(detail.status).toBe('appropriate');
      // The default list is what still needs review: the two are gone from it.
      expect(await page.locator(`table.alerts a[href="#/alerts/${id}"]`).count()).toBe(0);
    }
    expect(officer.problems).toEqual([]);
  });

  it("searches a patient's accesses and pages through them; the CSV export downloads", async () => {
    const { page } = officer;
    // A patient with more than one page (10 rows) of accesses, found through the API.
    const list = (await api(`/api/tenants/${DEMO_TENANT}/alerts?status=appropriate&status=open&limit=40`)) as {
      items: { alert: { patientId?: string } }[];
    };
    let patient: string | undefined;
    for (const id of new Set(list.items.flatMap((i) => (i.alert.patientId ? [i.alert.patientId] : [])))) {
      const found = (await api(`/api/tenants/${DEMO_TENANT}/accesses?patient=${encodeURIComponent(id)}&limit=11`)) as {
        items: unknown[];
      };
      if (found.items.length === 11) {
        patient = id;
        break;
      }
    }
    expect(patient, 'a patient with more than 10 accesses').toBeDefined();

    await page.goto(`${product!.url}/console/#/search`);
    await page.getByText('Enter a patient id').waitFor();
    await page.getByLabel('Patient id').fill(patient!);
    await page.getByLabel('Rows per page').selectOption('10');
    await page.getByRole('button', { name: 'Search' }).click();
    const rows = page.locator('.results table.data tbody tr');
    await expect.poll(() => rows.count()).toBe(10);
    expect(await page.locator('.pager').textContent()).toContain('Page 1');
    const firstPage = await rows.allTextContents();
    expect(firstPage.every((r) => r.includes(patient!))).toBe(true);
    await officer.screenshot('06-search-page-1');

    await page.getByRole('button', { name: 'Next page' }).click();
    await expect.poll(() => page.locator('.pager').textContent()).toContain('Page 2');
    const secondPage = await rows.allTextContents();
    expect(secondPage.length).toBeGreaterThan(0);
    expect(secondPage.some((r) => firstPage.includes(r))).toBe(false);
    await officer.screenshot('07-search-page-2');

    const href = await page.locator('a.csv').getAttribute('href');
    expect(href).toContain(`/accesses.csv?patient=${encodeURIComponent(patient!)}`);
    const csv = await officer.context.request.get(`${product!.url}${href}`);
    expect(csv.status()).toBe(200);
    expect(csv.headers()['content-type']).toContain('text/csv');
    expect((await csv.text()).split('\n').length).toBeGreaterThan(11);

    // The accesses of the page shown as a signed evidence bundle: it verifies offline and holds exactly them.
    // A bundle needs a signed checkpoint covering its records, and this patient's accesses include
    // the console's own audit events of the last seconds: wait until the log is checkpointed
    // (the status read is not audited, so it adds no event).
    await expect
      .poll(
        async () => {
          const status = (await api(`/api/tenants/${DEMO_TENANT}/ledger-status`)) as {
            logs: { uncheckpointed: number }[];
          };
          return status.logs.every((l) => l.uncheckpointed === 0);
        },
        { timeout: 30_000, interval: 500 },
      )
      .toBe(true);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export evidence bundle' }).click(),
    ]);
    const key = parseVerifierKey(readFileSync(join(product!.dataDir, 'checkpoint-signing.key.pub'), 'utf8').trim());
    const verified = verifyEvidenceBundle(readFileSync(await download.path()), { trustedKeys: [key] });
    expect(verified.problems).toEqual([]);
    expect(verified.records).toHaveLength(secondPage.length);
    expect(verified.records.every((r) => r.tenant === DEMO_TENANT)).toBe(true);
    expect(officer.problems).toEqual([]);
  });

  it('shows hostile values from events as text: no markup, no script', async () => {
    const { page } = officer;
    const patient = 'MRN-<i>x</i>';
    const posted = await fetch(`${product!.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${product!.ingestKey}` },
      body: JSON.stringify([
        {
          eventId: 'xss-1',
          occurredAt: new Date().toISOString(),
          actor: {
            userId: '<img src=x onerror="window.__xss=1">',
            role: '<script>window.__xss=2</script>',
            department: '"><b>dept</b>',
            workstation: "javascript:window.__xss=3//'",
          },
          patient: { id: patient },
          action: 'view',
          resource: { type: 'Patient' },
          outcome: 'success',
        },
      ]),
    });
    expect(posted.status, await posted.text()).toBe(202);
    await page.goto(`${product!.url}/console/#/search`);
    await page.getByLabel('Patient id').fill(patient);
    await page.getByRole('button', { name: 'Search' }).click();
    const row = page.locator('.results table.data tbody tr').first();
    await expect.poll(() => row.textContent()).toContain('<img src=x onerror="window.__xss=1">');
    expect(await row.textContent()).toContain('<script>window.__xss=2</script>');
    expect(await row.textContent()).toContain('"><b>dept</b>');
    expect(await page.locator('.results img, .results script, .results b, .results i').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __xss?: unknown }).__xss)).toBeUndefined();
    await officer.screenshot('08a-hostile-values-as-text');
    expect(officer.problems).toEqual([]);
  });

  it('makes a patient access report listing each user with role and department', async () => {
    const { page } = officer;
    const first = (await api(`/api/tenants/${DEMO_TENANT}/alerts?limit=20`)) as {
      items: { alert: { patientId?: string } }[];
    };
    const patient = first.items.find((i) => i.alert.patientId !== undefined)!.alert.patientId!;
    await page.goto(`${product!.url}/console/#/report`);
    await page.getByLabel('Patient id').fill(patient);
    await page.getByRole('button', { name: 'Make report' }).click();
    const table = page.locator('.results table.data');
    await table.waitFor();
    expect(await table.locator('thead').textContent()).toMatch(/Staff member.*Role.*Department/);
    expect(await page.locator('.results h2').textContent()).toContain(patient);

    const report = (await api(`/api/tenants/${DEMO_TENANT}/patients/${encodeURIComponent(patient)}/access-report`)) as {
      users: { userId: string; role: string; department: string }[];
    };
    const clinical = report.users.filter((u) => !u.userId.startsWith('console:'));
    expect(clinical.length).toBeGreaterThan(0);
    const rows = await table.locator('tbody tr').allTextContents();
    for (const u of clinical) {
      expect(rows.some((r) => r.includes(u.userId) && r.includes(u.role) && r.includes(u.department))).toBe(true);
    }
    expect(clinical.some((u) => u.role !== '' && u.department !== '')).toBe(true);
    expect(await page.getByRole('button', { name: 'Print' }).count()).toBe(1);
    await officer.screenshot('08b-access-report');
    expect(officer.problems).toEqual([]);
  });

  it('an investigator sees alerts but no decision controls and no report', async () => {
    const investigator = await openSession(browser!, product!.url);
    try {
      const { page } = investigator;
      await logIn(page, product!.url, INVESTIGATOR);
      expect(await page.locator('header.top .role').textContent()).toBe('Investigator');
      await page.locator('header nav a', { hasText: 'Alerts' }).click();
      await page.locator('table.alerts tbody tr').first().waitFor();
      expect(await page.locator('table.alerts input[type=checkbox]').count()).toBe(0);
      expect(await page.locator('form.decision').count()).toBe(0);
      const nav = await page.locator('header nav').textContent();
      expect(nav).toContain('Search accesses');
      expect(nav).not.toContain('Patient access report');
      await page.locator('table.alerts tbody a.open-alert').first().click();
      await page.locator('.alert-heading h1').waitFor();
      await page.getByText('Decision history').waitFor();
      expect(await page.locator('form.decision').count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Record decision' }).count()).toBe(0);
      await investigator.screenshot('09-investigator-alert');
      expect(investigator.problems).toEqual([]);
    } finally {
      await investigator.close();
    }
  });

  it('logs out: back to the login, and a reload stays logged out', async () => {
    const { page } = officer;
    await page.getByRole('button', { name: 'Log out' }).click();
    await expect.poll(() => page.locator('.login-status').textContent()).toContain('You have logged out');
    await page.reload();
    await page.getByLabel('Username').waitFor();
    expect(await page.locator('header.top').count()).toBe(0);
    await officer.screenshot('10-logged-out');
    expect(officer.problems).toEqual([]);
  });
});
