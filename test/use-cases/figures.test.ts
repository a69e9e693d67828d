import { describe, expect, it } from 'vitest';
import type { PostJson } from '../../src/ehr/http-post';
import { EhrNotifier } from '../../src/ehr/notifier';
import { MemoryAppointmentStore } from '../../src/storage/memory-appointment-store';
import { dispatchTexts } from '../../src/use-cases/dispatch-texts';
import { handleReply, type ReplyDeps } from '../../src/use-cases/handle-reply';
import { recordDelivery } from '../../src/use-cases/record-delivery';
import { recordEvent } from '../../src/use-cases/record-event';
import { ehr, FakeFlows, manualClock, policy } from './support';

/** The fixture booking is in Los Angeles; 16:00Z on 25 Nov is 08:00 there, the same day. */
const DAY = '2026-11-25';

async function setup() {
  const store = new MemoryAppointmentStore();
  const clock = manualClock('2026-11-25T16:00:00Z');
  const post: PostJson = async () => ({ status: 200 });
  const notifier = new EhrNotifier({ endpoint: 'http://ehr.invalid/requests', secret: 'secret', store, now: clock.now, post });
  const deps: ReplyDeps = { record: { store, policy, now: clock.now, sleep: async () => {} }, notifier, homeCountry: 'US' };
  const flows = new FakeFlows();
  const figures = async () => (await store.readFigures([DAY]))[0]?.counts;
  return { store, clock, deps, flows, figures };
}

describe('dashboard figures, counted where each fact is recorded', () => {
  it('counts a booking text once when it goes out, as one that asks for a confirmation, and not again on redelivery', async () => {
    const t = await setup();
    const booking = ehr({ appointment_id: 'APT-1' });
    const recorded = await recordEvent(t.deps.record, booking);
    expect(recorded.text).toBe('claimed');
    await dispatchTexts({ store: t.store, flows: t.flows, policy, now: t.clock.now }, 'APT-1', recorded.owner as string);
    await recordEvent(t.deps.record, booking);
    await dispatchTexts({ store: t.store, flows: t.flows, policy, now: t.clock.now }, 'APT-1', 'someone-else');
    expect(t.flows.starts).toHaveLength(1);
    expect(await t.figures()).toMatchObject({ sent: 1, confirmation_asks: 1 });
  });

  it('counts a confirmation and a cancellation by text once per message, however often the webhook is replayed', async () => {
    const t = await setup();
    await recordEvent(t.deps.record, ehr({ appointment_id: 'APT-1' }));
    const phone = ehr().patient_phone;
    const confirm = { from: phone, body: '1', messageSid: `SM${'1'.repeat(32)}` };
    await handleReply(t.deps, confirm);
    await handleReply(t.deps, confirm);
    expect(await t.figures()).toMatchObject({ confirmed_by_text: 1, canceled_by_text: 0 });
    await recordEvent(t.deps.record, ehr({ appointment_id: 'APT-2', appointment_datetime: '2026-12-02T09:30:00' }));
    const cancel = { from: phone, body: 'CANCEL APPT', messageSid: `SM${'2'.repeat(32)}`, appointmentId: 'APT-2' };
    await handleReply(t.deps, cancel);
    await handleReply(t.deps, cancel);
    expect(await t.figures()).toMatchObject({ confirmed_by_text: 1, canceled_by_text: 1 });
  });

  it('counts a no-show from the EHR once, whatever the EHR resends', async () => {
    const t = await setup();
    await recordEvent(t.deps.record, ehr({ appointment_id: 'APT-1' }));
    const noShow = ehr({ appointment_id: 'APT-1', event_type: 'NOSHOWED', event_datetime_utc: '2026-11-25T15:59:30Z' });
    await recordEvent(t.deps.record, noShow);
    await recordEvent(t.deps.record, noShow);
    expect((await t.figures())?.no_shows).toBe(1);
  });

  it('counts a text delivered once and a text that failed then came back undelivered as one failure', async () => {
    const t = await setup();
    const booking = ehr({ appointment_id: 'APT-1' });
    const r = await recordEvent(t.deps.record, booking);
    await dispatchTexts({ store: t.store, flows: t.flows, policy, now: t.clock.now }, 'APT-1', r.owner as string);
    const deps = { store: t.store, policy, now: t.clock.now };
    await recordDelivery(deps, { messageSid: 'SMa', status: 'sent', to: booking.patient_phone });
    await recordDelivery(deps, { messageSid: 'SMa', status: 'delivered', to: booking.patient_phone });
    await recordDelivery(deps, { messageSid: 'SMa', status: 'delivered', to: booking.patient_phone });
    await recordDelivery(deps, { messageSid: 'SMb', status: 'failed', to: booking.patient_phone, errorCode: '30008' });
    await recordDelivery(deps, { messageSid: 'SMb', status: 'undelivered', to: booking.patient_phone, errorCode: '30008' });
    expect(await t.figures()).toMatchObject({ delivered: 1, failed: 1 });
  });

  it('counts a phone opting out once, records how, and does not count a second STOP from a phone already out', async () => {
    const t = await setup();
    const phone = ehr().patient_phone;
    await recordEvent(t.deps.record, ehr({ appointment_id: 'APT-1' }));
    await handleReply(t.deps, { from: phone, body: 'please stop texting me', messageSid: `SM${'3'.repeat(32)}` });
    await handleReply(t.deps, { from: phone, body: 'please stop texting me', messageSid: `SM${'3'.repeat(32)}` });
    await handleReply(t.deps, { from: phone, body: 'STOP', messageSid: `SM${'4'.repeat(32)}`, optOutType: 'STOP' });
    expect((await t.figures())?.opt_outs).toBe(1);
    expect((await t.store.getOptOut(phone))?.how).toBe('twilio-keyword');
    expect((await t.store.listOptOuts({ limit: 10 })).records.map((x) => x.phone)).toEqual([phone]);
  });

  it('files a fact on the day where the appointment is, not the UTC day', async () => {
    const t = await setup();
    // 03:00Z on the 26th is still the evening of the 25th in Los Angeles.
    t.clock.set('2026-11-26T03:00:00Z');
    await recordEvent(t.deps.record, ehr({ appointment_id: 'APT-1', event_datetime_utc: '2026-11-26T02:59:00Z' }));
    await recordEvent(t.deps.record, ehr({ appointment_id: 'APT-1', event_type: 'NOSHOWED', event_datetime_utc: '2026-11-26T02:59:30Z' }));
    const [la, utc] = await t.store.readFigures([DAY, '2026-11-26']);
    expect([la?.counts.no_shows, utc?.counts.no_shows]).toEqual([1, 0]);
  });
});
