import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ehrEvent } from '../fixtures/events';
import { HOUR, localTime, utcAt } from '../fixtures/time';
import { ROOT } from '../../scripts/lib/build-service';
import { startTestStack, type TestStack } from '../support/local-stack';

/**
 * The admin page at phone and desktop width in Debian's Chromium: no section may need sideways
 * scrolling, with appointments whose ids, names and locations are long unbroken strings, and the
 * appointments list's search, filters and pager work from the keyboard.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let t: TestStack;
let context: BrowserContext;
let page: Page;
let profile: string;
const problems: string[] = [];

const SHOTS = path.join(ROOT, 'test-output', 'screenshots');
const LONG = 'Oberkircheneichenwaldstrassenklinikumsverwaltungsgebaeude';

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM}: apt-get install -y --no-install-recommends chromium (or set CHROMIUM_PATH).`);
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
  profile = mkdtempSync(path.join(os.tmpdir(), 'pam-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1440, height: 900 },
    env: { ...process.env, HOME: profile, XDG_CONFIG_HOME: profile, XDG_CACHE_HOME: profile },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
}, 120_000);

afterAll(async () => {
  await context?.close();
  await t?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

/** Every section (and the page itself) whose content is wider than its box, with both widths. */
async function overflowing(): Promise<string[]> {
  // A string, as the node typings have no DOM: it runs in the page.
  return page.evaluate<string[]>(`(() => {
    const boxes = [document.documentElement, ...document.querySelectorAll('section, dialog[open], dialog[open] li')];
    return boxes
      .filter((el) => el.offsetParent !== null || el === document.documentElement || el.tagName === 'DIALOG')
      .filter((el) => el.scrollWidth > el.clientWidth)
      .map((el) => el.tagName.toLowerCase() + '#' + (el.id || el.className) + ': ' + el.scrollWidth + ' > ' + el.clientWidth);
  })()`);
}

async function logIn(): Promise<void> {
  await page.goto(t.stack.url);
  await page.locator('#password').fill(t.stack.env.APPLICATION_PASSWORD ?? '');
  await page.locator('#password').press('Enter');
  const code = page.locator('#local-code');
  await expect.poll(async () => code.textContent(), { timeout: 10_000 }).toMatch(/^\d{6}$/);
  await page.locator('#code').fill((await code.textContent()) ?? '');
  await page.locator('#code').press('Enter');
  await page.locator('#app').waitFor({ state: 'visible' });
}

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
    await expect.poll(async () => page.locator('#appointments-state').textContent()).toMatch(/^(No appointments match|\d+ appointments? on page 1)/);
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
