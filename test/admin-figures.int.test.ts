import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ehrEvent } from './fixtures/events';
import { HOUR, utcAt } from './fixtures/time';
import { adminApi } from './support/admin';
import { startTestStack, type TestStack } from './support/local-stack';
import { phonesApi } from './support/phones';
import { started } from './support/started';

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers of the admin API */

let t: TestStack;
let phones: ReturnType<typeof phonesApi>;
let admin: ReturnType<typeof adminApi>;
beforeAll(async () => {
  t = await startTestStack();
  phones = phonesApi(t);
  admin = adminApi(t);
});
afterAll(async () => {
  await started(t)?.stop();
});

/** The fixture week in Los Angeles: bookings on Wed 25 Nov, reminders from Sun 29 Nov. */
const PERIOD = { from: '2026-11-24', to: '2026-11-30' };

async function figures(query: Record<string, string> = PERIOD): Promise<any> {
  await t.stack.settle();
  const res = await admin.call('figures', { token: admin.mint('session'), query });
  expect(res.status).toBe(200);
  return res.json;
}

const day = (f: any, d: string) => (f.days as any[]).find((x) => x.day === d)?.counts;

async function failTextsTo(phone: string, code: number | null) {
  const res = await fetch(`${t.stack.url}/__local/phones/${encodeURIComponent(phone)}/delivery`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ error_code: code }),
  });
  expect(res.status).toBe(200);
}

/** Texts the carrier delivered to these phones (every one not failed on purpose). */
async function textsTo(list: string[]): Promise<number> {
  let n = 0;
  for (const p of list) n += (await phones.received(p)).length;
  return n;
}

