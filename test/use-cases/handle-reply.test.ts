import { describe, expect, it } from 'vitest';
import type { PostJson } from '../../src/ehr/http-post';
import { EhrNotifier } from '../../src/ehr/notifier';
import { MemoryAppointmentStore } from '../../src/storage/memory-appointment-store';
import { handleReply, STATE_SETTLE_MS, type ReplyDeps } from '../../src/use-cases/handle-reply';
import { recordEvent } from '../../src/use-cases/record-event';
import { ehr, manualClock, policy } from './support';

/** A booked appointment on the in-memory store, and an EHR that accepts every request. */
async function setup() {
  const store = new MemoryAppointmentStore();
  const clock = manualClock('2026-11-25T16:00:00Z');
  const ehrRequests: { key: string | null; body: string }[] = [];
  const fakePost: PostJson = async (_url, options) => {
    ehrRequests.push({ key: options.headers['Idempotency-Key'] ?? null, body: options.body });
    return { status: 200 };
  };
  const notifier = new EhrNotifier({ endpoint: 'http://ehr.invalid/requests', secret: 'secret', store, now: clock.now, post: fakePost });
  const deps: ReplyDeps = { record: { store, policy, now: clock.now, sleep: async () => {} }, notifier, homeCountry: 'US' };
  const booking = ehr({ appointment_id: 'APT-1' });
  await recordEvent(deps.record, booking);
  return { store, clock, deps, ehrRequests, phone: booking.patient_phone };
}

describe('handleReply on the in-memory store', () => {
  it('records a confirmation once per MessageSid, however often the webhook is replayed', async () => {
    const t = await setup();
    const reply = { from: t.phone, body: 'CONFIRM APPT', messageSid: `SM${'1'.repeat(32)}` };
    const first = await handleReply(t.deps, reply);
    expect(first).toMatchObject({ action: 'confirm', appointment_id: 'APT-1', ehr_delivery: 'delivered' });

    t.clock.advance(10 * 60_000);
    const replayed = await handleReply(t.deps, reply);
    expect(replayed).toMatchObject({ action: 'confirm', appointment_id: 'APT-1', ehr_delivery: 'already-delivered' });

    expect(t.ehrRequests).toHaveLength(1);
    const state = (await t.store.getState('APT-1'))?.value;
    expect(state?.patient_request).toMatchObject({ type: 'CONFIRM', at: '2026-11-25T16:00:00.000Z' });
    expect((await t.store.listHistory('APT-1')).map((h) => h.event.event_type)).toEqual(['BOOKED', 'CONFIRM']);
    expect(await t.store.listOutbox('ehr')).toEqual([]);
  });

  it('treats a new message with the same words as a new request', async () => {
    const t = await setup();
    await handleReply(t.deps, { from: t.phone, body: 'CONFIRM APPT', messageSid: `SM${'1'.repeat(32)}` });
    t.clock.advance(60_000);
    await handleReply(t.deps, { from: t.phone, body: 'CONFIRM APPT', messageSid: `SM${'2'.repeat(32)}` });
    expect(new Set(t.ehrRequests.map((r) => r.key)).size).toBe(2);
  });

  it("keeps the opt-out ledger and records the opt-out on the patient's appointments once per message", async () => {
    const t = await setup();
    const stop = { from: t.phone, body: 'STOP', messageSid: `SM${'3'.repeat(32)}`, optOutType: 'STOP' };
    expect(await handleReply(t.deps, stop)).toMatchObject({ action: 'opt-out' });
    t.clock.advance(60_000);
    await handleReply(t.deps, stop);
    expect(await t.store.getOptOut(t.phone)).toMatchObject({ phone: t.phone, opted_out: true, message_sid: stop.messageSid });
    expect((await t.store.getState('APT-1'))?.value.disposition).toBe('OPTED-OUT');
    expect((await t.store.listHistory('APT-1')).map((h) => h.event.event_type)).toEqual(['BOOKED', 'OPTED-OUT']);
  });

  it('waits the settle time, on the injected sleep, for a booking whose state is still being written, then opts it out', async () => {
    const t = await setup();
    // A second booking for the same phone that read the ledger before the opt-out: announced by its
    // change marker, its state written only while the reply waits.
    const elsewhere = new MemoryAppointmentStore();
    await recordEvent({ ...t.deps.record, store: elsewhere }, ehr({ appointment_id: 'APT-2', patient_phone: t.phone }));
    const landing = (await elsewhere.getState('APT-2'))?.value;
    expect(landing?.opted_out).toBe(false);
    await t.store.markChange('APT-2', landing?.revision ?? 0, t.clock.now().toISOString(), t.phone);
    const asked: number[] = [];
    const sleep = async (ms: number) => {
      asked.push(ms);
      if (landing) await t.store.writeState(landing, null);
    };

    const stop = { from: t.phone, body: 'STOP', messageSid: `SM${'4'.repeat(32)}`, optOutType: 'STOP' };
    expect(await handleReply({ ...t.deps, sleep }, stop)).toMatchObject({ action: 'opt-out' });
    expect(asked).toEqual([STATE_SETTLE_MS]);
    for (const id of ['APT-1', 'APT-2']) expect((await t.store.getState(id))?.value.disposition).toBe('OPTED-OUT');
  });

  it('skips an announced booking whose state never lands, after one settle wait', async () => {
    const t = await setup();
    await t.store.markChange('APT-3', 1, t.clock.now().toISOString(), t.phone);
    const asked: number[] = [];
    const stop = { from: t.phone, body: 'STOP', messageSid: `SM${'5'.repeat(32)}`, optOutType: 'STOP' };
    await handleReply({ ...t.deps, sleep: async (ms) => void asked.push(ms) }, stop);
    expect(asked).toEqual([STATE_SETTLE_MS]);
    expect(await t.store.getState('APT-3')).toBeNull();
    expect((await t.store.getState('APT-1'))?.value.disposition).toBe('OPTED-OUT');
  });
});
