import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations as axeIn, openBrowser, type BrowserSession } from '../support/browser';
import { startTestStack, type TestStack } from '../support/local-stack';
import { started } from '../support/started';

/**
 * Staff accounts and the audit log on the real page, in Chromium (test/support/browser.ts).
 */
const NINA = {
  id: 'nina',
  name: 'Nina Frontdesk',
  phone: '+14155553201',
  password: 'nina-initial-passphrase',
  later: 'nina-chosen-passphrase',
};

let t: TestStack;
let browser: BrowserSession;
let page: Page;
let problems: string[] = [];

beforeAll(async () => {
  t = await startTestStack();
  browser = await openBrowser({ name: 'users' });
  ({ page, problems } = browser);
}, 120_000);

afterAll(async () => {
  await started(browser)?.close();
  await started(t)?.stop();
});

/** Both login steps on the page; the code is read from the local Verify, as the texted SMS would be. */
async function logIn(username: string, password: string, phone: string): Promise<void> {
  await page.locator('#password-form').waitFor({ state: 'visible' });
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  const before = t.stack.verify.lastCodeFor(phone);
  await page.locator('#password-submit').click();
  await page.locator('#code-form').waitFor({ state: 'visible' });
  await t.stack.settle();
  await expect.poll(() => t.stack.verify.lastCodeFor(phone), { timeout: 10_000 }).not.toBe(before);
  await page.locator('#code').fill(t.stack.verify.lastCodeFor(phone) ?? '');
  await page.locator('#code-submit').click();
  await page.locator('#app').waitFor({ state: 'visible' });
}

const axeViolations = (selectors: string[]) => axeIn(page, selectors);

async function logOut(): Promise<void> {
  await page.locator('#logout').click();
  await page.locator('#login').waitFor({ state: 'visible' });
}

describe('staff users and the audit log in Chromium', () => {
  it('the administrator adds a staff user; the user logs in and sees only what the staff role may use', async () => {
    await page.goto(t.stack.url);
    await page.locator('#password-form').waitFor({ state: 'visible' });
    expect(await axeViolations(['#login'])).toEqual([]);
    await logIn('', t.stack.env.APPLICATION_PASSWORD ?? '', t.stack.env.ADMINISTRATOR_PHONE ?? '');
    await page.locator('#users').waitFor({ state: 'visible' });
    await page.locator('#users-table tr[data-user="admin"]').waitFor();
    expect(await page.locator('#session-info').textContent()).toMatch(/^Logged in as administrator/);
    expect(await page.locator('#account').isVisible()).toBe(false);

    // A refused user names the field in words, and marks it for assistive technology.
    await page.locator('#user-id').fill(NINA.id);
    await page.locator('#user-name').fill(NINA.name);
    await page.locator('#user-phone').fill(NINA.phone);
    await page.locator('#user-password').fill('too short');
    await page.locator('#user-submit').click();
    await page.locator('#user-result[data-state="error"]').waitFor();
    expect(await page.locator('#user-result').textContent()).toContain('password must be at least 12 characters');
    expect(await page.locator('#user-password').getAttribute('aria-invalid')).toBe('true');
    // That 400 was asked for; from here on the console must stay clean.
    expect(problems).toEqual(['console: Failed to load resource: the server responded with a status of 400 (Bad Request)']);
    problems.length = 0;

    await page.locator('#user-password').fill(NINA.password);
    await page.locator('#user-submit').click();
    await page.locator('#user-result[data-state="ok"]').waitFor();
    const row = page.locator('#users-table tr[data-user="nina"]');
    await row.waitFor();
    expect(await row.textContent()).toContain('staff');
    expect(await row.textContent()).not.toContain(NINA.phone);
    await page.locator('#audit-state:not(:text("Loading…"))').waitFor();
    expect(await axeViolations(['#users', '#audit'])).toEqual([]);

    await logOut();
    await logIn(NINA.id, NINA.password, NINA.phone);
    expect(await page.locator('#session-info').textContent()).toMatch(/^Logged in as nina \(staff\)/);
    await page.locator('#appointments-state:not(:text("Loading…"))').waitFor();
    expect(await page.locator('#appointments').isVisible()).toBe(true);
    expect(await page.locator('#inbox').isVisible()).toBe(true);
    for (const hidden of [
      '#settings',
      '#status',
      '#simulation',
      '#users',
      '#audit',
      '#rejected',
      '#export-appointments',
      '#export-history',
    ]) {
      expect(await page.locator(hidden).isVisible(), hidden).toBe(false);
    }
    // The page asked for nothing the role is refused: no 403 in the console.
    expect(problems).toEqual([]);

    // Nina sets a password of her own; she is logged out and logs in with it.
    expect(await page.locator('#account').isVisible()).toBe(true);
    expect(await axeViolations(['#account'])).toEqual([]);
    await page.locator('#my-password-current').fill(NINA.password);
    await page.locator('#my-password-new').fill(NINA.later);
    await page.locator('#my-password-submit').click();
    await page.locator('#login-message', { hasText: 'Your password is changed' }).waitFor();
  });

  it('the administrator disables the user, ending their session, and reads and exports the audit log', async () => {
    // Nina's session token, kept as another browser would keep it, before the administrator disables her.
    await logIn(NINA.id, NINA.later, NINA.phone);
    const ninaToken = await page.evaluate<string>("JSON.parse(sessionStorage.getItem('pam.admin.session')).token");
    await logOut();
    await logIn('admin', t.stack.env.APPLICATION_PASSWORD ?? '', t.stack.env.ADMINISTRATOR_PHONE ?? '');
    const row = page.locator('#users-table tr[data-user="nina"]');
    await row.locator('button', { hasText: 'Disable' }).click();
    await page.locator('#users-table tr[data-user="nina"] .badge', { hasText: 'disabled' }).waitFor();
    const refused = await fetch(`${t.stack.url}/admin/appointments`, { headers: { authorization: `Bearer ${ninaToken}` } });
    expect(refused.status).toBe(401);

    await page.locator('#audit-show').click();
    await page.locator('#audit-table tbody tr', { hasText: 'user.update' }).waitFor();
    const text = (await page.locator('#audit-table').textContent()) ?? '';
    for (const action of ['login.code', 'user.add', 'user.update', 'appointments.list']) expect(text).toContain(action);
    expect(text).toContain('nina (staff)');
    expect(text).not.toContain(NINA.password);
    expect(text).not.toContain(NINA.phone);

    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#audit-export').click()]);
    const file = await download.path();
    const csv = readFileSync(file, 'utf8');
    expect(csv.startsWith('\ufeffat,user_id,role,action,outcome,target')).toBe(true);
    expect(csv).toContain(',nina,staff,login.code,success,');
    expect(csv).not.toContain(NINA.phone);
    expect(problems).toEqual([]);
  });
});