describe('the dashboard figures, through the admin API on the local stack', () => {
  const confirmer = '+14155556001';
  const canceller = '+14155556002';
  const landline = '+14155556003';
  const stopper = '+14155556004';
  const reviser = '+14155556005';

  it('starts at zero for every day of the period, with the definitions shown beside the figures', async () => {
    const f = await figures();
    expect(f.days.map((d: any) => d.day)).toEqual([
      '2026-11-24',
      '2026-11-25',
      '2026-11-26',
      '2026-11-27',
      '2026-11-28',
      '2026-11-29',
      '2026-11-30',
    ]);
    expect(Object.values(f.totals).every((v) => v === 0)).toBe(true);
    expect(f.confirmation_rate).toBeNull();
    expect(f.definitions.confirmation_rate).toMatch(/Confirmed by text ÷ texts asking/);
  });

  it('counts booking texts sent and delivered, a failed text once, and an event the EHR resends not again', async () => {
    const bookings = [
      ehrEvent({ appointment_id: 'FIG-1', patient_phone: confirmer }),
      ehrEvent({ appointment_id: 'FIG-2', patient_phone: canceller }),
      ehrEvent({ appointment_id: 'FIG-4', patient_phone: stopper }),
      ehrEvent({ appointment_id: 'FIG-5', patient_phone: reviser }),
    ];
    await failTextsTo(landline, 30006);
    const landlineBooking = ehrEvent({ appointment_id: 'FIG-3', patient_phone: landline });
    expect((await t.postEvents([...bookings, landlineBooking])).status).toBe(202);
    // The engine retries the whole batch: nothing new is recorded, nothing counted twice.
    const again = await t.postEvents([...bookings, landlineBooking]);
    expect(again.json.results.every((r: any) => r.outcome === 'duplicate')).toBe(true);
    const f = await figures();
    expect(day(f, '2026-11-25')).toMatchObject({ sent: 5, confirmation_asks: 5, delivered: 4, failed: 1 });
    expect(f.totals.delivered).toBe(await textsTo([confirmer, canceller, stopper, reviser]));
    expect(await phones.received(landline)).toHaveLength(1);
  });

  it('counts a confirmation and a cancellation by text, and the confirmation rate over the texts that asked', async () => {
    await phones.send(confirmer, '1');
    await phones.send(canceller, '2');
    const f = await figures();
    expect(f.totals).toMatchObject({ confirmed_by_text: 1, canceled_by_text: 1 });
    expect(f.confirmation_rate).toBeCloseTo(1 / 5);
    // Every appointment text that did not fail was delivered, each counted once.
    expect(f.totals.delivered).toBe(f.totals.sent - f.totals.failed);
  });

  it('counts a no-show once, however often the EHR sends it', async () => {
    const noShow = ehrEvent({
      appointment_id: 'FIG-3',
      patient_phone: landline,
      event_type: 'NOSHOWED',
      event_datetime_utc: utcAt(-1 * HOUR),
    });
    await t.postEvents(noShow);
    await t.postEvents(noShow);
    expect((await figures()).totals.no_shows).toBe(1);
  });

  it('counts each phone that opts out once, lists it with how, and finds it by a fragment of the number', async () => {
    await phones.send(stopper, 'STOP');
    await phones.send(stopper, 'STOP');
    await phones.send(reviser, 'please stop texting me');
    const f = await figures();
    expect(f.totals.opt_outs).toBe(2);
    const token = admin.mint('session');
    const list = await admin.call('opt-outs', { token });
    expect(list.status).toBe(200);
    const byPhone = Object.fromEntries(list.json.opt_outs.map((o: any) => [o.phone, o]));
    expect(Object.keys(byPhone).sort()).toEqual([stopper, reviser]);
    expect(byPhone[stopper].how).toMatch(/keyword$/);
    expect(byPhone[reviser]).toMatchObject({ how: 'revocation', how_words: 'asked in their own words' });
    expect(Date.parse(byPhone[reviser].at)).not.toBeNaN();
    const found = await admin.call('opt-outs', { token, query: { q: '(415) 555-6005' } });
    expect(found.json.opt_outs.map((o: any) => o.phone)).toEqual([reviser]);
    const paged = await admin.call('opt-outs', { token, query: { limit: '1' } });
    expect(paged.json.opt_outs).toHaveLength(1);
    const rest = await admin.call('opt-outs', { token, query: { limit: '1', cursor: paged.json.cursor } });
    expect([...paged.json.opt_outs, ...rest.json.opt_outs].map((o: any) => o.phone).sort()).toEqual([stopper, reviser]);
    const bad = await admin.call('opt-outs', { token, query: { q: 'Ana' } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.problems[0].field).toBe('q');
  });

  it('counts the reminder the sweep sends as a text that asks for a confirmation, on the day it goes out', async () => {
    const reminded = '+14155556006';
    await t.postEvents(ehrEvent({ appointment_id: 'FIG-6', patient_phone: reminded }));
    const before = await figures();
    t.stack.clock.set('2026-11-29T18:00:00Z');
    await t.stack.sweep();
    await t.stack.sweep();
    const f = await figures();
    // Only FIG-6 is reminded: FIG-1 asked to confirm and FIG-2 to cancel (no more nudges), FIG-3 is a no-show, FIG-4 and FIG-5 opted out.
    expect(await phones.received(reminded)).toHaveLength(2);
    expect(day(f, '2026-11-29')).toMatchObject({ sent: 1, confirmation_asks: 1 });
    expect(f.totals.sent).toBe(before.totals.sent + 1);
  });

  it('shows the replies waiting in the inbox', async () => {
    await phones.send(confirmer, 'is there parking near the clinic?');
    expect((await figures()).inbox_waiting).toBe(1);
  });

  it('refuses a period that is not two dates, is backwards or too long, naming the field', async () => {
    const token = admin.mint('session');
    for (const [query, field] of [
      [{ from: '2026-11-31', to: '2026-12-01' }, 'from'],
      [{ from: '2026-11-01', to: 'today' }, 'to'],
      [{ from: '2026-12-01', to: '2026-11-01' }, 'from'],
      [{ from: '2026-01-01', to: '2026-12-31' }, 'from'],
    ] as const) {
      const res = await admin.call('figures', { token, query });
      expect(res.status).toBe(400);
      expect(res.json.error.problems[0].field).toBe(field);
      expect(res.text).not.toMatch(/at .*\.ts:\d+/);
    }
    expect((await admin.call('figures', { query: PERIOD })).status).toBe(401);
  });

  it('says the settings in force in words, with the EHR endpoint as its host only', async () => {
    const res = await admin.call('settings-in-force', { token: admin.mint('session') });
    expect(res.status).toBe(200);
    const words = Object.fromEntries(res.json.settings.map((s: any) => [s.key, s.words]));
    expect(words.reminders).toBe('First reminder 48 h before the appointment, second 24 h before.');
    expect(words.window).toBe("Reminders go out only between 08:00 and 21:00 in the patient's time (the appointment's time zone).");
    const endpoint = new URL(t.stack.env.IE_ENDPOINT ?? '');
    expect(words.ehr).toContain(endpoint.host);
    if (endpoint.pathname.length > 1) expect(res.text).not.toContain(endpoint.pathname);
    expect(res.json.simulation).toEqual({ mode: 'local', enabled: true });
  });
});
