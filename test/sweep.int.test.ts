import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEhrEvent, withEventId, type AppointmentEvent } from '../src/domain/event';
import { stateKey } from '../src/storage/keys';
import { recordEvent } from '../src/use-cases/record-event';
import { sendMessagesForEvents } from '../src/use-cases/send-messages';
import { runSweep } from '../src/use-cases/sweep';
import { ehrEvent } from './fixtures/events';
import { flowText, flowTextPattern } from './support/flow-texts';
import { startTestStack, type TestStack } from './support/local-stack';
import { phonesApi } from './support/phones';
import { started } from './support/started';

let t: TestStack;
let phones: ReturnType<typeof phonesApi>;
beforeAll(async () => {
  // No minimum gap: these tests send a reminder in the same sweep that finishes an unsent booking text.
  t = await startTestStack({ REMINDER_OUTREACH_START: '0800', REMINDER_OUTREACH_FINISH: '2000', REMINDER_MIN_GAP_HOURS: '0' });
  phones = phonesApi(t);
});
afterAll(async () => {
  await started(t)?.stop();
});

/** Moves the whole local stack (Functions, sweep, Studio timers) to `iso`. */
function setNow(iso: string) {
  t.stack.clock.set(iso);
}

function parsed(overrides: Record<string, unknown>): AppointmentEvent {
  const r = parseEhrEvent(ehrEvent(overrides), { defaultCountry: 'US' });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.event;
}

const REMINDER = flowTextPattern('send_remind');
const reminders = (texts: string[]) => texts.filter((x) => REMINDER.test(x));

describe('reminders end to end', () => {
  it('sends the first reminder 48h before, inside the window; after CONFIRM APPT there is no second one', async () => {
    const phone = '+14155553001';
    const id = 'APT-sweep-e2e';
    // Booked on Nov 25 for Tue Dec 1, 9:30 AM in Los Angeles (17:30Z): reminders due Nov 29 and Nov 30 at 17:30Z.
    setNow('2026-11-25T16:00:00Z');
    await t.postEvents(ehrEvent({ appointment_id: id, patient_phone: phone, event_datetime_utc: '2026-11-25T15:59:00Z' }));
    expect(await phones.received(phone)).toHaveLength(1);

    setNow('2026-11-29T17:29:00Z');
    await t.stack.sweep();
    expect(reminders(await phones.received(phone))).toHaveLength(0);

    setNow('2026-11-29T17:31:00Z');
    const counts = await t.stack.sweep();
    expect(counts.sent).toBe(1);
    const first = reminders(await phones.received(phone));
    const shown = {
      patient_first_name: 'Zoe',
      provider_name: 'Ana Lopez, MD',
      appointment_when: 'Tue, Dec 1 at 9:30 AM PST',
      appointment_location: 'Suite 100, O\'Brien Bldg, "East" Wing = 2nd floor',
      provider_callback_phone: '(415) 555-0100',
    };
    expect(first).toEqual([await flowText('send_remind', { variables: shown })]);
    expect((await t.getJson(stateKey(id))).disposition).toBe('REMINDED-1');

    await phones.send(phone, 'CONFIRM APPT');
    const ehr = (await phones.ehrRequests()).filter((r) => r.json?.appointment_id === id);
    expect(ehr.map((r) => r.json.event_type)).toEqual(['CONFIRM']);

    setNow('2026-11-30T17:31:00Z');
    await t.stack.sweep();
    setNow('2026-11-30T19:00:00Z');
    await t.stack.sweep();
    expect(reminders(await phones.received(phone))).toHaveLength(1);
  });

  it('defers a reminder due at night to the window opening the next morning, in the patient zone', async () => {
    const phone = '+14155553002';
    const id = 'APT-sweep-night';
    // Appointment Dec 3 at 6:00 AM New York (11:00Z): 48h before is Dec 1 6:00 AM local, before the 8:00 window.
    setNow('2026-11-26T12:00:00Z');
    await t.postEvents(
      ehrEvent({
        appointment_id: id,
        patient_phone: phone,
        appointment_timezone: 'America/New_York',
        appointment_datetime: '2026-12-03T06:00:00',
        event_datetime_utc: '2026-11-26T11:00:00Z',
      }),
    );
    setNow('2026-12-01T11:05:00Z'); // 6:05 AM EST
    const early = await t.stack.sweep();
    expect(early.sent).toBe(0);
    expect(reminders(await phones.received(phone))).toHaveLength(0);
    setNow('2026-12-01T13:00:30Z'); // 8:00 AM EST
    await t.stack.sweep();
    expect(reminders(await phones.received(phone))).toHaveLength(1);
  });

  it('marks an appointment EXPIRED once its time has passed', async () => {
    const id = 'APT-sweep-expire';
    setNow('2026-11-26T12:00:00Z');
    await t.postEvents(
      ehrEvent({
        appointment_id: id,
        patient_phone: '+14155553003',
        appointment_datetime: '2026-11-27T09:00:00',
        event_datetime_utc: '2026-11-26T11:00:00Z',
      }),
    );
    setNow('2026-11-27T18:00:00Z');
    await t.stack.sweep();
    expect((await t.getJson(stateKey(id))).disposition).toBe('EXPIRED');
  });
});

