import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/lib/build-service';
import { openBrowser, watch as watchPage, type BrowserSession } from '../support/browser';
import { flowTextPattern } from '../support/flow-texts';
import { startTestStack, type TestStack } from '../support/local-stack';
import { phonesApi } from '../support/phones';
import { started } from '../support/started';

/**
 * The admin page in a real browser: Chromium driven by playwright-core, against the whole local
 * stack. The browser is `CHROMIUM_PATH`, else a system Chromium on PATH (CI installs Debian's),
 * else the one inside the @sparticuz/chromium dev dependency (test/support/chromium.ts), so the
 * test runs on a fresh machine and never skips.
 */
const SHOTS = path.join(ROOT, 'test-output', 'screenshots');
/** The flow's texts as they appear inside a conversation entry (test/support/flow-texts.ts). */
const IN_TEXT = {
  booked: flowTextPattern('send_booked', { whole: false }),
  reminder: flowTextPattern('send_remind', { whole: false }),
  thanks: flowTextPattern('send_confirm_ack', { whole: false }),
  confirmed: flowTextPattern('send_confirmed', { whole: false }),
};
let t: TestStack;
let browser: BrowserSession;
let page: Page;
let problems: string[] = [];
let shot = 0;

async function screenshot(name: string, on: Page = page): Promise<void> {
  shot += 1;
  await on.screenshot({ path: path.join(SHOTS, `admin-${String(shot).padStart(2, '0')}-${name}.png`), fullPage: true });
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  // The paste box's HL7 sample is read in the receiver's zone, as a real feed's is.
  t = await startTestStack({ EHR_DEFAULT_TIMEZONE: 'America/New_York' });
  browser = await openBrowser({ name: 'admin' });
  ({ page, problems } = browser);
}, 120_000);

/** Any console error or uncaught exception fails the test. */
const watch = (p: Page): Page => watchPage(p, problems);

afterAll(async () => {
  await started(browser)?.close();
  await started(t)?.stop();
});

