import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/lib/build-service';
import { ehrEvent } from '../fixtures/events';
import { HOUR, localTime, utcAt } from '../fixtures/time';
import { axeFindings, openBrowser, overflowing, type BrowserSession } from '../support/browser';
import { startTestStack, type TestStack } from '../support/local-stack';
import { phonesApi } from '../support/phones';
import { started } from '../support/started';

/**
 * The clinic console as a front desk uses it, in Chromium: logged in by keyboard alone; every
 * view (login, the whole page, the appointment timeline) at phone and desktop width with no
 * serious or critical axe-core finding, no sideways scrolling and a screenshot; a patient name in
 * CJK and fullwidth letters drawn with real glyphs; an inbox reply sent from the page.
 */
const SHOTS = path.join(ROOT, 'test-output', 'screenshots');
const WIDTHS = [390, 1440] as const;
const PATIENT = { id: 'CONSOLE-1', first: '美玲', last: 'Ｔａｎａｋａ', phone: '+14155553401' };

let t: TestStack;
let browser: BrowserSession;
let page: Page;
let problems: string[] = [];

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  t = await startTestStack();
  const booked = await t.postEvents(
    ehrEvent({
      appointment_id: PATIENT.id,
      event_datetime_utc: utcAt(-2 * HOUR),
      patient_first_name: PATIENT.first,
      patient_last_name: PATIENT.last,
      patient_phone: PATIENT.phone,
      appointment_datetime: localTime(3, '10:30'),
    }),
  );
  if (booked.status !== 202) throw new Error(`seeding failed: ${booked.status}`);
  await t.stack.settle();
  // A reply nobody can read as confirm or cancel: it lands in the clinic inbox.
  await phonesApi(t).send(PATIENT.phone, 'can I bring my daughter along?');
  browser = await openBrowser({ name: 'console', viewport: { width: 1440, height: 900 } });
  ({ page, problems } = browser);
}, 120_000);

afterAll(async () => {
  await started(browser)?.close();
  await started(t)?.stop();
});

/** Serious and critical axe findings only (the issue's bar); moderate ones are listed in the log. */
async function seriousFindings(selectors?: string[]): Promise<string[]> {
  const { violations } = await axeFindings(page, selectors);
  const minor = violations.filter((v) => v.impact !== 'serious' && v.impact !== 'critical');
  if (minor.length > 0) console.info(`axe (not serious): ${minor.map((v) => `${v.impact} ${v.id}`).join('; ')}`);
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.targets.join(', ')}`);
}

/** A screenshot of the whole page and of each visible section, named by width and section id. */
async function shootEverySection(width: number): Promise<number> {
  await page.screenshot({ path: path.join(SHOTS, `console-${width}-page.png`), fullPage: true });
  const ids = await page.evaluate<string[]>(
    `[...document.querySelectorAll('#app section[id]')].filter((s) => s.offsetParent !== null).map((s) => s.id)`,
  );
  for (const id of ids) await page.locator(`#${id}`).screenshot({ path: path.join(SHOTS, `console-${width}-${id}.png`) });
  return ids.length;
}

/** Whether the system has a font with Japanese glyphs (fontconfig), as CI installs one. */
function hasCjkFont(): boolean {
  try {
    return execFileSync('fc-list', [':lang=ja'], { encoding: 'utf8' }).trim() !== '';
  } catch {
    return false;
  }
}

