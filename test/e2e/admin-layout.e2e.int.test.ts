import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ehrEvent } from '../fixtures/events';
import { HOUR, localTime, utcAt } from '../fixtures/time';
import { ROOT } from '../../scripts/lib/build-service';
import { logInAsAdministrator, openBrowser, overflowing as overflowingIn, type BrowserSession } from '../support/browser';
import { startTestStack, type TestStack } from '../support/local-stack';
import { started } from '../support/started';

/**
 * The admin page at phone and desktop width in Chromium (test/support/browser.ts): no section may need sideways
 * scrolling, with appointments whose ids, names and locations are long unbroken strings, and the
 * appointments list's search, filters and pager work from the keyboard.
 */
let t: TestStack;
let browser: BrowserSession;
let page: Page;
let problems: string[] = [];

const SHOTS = path.join(ROOT, 'test-output', 'screenshots');
const LONG = 'Oberkircheneichenwaldstrassenklinikumsverwaltungsgebaeude';

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  t = await startTestStack();
  const events = Array.from({ length: 30 }, (_, i) =>
    ehrEvent({
      appointment_id: `LAYOUT-${String(i).padStart(2, '0')}-${LONG}`,
      event_datetime_utc: utcAt(-8 * HOUR + i * 1000),
      patient_first_name: i % 2 === 0 ? 'Zoë' : LONG,
      patient_last_name: `${LONG}-${i}`,
      patient_phone: `+1415555${String(100 + i).padStart(4, '0')}`,
      appointment_location: `${LONG} ${LONG}, Floor ${i}`,
      provider_id: `D-${i % 3}`,
      appointment_datetime: localTime(1 + (i % 9), '10:00'),
    }),
  );
  const res = await t.postEvents(events);
  if (res.status !== 202) throw new Error(`seeding failed: ${res.status}`);
  await t.stack.settle();
  browser = await openBrowser({ name: 'layout', viewport: { width: 1440, height: 900 } });
  ({ page, problems } = browser);
}, 120_000);

afterAll(async () => {
  await started(browser)?.close();
  await started(t)?.stop();
});

const overflowing = () => overflowingIn(page);
const logIn = () => logInAsAdministrator(page, t);

describe('admin page layout in Chromium', () => {
  it('searches, filters and pages the appointments from the keyboard', async () => {
    await logIn();
    const rows = page.locator('#appointments-table tbody tr');
    await expect.poll(async () => rows.count(), { timeout: 15_000 }).toBe(25);
    // By appointment time: the first row is the earliest.
    expect(await rows.first().getAttribute('data-appointment-id')).toMatch(/^LAYOUT-(00|09|18|27)-/);
    await page.locator('#appointments-next').focus();
    await page.keyboard.press('Enter');
    await expect.poll(async () => rows.count()).toBe(5);
    expect(await page.locator('#appointments-page').textContent()).toBe('Page 2');
    expect(await page.locator('#appointments-next').isDisabled()).toBe(true);
    await page.locator('#appointments-prev').click();
    await expect.poll(async () => rows.count()).toBe(25);

    await page.locator('#appt-q').fill('zoe');
    await page.locator('#appt-q').press('Enter');
    await expect.poll(async () => rows.count()).toBe(15);
    await page.locator('#appt-clear').click();
    await expect.poll(async () => rows.count()).toBe(25);

    await page.locator('#appt-provider').fill('D-1');
    await page.locator('#appt-provider').press('Enter');
    await expect.poll(async () => rows.count()).toBe(10);
    await page.getByRole('button', { name: 'Tomorrow' }).click();
    await expect
      .poll(async () => page.locator('#appointments-state').textContent())
      .toMatch(/^(No appointments match|\d+ appointments? on page 1)/);
    await page.locator('#appt-clear').click();
    await expect.poll(async () => rows.count()).toBe(25);
    expect(problems).toEqual([]);
  }, 60_000);

  for (const width of [390, 1440]) {
    it(`needs no sideways scrolling at ${width} px, in any section or in the timeline`, async () => {
      await page.setViewportSize({ width, height: 900 });
      await page.locator('#appointments-table tbody tr').first().waitFor();
      expect(await overflowing()).toEqual([]);
      await page.locator('#appointments').screenshot({ path: path.join(SHOTS, `layout-${width}-appointments.png`) });
      const first = page.locator('#appointments-table tbody tr').first();
      await first.getByRole('button', { name: /^History of / }).click();
      await page.locator('#history-dialog li.tl').first().waitFor();
      expect(await overflowing()).toEqual([]);
      await page.locator('#history-dialog').screenshot({ path: path.join(SHOTS, `layout-${width}-timeline.png`) });
      await page.keyboard.press('Escape');
      await page.locator('#history-dialog').waitFor({ state: 'hidden' });
      expect(problems).toEqual([]);
    }, 60_000);
  }
});