describe('admin page in Chromium', () => {
  it('logs in with password and code, simulates a booking, a reminder and a reply, and shows the result everywhere', async () => {
    await page.goto(t.stack.url);
    await page.locator('#login').waitFor({ state: 'visible' });
    await page.locator('#local-panel').waitFor({ state: 'visible' });
    expect(await page.locator('#local-admin-phone').textContent()).toBe(t.stack.env.ADMINISTRATOR_PHONE);
    await screenshot('login');

    // Step 1 by keyboard: type the password, press Enter.
    await page.locator('#password').fill(t.stack.env.APPLICATION_PASSWORD ?? '');
    await page.locator('#password').press('Enter');
    await page.locator('#code-form').waitFor({ state: 'visible' });
    const code = page.locator('#local-code');
    await expect.poll(async () => code.textContent(), { timeout: 10_000 }).toMatch(/^\d{6}$/);
    await screenshot('code-in-local-panel');

    await page.locator('#code').fill((await code.textContent()) ?? '');
    await page.locator('#code').press('Enter');
    await page.locator('#app').waitFor({ state: 'visible' });
    // The browser is now known: its device token outlives the tab (src/admin/README.md, "Lockout").
    expect(await page.evaluate("localStorage.getItem('pam.admin.device')")).toMatch(/^v1\./);
    expect(await page.evaluate("sessionStorage.getItem('pam.admin.session')")).not.toContain('device_token');
    await page.locator('#settings-summary[data-state="ok"]').waitFor();
    expect(await page.locator('#settings-summary').textContent()).toBe('All settings are valid.');
    await page.locator('#status-summary:not([data-state="loading"])').waitFor();
    expect(await page.locator('#status-list li[data-component="studio-flow"] .badge').textContent()).toBe('OK');
    // Locally the sweep runs on a timer (off in tests); the status panel can run it now.
    await page.locator('#sweep-now').click();
    await page.locator('#sweep-now-result', { hasText: /^Done/ }).waitFor();
    await page.locator('#status-summary[data-state="ok"]').waitFor();
    expect(await page.locator('#status-list li[data-component="reminder-sweep"] .detail').textContent()).toMatch(/^last ran/);
    await screenshot('settings-and-status-green');

    // The admin plays the EHR for one patient.
    const phone = '+14155553001';
    await page.locator('#sim-patient_first_name').fill('Zoë');
    await page.locator('#sim-patient_last_name').fill('Tester');
    await page.locator('#sim-patient_phone').fill(phone);
    const appointmentId = await page.locator('#sim-appointment_id').inputValue();
    await page.locator('button[data-event="BOOKED"]').click();
    const conversation = page.locator('#conversation');
    await conversation.locator('li.msg.outbound', { hasText: IN_TEXT.booked }).waitFor();
    expect(await page.locator('#phone-number').textContent()).toBe(phone);
    await screenshot('booked');

    await page.locator('button[data-event="REMIND"]').click();
    await conversation.locator('li.msg.outbound', { hasText: IN_TEXT.reminder }).waitFor();
    await page.locator('#sim-result[data-state="ok"]', { hasText: 'REMIND' }).waitFor();
    await screenshot('reminder');

    // The patient answers from the virtual phone; the flow forwards the request to the EHR.
    await page.locator('#reply-body').fill('CONFIRM APPT');
    await page.locator('#reply-body').press('Enter');
    await conversation.locator('li.msg.inbound', { hasText: 'CONFIRM APPT' }).waitFor();
    await conversation.locator('li.msg.outbound', { hasText: IN_TEXT.thanks }).waitFor();
    await page.locator('#ehr-requests li[data-event-type="CONFIRM"]', { hasText: appointmentId }).waitFor();
    await screenshot('confirm-request-at-ehr');

    const row = page.locator(`#appointments-table tr[data-appointment-id="${appointmentId}"]`);
    await row.locator('.disposition', { hasText: 'patient asked: CONFIRM' }).waitFor();
    expect(await row.locator('.disposition .badge').textContent()).toBe('REMINDED-1');
    await screenshot('appointments-reminded');

    // The EHR answers the request: the disposition becomes CONFIRMED.
    await page.locator('button[data-event="CONFIRMED"]').click();
    await conversation.locator('li.msg.outbound', { hasText: IN_TEXT.confirmed }).waitFor();
    await row.locator('.disposition .badge', { hasText: 'CONFIRMED' }).waitFor();
    expect(await row.locator('td').nth(4).textContent()).toContain('No more reminders');
    await screenshot('appointments-confirmed');

    // The appointment's history, opened and closed by keyboard.
    await row.getByRole('button', { name: `History of ${appointmentId}` }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.locator('#history-dialog');
    await dialog.locator('li[data-kind="ehr-event"] strong', { hasText: 'Confirmed in the EHR' }).waitFor();
    expect(await dialog.locator('li[data-kind="ehr-event"] strong').allTextContents()).toEqual([
      'Booked in the EHR',
      'Confirmed in the EHR',
    ]);
    expect(await dialog.locator('li[data-kind="reply"] strong').allTextContents()).toEqual(
      expect.arrayContaining(['Patient asked to confirm', 'Patient replied']),
    );
    // Each text with its words and delivery status, named "Text n" with the SID as its tooltip.
    const reminderText = dialog.locator('li[data-kind="text"]', { hasText: 'Reminder from Owl Health Clinic' });
    expect(await reminderText.locator('.tl-status').textContent()).toMatch(/^Delivery: /);
    expect(await reminderText.locator('.tl-ref').getAttribute('title')).toMatch(/^SM[0-9a-f]{32}$/);
    // Times in the stack's clinic zone (New York here), the zone named.
    expect(await dialog.locator('#timeline-zone').textContent()).toContain('America/New_York');
    for (const when of await dialog.locator('li.tl time').allTextContents()) expect(when).toMatch(/ E[SD]T$/);
    await screenshot('history');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });

    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#export-appointments').click()]);
    const csv = readFileSync(await download.path(), 'utf8');
    expect(csv.split('\r\n')[0]).toMatch(/^\ufeffappointment_id,disposition,/);
    expect(csv).toContain(`${appointmentId},CONFIRMED,`);

    // An engine's HL7 message, pasted: the real /ehr/hl7 answers AA and the new appointment is in the table.
    await page.locator('#paste-format').selectOption('hl7v2');
    await page.locator('#paste-sample').click();
    const pastedId = /^SCH\|[^|]*\|([^|]+)\|/m.exec(await page.locator('#paste-message').inputValue())?.[1] ?? '';
    expect(pastedId).toMatch(/^SIM-HL7-/);
    await page.locator('#paste-send').click();
    await page.locator('#paste-summary[data-state="ok"]', { hasText: 'POST /ehr/hl7 answered 200, AA' }).waitFor();
    expect(await page.locator('#paste-result [data-ack-code]').textContent()).toBe('AA');
    await page.getByRole('button', { name: `Show ${pastedId} in the appointments table` }).click();
    await page.locator(`#appointments-table tr.current[data-appointment-id="${pastedId}"] .badge`, { hasText: 'QUEUED' }).waitFor();
    await screenshot('pasted-hl7');

    // Readable at phone width: nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator('#simulation').scrollIntoViewIfNeeded();
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await screenshot('phone-width');

    expect(problems).toEqual([]);
  }, 120_000);

  it('deployed mode: the same page follows the conversation and the EHR deliveries through the admin Functions', async () => {
    // Deployed, the Functions report local=false: no local panel, no virtual-phone stream, no reply box.
    // Nor a local clock: the page books from the browser's time, so the service runs on real time too.
    t.stack.clock.set(Date.now());
    const deployed = watch(await browser.context.newPage());
    await deployed.route('**/admin/environment', (route) =>
      route.fulfill({
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify({ local: false, customer_name: 'Owl Health Clinic' }),
      }),
    );
    await deployed.goto(t.stack.url);
    await deployed.locator('#password').fill(t.stack.env.APPLICATION_PASSWORD ?? '');
    await deployed.locator('#password').press('Enter');
    await deployed.locator('#code-form').waitFor({ state: 'visible' });
    expect(await deployed.locator('#local-panel').isHidden()).toBe(true);
    // The administrator reads the code on their phone.
    await t.stack.settle();
    await deployed.locator('#code').fill(t.stack.verify.lastCodeFor(t.stack.env.ADMINISTRATOR_PHONE ?? '') ?? '');
    await deployed.locator('#code').press('Enter');
    await deployed.locator('#settings-summary[data-state="ok"]').waitFor();
    expect(await deployed.locator('#sweep-now-box').isHidden()).toBe(true);

    const phone = '+14155553002';
    await deployed.locator('#sim-patient_first_name').fill('Ana');
    await deployed.locator('#sim-patient_phone').fill(phone);
    const appointmentId = await deployed.locator('#sim-appointment_id').inputValue();
    await deployed.locator('button[data-event="BOOKED"]').click();
    const conversation = deployed.locator('#conversation');
    await conversation.locator('li.msg.outbound', { hasText: IN_TEXT.booked }).waitFor();
    expect(await deployed.locator('#reply-form').isHidden()).toBe(true);
    expect(await deployed.locator('#reply-deployed').isVisible()).toBe(true);

    // The patient answers from their own phone in a later second than the booking text (the log's
    // times have one-second resolution); the message log and the delivery records show it.
    const bookedSecond = Math.floor((t.stack.carrier.conversation(phone).at(-1)?.dateCreated.getTime() ?? Infinity) / 1000);
    await expect.poll(() => Math.floor(t.stack.clock.now() / 1000) > bookedSecond, { timeout: 5_000, interval: 50 }).toBe(true);
    await phonesApi(t).send(phone, 'CONFIRM APPT');
    await conversation.locator('li.msg.inbound', { hasText: 'CONFIRM APPT' }).waitFor({ timeout: 15_000 });
    await conversation.locator('li.msg.outbound', { hasText: IN_TEXT.thanks }).waitFor({ timeout: 15_000 });
    const texts = await conversation.locator('li.msg').allTextContents();
    expect(
      texts.map((m) =>
        IN_TEXT.booked.test(m)
          ? 'booked'
          : m.includes('CONFIRM APPT') && m.startsWith('Patient')
            ? 'reply'
            : IN_TEXT.thanks.test(m)
              ? 'thanks'
              : m,
      ),
    ).toEqual(['booked', 'reply', 'thanks']);
    await deployed.locator('#ehr-requests li[data-event-type="CONFIRM"]', { hasText: appointmentId }).waitFor({ timeout: 15_000 });
    expect(await deployed.locator('#ehr-requests li').first().textContent()).toContain('delivered');
    await screenshot('deployed-mode', deployed);

    await deployed.close();
    expect(problems).toEqual([]);
  }, 120_000);

  it('dashboard: the figures of a period with a chart per figure and a table, the settings in words, and the opt-out list', async () => {
    // The deployed-mode test booked +14155553002 on today's date; now the patient opts out.
    await phonesApi(t).send('+14155553002', 'STOP');
    await page.reload();
    await page.locator('#app').waitFor({ state: 'visible' });
    await page.locator('#figures-state[data-state="info"]').waitFor();
    const sent = Number(await page.locator('#figures-totals [data-figure="sent"] .figure-value').textContent());
    expect(sent).toBeGreaterThanOrEqual(1);
    expect(await page.locator('#figures-totals [data-figure="confirmation_rate"] .figure-def').textContent()).toMatch(
      /Confirmed by text ÷ texts asking/,
    );
    const charts = page.locator('#figures-charts svg[role="img"]');
    expect(await charts.count()).toBe(8);
    expect(await charts.first().getAttribute('aria-label')).toMatch(/^Texts sent, per day: [^,]+ \d+(, [^,]+ \d+){6}$/);
    // The table holds the same numbers as the tiles.
    const perDay = await page.locator('#figures-table tbody tr td:nth-of-type(1)').allTextContents();
    expect(perDay).toHaveLength(7);
    expect(perDay.reduce((a, b) => a + Number(b), 0)).toBe(sent);
    await page.locator('#figures-period').selectOption('30');
    await expect.poll(() => page.locator('#figures-table tbody tr').count()).toBe(30);

    await page
      .locator('#in-force-list [data-key="reminders"]', { hasText: 'First reminder 48 h before the appointment, second 24 h before.' })
      .waitFor();
    expect(await page.locator('#in-force-list [data-key="window"]').textContent()).toContain('between 08:00 and 21:00');

    await page.locator('#opt-outs-q').fill('555-3002');
    await page.locator('#opt-outs-search').click();
    await page.locator('#opt-outs-table tbody tr', { hasText: '+14155553002' }).filter({ hasText: 'STOP keyword' }).waitFor();
    expect(await page.locator('#opt-outs button').allTextContents()).not.toContainEqual(
      expect.stringMatching(/opt.?in|undo|remove|resubscribe/i),
    );
    await page.locator('#figures').scrollIntoViewIfNeeded();
    await screenshot('figures');

    // A service that says the simulation is off here (a deployed one without SIMULATION_ENABLED): no panel, no link to it.
    expect(await page.locator('#simulation').isVisible()).toBe(true);
    await page.route('**/admin/settings-in-force', (route) =>
      route.fulfill({
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify({ settings: [], simulation: { mode: 'deployed', enabled: false, allowed_phones: 0 } }),
      }),
    );
    await page.reload();
    await page.locator('#app').waitFor({ state: 'visible' });
    await page.locator('#simulation').waitFor({ state: 'hidden' });
    expect(await page.locator('#simulation-link').isHidden()).toBe(true);
    await page.unroute('**/admin/settings-in-force');
    expect(problems).toEqual([]);
  }, 120_000);
});
