import { describe, expect, it } from 'vitest';
import { MemoryAppointmentStore } from '../../src/storage/memory-appointment-store';
import { dispatchTexts } from '../../src/use-cases/dispatch-texts';
import { recordEvent } from '../../src/use-cases/record-event';
import { ehr, FakeFlows, manualClock, policy, type FlowAnswer } from './support';

const MINUTE = 60_000;

/** A booking recorded on the in-memory store, its text claimed by the intake and not sent yet. */
async function booked(answers: FlowAnswer[] = []) {
  const store = new MemoryAppointmentStore();
  const clock = manualClock('2026-11-25T16:00:00Z');
  const flows = new FakeFlows(answers);
  const event = ehr({ appointment_id: 'APT-1' });
  const recorded = await recordEvent({ store, policy, now: clock.now }, event);
  if (recorded.text !== 'claimed' || !recorded.owner || !recorded.state || !recorded.etag) throw new Error('no text claimed');
  const known = { value: recorded.state, etag: recorded.etag };
  return { store, clock, flows, event, owner: recorded.owner, known, deps: { store, flows, policy, now: clock.now } };
}

describe('dispatchTexts on the in-memory store', () => {
  it('sends the booking text once and records it as sent', async () => {
    const t = await booked();
    const result = await dispatchTexts(t.deps, 'APT-1', t.owner, t.known);
    expect(result).toMatchObject({ sent: 1, status: 'idle' });
    expect(t.flows.starts.map((s) => s.event.event_type)).toEqual(['BOOKED']);
    const state = (await t.store.getState('APT-1'))?.value;
    expect(state?.outbox).toBeUndefined();
    expect(state?.log?.map((e) => [e.id, e.text])).toEqual([[t.event.event_id, 'sent']]);
    expect(result.current).toEqual(await t.store.getState('APT-1'));
    expect(await dispatchTexts(t.deps, 'APT-1', t.owner)).toMatchObject({ sent: 0, status: 'idle' });
    expect(t.flows.starts).toHaveLength(1);
  });

  it('records a text the flow starter refused (opted out) and sends nothing', async () => {
    const t = await booked(['opted-out']);
    const result = await dispatchTexts(t.deps, 'APT-1', t.owner, t.known);
    expect(result).toMatchObject({ sent: 0, status: 'refused' });
    const state = (await t.store.getState('APT-1'))?.value;
    expect(state?.outbox).toBeUndefined();
    expect(state?.log?.map((e) => e.text)).toEqual(['refused:opted-out']);
  });

  it('queues a text whose start failed for now, and sends it when its retry time comes', async () => {
    const t = await booked(['retryable']);
    const result = await dispatchTexts(t.deps, 'APT-1', t.owner, t.known);
    expect(result).toMatchObject({ sent: 0, status: 'queued-for-retry' });
    const pending = (await t.store.getState('APT-1'))?.value.outbox?.pending;
    expect(pending).toMatchObject({ id: t.event.event_id, attempts: 1, not_before: '2026-11-25T16:01:00.000Z' });
    expect(await dispatchTexts(t.deps, 'APT-1', 'sweep')).toMatchObject({ sent: 0, status: 'queued-for-retry' });
    t.clock.advance(MINUTE);
    expect(await dispatchTexts(t.deps, 'APT-1', 'sweep')).toMatchObject({ sent: 1, status: 'idle' });
    expect(t.flows.starts).toHaveLength(1);
  });

  it('marks a text Studio refused for good as refused', async () => {
    const t = await booked(['permanent']);
    expect(await dispatchTexts(t.deps, 'APT-1', t.owner, t.known)).toMatchObject({ sent: 0, status: 'refused' });
    expect((await t.store.getState('APT-1'))?.value.log?.map((e) => e.text)).toEqual(['refused:undeliverable']);
  });

  it("leaves another dispatcher's text alone during its lease, and takes it over after", async () => {
    const t = await booked();
    expect(await dispatchTexts(t.deps, 'APT-1', 'other')).toMatchObject({ sent: 0, status: 'in-flight' });
    expect(t.flows.starts).toHaveLength(0);
    t.clock.advance(3 * MINUTE);
    const result = await dispatchTexts(t.deps, 'APT-1', 'other');
    expect(result).toMatchObject({ sent: 1, status: 'idle' });
    expect(t.flows.asked).toContain(t.event.event_id);
    expect(t.flows.starts).toHaveLength(1);
    expect((await t.store.getState('APT-1'))?.value.log?.map((e) => e.text)).toEqual(['sent']);
  });

  it('after the lease, records as sent a text the crashed dispatcher did start, without sending it again', async () => {
    const t = await booked();
    t.flows.startedElsewhere(t.event.event_id);
    t.clock.advance(3 * MINUTE);
    expect(await dispatchTexts(t.deps, 'APT-1', 'other')).toMatchObject({ sent: 0, status: 'idle' });
    expect(t.flows.starts).toHaveLength(0);
    expect((await t.store.getState('APT-1'))?.value.log?.map((e) => e.text)).toEqual(['sent']);
  });

  it('never leaves its own claim behind: after its last start it hands a newer text back to the queue, due now', async () => {
    const t = await booked();
    const record = { store: t.store, policy, now: t.clock.now };
    let n = 0;
    // Every start is followed by a newer change, so a text is always waiting behind the one sent.
    const start = t.flows.start.bind(t.flows);
    t.flows.start = async (request) => {
      const answer = await start(request);
      n += 1;
      await recordEvent(
        record,
        ehr({
          appointment_id: 'APT-1',
          event_type: 'MODIFIED',
          appointment_location: `Room ${n}`,
          event_datetime_utc: `2026-11-25T15:59:${String(n).padStart(2, '0')}Z`,
        }),
      );
      return answer;
    };
    const result = await dispatchTexts(t.deps, 'APT-1', t.owner, t.known);
    expect(result.sent).toBe(6);
    const outbox = (await t.store.getState('APT-1'))?.value.outbox;
    expect(outbox?.sending?.owner).not.toBe(t.owner);
    expect(outbox?.pending?.not_before ?? outbox?.pending?.created_at).toBeDefined();
    // The next dispatcher sends it at once.
    expect(await dispatchTexts(t.deps, 'APT-1', 'next-caller')).toMatchObject({ sent: expect.any(Number) });
    expect(t.flows.starts.length).toBeGreaterThan(6);
  });
});
