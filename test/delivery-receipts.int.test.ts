import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import twilio from 'twilio';
import { stateKey } from '../src/storage/keys';
import { ehrEvent } from './fixtures/events';
import { adminApi } from './support/admin';
import { flowTextPattern } from './support/flow-texts';
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

async function history(id: string): Promise<any> {
  await t.stack.settle();
  const res = await admin.call('history', { token: admin.mint('session'), query: { appointment_id: id } });
  expect(res.status).toBe(200);
  return res.json;
}

const deliveries = (h: any) =>
  (h.history as any[])
    .filter((e) => e.event_type === 'DELIVERY')
    .map((e) => ({ status: e.detail.status, error_code: e.detail.error_code }));

async function failTextsTo(phone: string, code: number | null) {
  const res = await fetch(`${t.stack.url}/__local/phones/${encodeURIComponent(phone)}/delivery`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ error_code: code }),
  });
  expect(res.status).toBe(200);
}

describe('delivery receipts through the Messaging Service status callback', () => {
  it('records queued, sent and delivered for the booking text in the appointment history', async () => {
    const phone = '+14155554001';
    const id = 'APT-dlr-ok';
    const res = await t.postEvents(ehrEvent({ appointment_id: id, patient_phone: phone }));
    expect(res.json.results[0].message).toBe('started');
    const h = await history(id);
    expect(deliveries(h)).toEqual([
      { status: 'queued', error_code: undefined },
      { status: 'sent', error_code: undefined },
      { status: 'delivered', error_code: undefined },
    ]);
    const [text] = (await phones.conversation(phone)).filter((m) => m.to === phone);
    expect(new Set((h.history as any[]).filter((e) => e.event_type === 'DELIVERY').map((e) => e.event_id))).toEqual(new Set([text?.sid]));
    expect(h.appointment.undeliverable).toBe('');
  });

  it('marks a landline undeliverable: the failure is in the history, the table shows it, the sweep sends no reminder, a new number clears it', async () => {
    const phone = '+14155554002';
    const id = 'APT-dlr-landline';
    await failTextsTo(phone, 30006);
    await t.postEvents(ehrEvent({ appointment_id: id, patient_phone: phone }));
    const h = await history(id);
    expect(deliveries(h)).toEqual([
      { status: 'queued', error_code: undefined },
      { status: 'sent', error_code: undefined },
      { status: 'undelivered', error_code: '30006' },
    ]);
    expect(h.appointment.undeliverable).toMatch(/^30006 \(landline or unreachable carrier\)/);
    expect(h.plan.stopped).toBe('undeliverable');
    const state = await t.getJson(stateKey(id));
    expect(state.undeliverable).toMatchObject({ phone, error_code: '30006' });

    // Both reminders' times pass (Dec 1 09:30 Los Angeles; due Nov 29 and Nov 30 at 17:30Z): nothing is sent.
    for (const at of ['2026-11-29T18:00:00Z', '2026-11-30T18:00:00Z']) {
      t.stack.clock.set(at);
      await t.stack.sweep();
    }
    expect(await phones.received(phone)).toHaveLength(1);

    // The EHR sends another number: reminders may go to it.
    const mobile = '+14155554003';
    await t.postEvents(
      ehrEvent({ appointment_id: id, patient_phone: mobile, event_type: 'MODIFIED', event_datetime_utc: '2026-11-30T17:59:00Z' }),
    );
    const after = await t.getJson(stateKey(id));
    expect(after.undeliverable).toBeUndefined();
    expect((await history(id)).plan.stopped).toBeUndefined();
    t.stack.clock.set(Date.parse('2026-11-25T16:00:00Z'));
  });

  it('refuses a status callback without a valid X-Twilio-Signature', async () => {
    const url = `${t.stack.url}/twilio/status`;
    const params = { MessageSid: `SM${'a'.repeat(32)}`, MessageStatus: 'undelivered', To: '+14155554004', ErrorCode: '30006' };
    const post = (signature: string) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
        body: new URLSearchParams(params).toString(),
      });
    expect((await post('bm90IGEgc2lnbmF0dXJl')).status).toBe(403);
    const signed = twilio.getExpectedTwilioSignature(t.stack.env.AUTH_TOKEN ?? '', url, params);
    const ok = await post(signed);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as any).recorded).toBe('no-appointment');
  });
});

describe('humane defaults end to end (08:00–21:00, 12 h between texts)', () => {
  it('holds the first reminder 12 hours after the booking text instead of sending it 5 hours after', async () => {
    const phone = '+14155554010';
    const id = 'APT-gap-booking';
    // Booked Nov 25 16:00Z for Nov 27 13:00 in Los Angeles (21:00Z): reminder 1 is due 48 h before, Nov 25 21:00Z.
    t.stack.clock.set('2026-11-25T16:00:00Z');
    await t.postEvents(
      ehrEvent({
        appointment_id: id,
        patient_phone: phone,
        event_datetime_utc: '2026-11-25T15:59:00Z',
        appointment_datetime: '2026-11-27T13:00:00',
      }),
    );
    const plan = (await history(id)).plan;
    expect(plan.next).toMatchObject({ kind: 'remind', n: 1, deferred_from: '2026-11-25T21:00:00.000Z', reason: 'min-gap' });
    expect(plan.next.at >= '2026-11-26T04:00:00.000Z' && plan.next.at < '2026-11-26T04:01:00.000Z').toBe(true);
    const reminders = async () => (await phones.received(phone)).filter((b) => flowTextPattern('send_remind').test(b));
    t.stack.clock.set('2026-11-25T21:05:00Z');
    await t.stack.sweep();
    expect(await reminders()).toHaveLength(0);
    // 12 h after the booking text: Nov 25 20:05 in Los Angeles, inside 08:00–21:00.
    t.stack.clock.set('2026-11-26T04:05:00Z');
    await t.stack.sweep();
    expect(await reminders()).toHaveLength(1);
    t.stack.clock.set(Date.parse('2026-11-25T16:00:00Z'));
  });
});