describe('exactly once', () => {
  it('two sweeps started at the same moment send each due reminder once', async () => {
    setNow('2026-12-05T16:00:00Z');
    const deps = await t.stack.sweepDeps();
    const phonesUsed: string[] = [];
    for (let i = 0; i < 25; i += 1) {
      const phone = `+1415555${String(4000 + i)}`;
      phonesUsed.push(phone);
      await recordEvent(
        { ...deps, now: () => new Date('2026-12-05T16:00:00Z') },
        parsed({
          appointment_id: `APT-race-${i}`,
          patient_phone: phone,
          appointment_datetime: '2026-12-09T10:00:00',
          event_datetime_utc: '2026-12-05T15:00:00Z',
        }),
      );
    }
    setNow('2026-12-07T18:30:00Z'); // reminder 1 (Dec 7 18:00Z) is due
    const [a, b] = await Promise.all([runSweep(deps), runSweep(deps)]);
    expect(a.sent + b.sent).toBe(25);
    for (const phone of phonesUsed) expect(reminders(await phones.received(phone)), phone).toHaveLength(1);
  });

  it('finishes a reminder whose sweep crashed after claiming it, without sending it twice', async () => {
    setNow('2026-12-10T16:00:00Z');
    const deps = await t.stack.sweepDeps();
    const at = () => new Date('2026-12-10T16:00:00Z');
    await recordEvent(
      { ...deps, now: at },
      parsed({
        appointment_id: 'APT-crash-a',
        patient_phone: '+14155555001',
        appointment_datetime: '2026-12-14T10:00:00',
        event_datetime_utc: '2026-12-10T15:00:00Z',
      }),
    );
    await recordEvent(
      { ...deps, now: at },
      parsed({
        appointment_id: 'APT-crash-b',
        patient_phone: '+14155555002',
        appointment_datetime: '2026-12-14T10:00:00',
        event_datetime_utc: '2026-12-10T15:00:00Z',
      }),
    );
    setNow('2026-12-12T18:30:00Z');
    // A: the crashed sweep had claimed it but never started the flow. B: it had started the flow.
    const claimA = {
      appointment_id: 'APT-crash-a',
      schedule_version: 1,
      n: 1,
      event_id: 'e-a',
      status: 'claimed' as const,
      claimed_at: '2026-12-12T18:20:00.000Z',
      lease_until: '2026-12-12T18:25:00.000Z',
      sweep_id: 'crashed',
    };
    expect(await deps.store.createClaim(claimA)).toMatchObject({ kind: 'created' });
    const stateB = (await deps.store.getState('APT-crash-b'))?.value;
    if (!stateB) throw new Error('setup');
    const eventB = withEventId({
      ...stateB.facts,
      event_type: 'REMIND',
      event_datetime_utc: '2026-12-12T18:20:00.000Z',
      detail: { reminder: '1', schedule_version: '1' },
    });
    await deps.flows.start({ state: stateB, event: eventB });
    expect(await deps.store.createClaim({ ...claimA, appointment_id: 'APT-crash-b', event_id: eventB.event_id })).toMatchObject({
      kind: 'created',
    });

    const counts = await runSweep(deps);
    expect(counts.sent).toBe(2);
    expect(reminders(await phones.received('+14155555001'))).toHaveLength(1);
    expect(reminders(await phones.received('+14155555002'))).toHaveLength(1);
    expect((await t.getJson(stateKey('APT-crash-b'))).disposition).toBe('REMINDED-1');
  });
});

describe('scale', () => {
  it('handles more than 1,000 due reminders in one sweep', async () => {
    setNow('2026-12-15T16:00:00Z');
    const deps = await t.stack.sweepDeps();
    const at = () => new Date('2026-12-15T16:00:00Z');
    const n = 1005;
    const ids = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < n; i += 50) {
      await Promise.all(
        ids.slice(i, i + 50).map((k) =>
          // Recorded and texted as the intake does, so the booking texts are out before the sweep.
          recordEvent(
            { ...deps, now: at },
            parsed({
              appointment_id: `APT-bulk-${k}`,
              patient_phone: `+1415556${String(k).padStart(4, '0')}`,
              appointment_datetime: '2026-12-19T10:00:00',
              event_datetime_utc: '2026-12-15T15:00:00Z',
            }),
          ).then((r) => sendMessagesForEvents({ ...deps, now: at }, [r], [])),
        ),
      );
    }
    setNow('2026-12-17T18:30:00Z');
    const counts = await runSweep({ ...deps, ratePerSecond: 2000, concurrency: 16 });
    expect(counts.sent).toBe(n);
    expect(counts.failed).toBe(0);
    await t.stack.settle();
    const reached = ids.filter((k) =>
      t.stack.carrier.conversation(`+1415556${String(k).padStart(4, '0')}`).some((m) => REMINDER.test(m.body)),
    );
    expect(reached).toHaveLength(n);
    // 1,005 bookings and reminders through the whole local stack: minutes on a busy 2-core machine.
  }, 240_000);
});