describe('the clinic console in Chromium', () => {
  it('logs in with the keyboard alone: Tab, type, Enter, type the code, Enter', async () => {
    await page.goto(t.stack.url);
    await page.locator('#login').waitFor({ state: 'visible' });
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 900 });
      expect(await seriousFindings(), `login at ${width} px`).toEqual([]);
      expect(await overflowing(page), `login at ${width} px`).toEqual([]);
      await page.screenshot({ path: path.join(SHOTS, `console-${width}-login.png`), fullPage: true });
    }
    await page.setViewportSize({ width: 1440, height: 900 });
    // The page puts the cursor in the username field; the administrator leaves it empty.
    expect(await page.evaluate(`document.activeElement && document.activeElement.id`)).toBe('username');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(`document.activeElement.id`)).toBe('password');
    await page.keyboard.type(t.stack.env.APPLICATION_PASSWORD ?? '');
    await page.keyboard.press('Enter');
    await page.locator('#code-form').waitFor({ state: 'visible' });
    const code = page.locator('#local-code');
    await expect.poll(async () => code.textContent(), { timeout: 10_000 }).toMatch(/^\d{6}$/);
    expect(await page.evaluate(`document.activeElement.id`)).toBe('code');
    await page.keyboard.type((await code.textContent()) ?? '');
    await page.keyboard.press('Enter');
    await page.locator('#app').waitFor({ state: 'visible' });
    expect(problems).toEqual([]);
  }, 60_000);

  it('reaches every section from the keyboard: each nav link moves focus to its section', async () => {
    const links = await page.evaluate<string[]>(
      `[...document.querySelectorAll('nav.tabs a')].filter((a) => a.offsetParent !== null).map((a) => a.getAttribute('href'))`,
    );
    expect(links.length).toBeGreaterThanOrEqual(6);
    for (const href of links) {
      await page.locator(`nav.tabs a[href="${href}"]`).focus();
      await page.keyboard.press('Enter');
      await expect.poll(async () => page.evaluate(`location.hash`)).toBe(href);
      expect(await page.locator(String(href)).isVisible(), String(href)).toBe(true);
    }
    // Tab walks the page in order without getting stuck: 60 presses reach 60 distinct-or-cycling visible controls.
    const seen: string[] = [];
    for (let i = 0; i < 60; i += 1) {
      await page.keyboard.press('Tab');
      const where = await page.evaluate<string>(
        `(() => { const e = document.activeElement; if (!e || e === document.body) return 'body'; const r = e.getBoundingClientRect(); return (r.width > 0 && r.height > 0 ? 'visible ' : 'hidden ') + e.tagName + '#' + (e.id || e.textContent.trim().slice(0, 20)); })()`,
      );
      seen.push(where);
    }
    expect(
      seen.filter((w) => w.startsWith('hidden ')),
      'focus never lands on an invisible control',
    ).toEqual([]);
    expect(new Set(seen).size).toBeGreaterThan(10);
  }, 60_000);

  it('draws a patient name in CJK and fullwidth letters with real glyphs, not empty boxes', async () => {
    const row = page.locator(`#appointments-table tbody tr[data-appointment-id="${PATIENT.id}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain(`${PATIENT.first} ${PATIENT.last}`);
    const family = await page.evaluate<string>(`getComputedStyle(document.body).fontFamily`);
    expect(family).toMatch(/Noto Sans CJK JP/);
    expect(family).toMatch(/Droid Sans Fallback/);
    if (!hasCjkFont()) {
      console.info(
        'no CJK font on this machine (fc-list :lang=ja is empty): the glyph check needs one, as CI installs fonts-droid-fallback',
      );
      return;
    }
    // The name beside code points no font has (private use): drawn with glyphs they differ; as boxes they match.
    await page.evaluate(`(() => {
      for (const [id, text] of [['glyphs-real', '${PATIENT.first}${PATIENT.last}'], ['glyphs-none', '\\u{F0001}\\u{F0002}\\u{F0003}\\u{F0004}\\u{F0005}\\u{F0006}\\u{F0007}\\u{F0008}']]) {
        const span = document.createElement('span');
        span.id = id;
        span.textContent = text;
        span.style.cssText = 'position:fixed;top:0;left:0;font-size:32px;background:#fff;color:#000;z-index:9999';
        document.body.append(span);
      }
    })()`);
    const real = await page.locator('#glyphs-real').screenshot();
    const none = await page.locator('#glyphs-none').screenshot();
    expect(real.equals(none)).toBe(false);
    await page.evaluate(`document.getElementById('glyphs-real').remove(); document.getElementById('glyphs-none').remove();`);
  }, 60_000);

  it('replies to the patient from the inbox: the text reaches their phone and the item shows it', async () => {
    const item = page.locator('#inbox-list li', { hasText: 'can I bring my daughter along?' });
    await item.waitFor();
    await item.getByLabel('Reply to the patient').fill('Of course, see you both on Friday.');
    await item.getByRole('button', { name: 'Send text' }).press('Enter');
    await expect
      .poll(async () => (await phonesApi(t).received(PATIENT.phone)).at(-1), { timeout: 15_000 })
      .toBe('Of course, see you both on Friday.');
    await page.locator('#inbox-list li', { hasText: /Texted back .* by admin: sent/ }).waitFor();
    expect(problems).toEqual([]);
  }, 60_000);

  for (const width of WIDTHS) {
    it(`at ${width} px: no serious accessibility finding, no sideways scrolling, a screenshot of every view`, async () => {
      await page.setViewportSize({ width, height: 900 });
      await page.locator(`#appointments-table tbody tr[data-appointment-id="${PATIENT.id}"]`).waitFor();
      await page.locator('#figures-charts svg').first().waitFor();
      expect(await seriousFindings()).toEqual([]);
      expect(await overflowing(page)).toEqual([]);
      expect(await shootEverySection(width)).toBeGreaterThanOrEqual(8);

      const row = page.locator(`#appointments-table tbody tr[data-appointment-id="${PATIENT.id}"]`);
      await row.getByRole('button', { name: /^History of / }).click();
      const dialog = page.locator('#history-dialog');
      await dialog.locator('li.tl').first().waitFor();
      expect(await seriousFindings(['#history-dialog'])).toEqual([]);
      expect(await overflowing(page)).toEqual([]);
      await dialog.screenshot({ path: path.join(SHOTS, `console-${width}-timeline.png`) });
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      expect(problems).toEqual([]);
    }, 90_000);
  }
});
