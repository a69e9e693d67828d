import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { ROOT } from '../../scripts/lib/build-service';
import { findChromium } from './chromium';
import type { TestStack } from './local-stack';

/**
 * One Chromium for a browser test file: `CHROMIUM_PATH`, a system Chromium on PATH, else the one in
 * @sparticuz/chromium (test/support/chromium.ts), so the e2e tests run on a fresh machine and never
 * skip. Every console error and uncaught exception of the page is kept in `problems`; the tests
 * assert it stays empty.
 */
export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  problems: string[];
  close(): Promise<void>;
}

// The network is closed here: without these Chromium waits on connections it will never get.
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function openBrowser(options: { viewport?: { width: number; height: number }; name: string }): Promise<BrowserSession> {
  const browser = await findChromium();
  console.info(`${options.name}: Chromium from ${browser.source}: ${browser.executablePath}`);
  const profile = mkdtempSync(path.join(os.tmpdir(), `pam-chromium-${options.name}-`));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: browser.executablePath,
    headless: true,
    args: [...new Set([...ARGS, ...browser.args])],
    viewport: options.viewport ?? { width: 1280, height: 900 },
    acceptDownloads: true,
    // Keeps Chromium's crash reports and caches out of the home folder.
    env: { ...process.env, HOME: profile, XDG_CONFIG_HOME: profile, XDG_CACHE_HOME: profile },
  });
  const problems: string[] = [];
  const page = context.pages()[0] ?? (await context.newPage());
  watch(page, problems);
  return {
    context,
    page,
    problems,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Records the page's console errors and uncaught exceptions in `problems`. */
export function watch(page: Page, problems: string[]): Page {
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  return page;
}

export interface AxeFinding {
  id: string;
  impact: string;
  targets: string[];
}

/**
 * axe-core's WCAG 2 A/AA rules over the page (or the given parts of it). Evaluated through the
 * DevTools protocol: the page's CSP (script-src 'self') refuses an injected <script>.
 */
export async function axeFindings(page: Page, selectors?: string[]): Promise<{ passes: number; violations: AxeFinding[] }> {
  await page.evaluate(readFileSync(path.join(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8'));
  const context = selectors ? `{ include: ${JSON.stringify(selectors.map((s) => [s]))} }` : 'document';
  const found = await page.evaluate<{ passes: number; violations: AxeFinding[] }>(
    `axe.run(${context}, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }).then((r) => ({ passes: r.passes.length, violations: r.violations.map((v) => ({ id: v.id, impact: v.impact || 'unknown', targets: v.nodes.map((n) => n.target.join(' ')) })) }))`,
  );
  // Rules that passed prove the check looked at something (an empty selection passes vacuously).
  expect(found.passes).toBeGreaterThan(3);
  return found;
}

/** The rule ids (with their elements) that fail, of every impact. */
export async function axeViolations(page: Page, selectors?: string[]): Promise<string[]> {
  return (await axeFindings(page, selectors)).violations.map((v) => `${v.id}: ${v.targets.join(', ')}`);
}

/** Every section (and the page itself) whose content is wider than its box. */
export async function overflowing(page: Page): Promise<string[]> {
  // A string, as the node typings have no DOM: it runs in the page.
  return page.evaluate<string[]>(`(() => {
    const boxes = [document.documentElement, ...document.querySelectorAll('section, dialog[open], dialog[open] li')];
    return boxes
      .filter((el) => el.offsetParent !== null || el === document.documentElement || el.tagName === 'DIALOG')
      .filter((el) => el.scrollWidth > el.clientWidth)
      .map((el) => el.tagName.toLowerCase() + '#' + (el.id || el.className) + ': ' + el.scrollWidth + ' > ' + el.clientWidth);
  })()`);
}

/** The administrator's two login steps, the code read from the page's local panel as the SMS would be. */
export async function logInAsAdministrator(page: Page, t: TestStack): Promise<void> {
  await page.goto(t.stack.url);
  await page.locator('#password').fill(t.stack.env.APPLICATION_PASSWORD ?? '');
  await page.locator('#password').press('Enter');
  const code = page.locator('#local-code');
  await expect.poll(async () => code.textContent(), { timeout: 10_000 }).toMatch(/^\d{6}$/);
  await page.locator('#code').fill((await code.textContent()) ?? '');
  await page.locator('#code').press('Enter');
  await page.locator('#app').waitFor({ state: 'visible' });
}
