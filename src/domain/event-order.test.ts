import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ehrEvent } from '../../test/fixtures/events';
import { applyEvent, type AppointmentState } from './appointment';
import { EHR_EVENT_TYPES, parseEhrEvent, withEventId, type AppointmentEvent } from './event';
import { compareEntries, MAX_LOG_ENTRIES } from './event-log';

const NOW = '2026-11-25T12:00:00.000Z';
const APPOINTMENT_TIMES = ['2026-12-01T09:30:00', '2026-12-02T14:00:00', '2026-12-04T08:15:00'];
const ROOMS = ['Room 1', 'Room 2', 'Suite 300'];

function ehr(type: string, minute: number, appointment: string, room: string): AppointmentEvent {
  const at = new Date(Date.UTC(2026, 10, 25, 8, minute, 0)).toISOString();
  const r = parseEhrEvent(
    ehrEvent({ event_type: type, event_datetime_utc: at, appointment_datetime: appointment, appointment_location: room }),
    { defaultCountry: 'US' },
  );
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.event;
}

function deliver(events: AppointmentEvent[], start: AppointmentState | null = null): AppointmentState | null {
  let state = start;
  for (const e of events) state = applyEvent(state, e, NOW).state ?? state;
  return state;
}

/** What the state says about the appointment; revision, timestamps and counters record arrival. */
function meaning(s: AppointmentState | null) {
  if (!s) return null;
  return {
    facts: s.facts,
    status: s.status,
    disposition: s.disposition,
    opted_out: s.opted_out,
    ehr_event: [s.ehr_event_type, s.ehr_event_at, s.ehr_event_id],
    patient_request: s.patient_request,
    reminders_sent: s.reminders_sent,
    schedule: s.schedule_anchor,
    log: s.log?.map((e) => [e.id, e.type, e.at, e.appt_at]),
  };
}

const ehrEventArb = fc
  .record({
    type: fc.constantFrom(...EHR_EVENT_TYPES),
    // Few distinct minutes, so ties on event_datetime_utc are common.
    minute: fc.integer({ min: 0, max: 6 }),
    appointment: fc.constantFrom(...APPOINTMENT_TIMES),
    room: fc.constantFrom(...ROOMS),
  })
  .map((e) => ehr(e.type, e.minute, e.appointment, e.room));

/** A delivery: every event at least once, some up to three times, in any order. */
function deliveryArb(events: AppointmentEvent[]) {
  return fc.array(fc.integer({ min: 1, max: 3 }), { minLength: events.length, maxLength: events.length }).chain((copies) =>
    fc.shuffledSubarray(
      events.flatMap((e, i) => Array.from({ length: copies[i] ?? 1 }, () => e)),
      { minLength: events.length + copies.reduce((a, b) => a + b - 1, 0) },
    ),
  );
}

describe('the state is a function of the set of events, not of their arrival order', () => {
  it('any order with any duplicates gives the state of the time-ordered delivery (1,000 sequences)', () => {
    fc.assert(
      fc.property(
        fc.array(ehrEventArb, { minLength: 1, maxLength: 9 }).chain((events) => fc.tuple(fc.constant(events), deliveryArb(events))),
        ([events, delivery]) => {
          const ordered = [...events].sort((a, b) =>
            compareEntries({ at: a.event_datetime_utc, id: a.event_id }, { at: b.event_datetime_utc, id: b.event_id }),
          );
          expect(meaning(deliver(delivery))).toEqual(meaning(deliver(ordered)));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('ends QUEUED for CANCELED(t7), MODIFIED(t9), BOOKED(t8) however they arrive', () => {
    const canceled = ehr('CANCELED', 7, APPOINTMENT_TIMES[0] as string, 'Room 1');
    const modified = ehr('MODIFIED', 9, APPOINTMENT_TIMES[0] as string, 'Room 2');
    const booked = ehr('BOOKED', 8, APPOINTMENT_TIMES[0] as string, 'Room 1');
    const arrived = deliver([canceled, modified, booked]);
    expect(arrived?.disposition).toBe('QUEUED');
    expect(arrived?.facts.appointment_location).toBe('Room 2');
    expect(meaning(arrived)).toEqual(meaning(deliver([canceled, booked, modified])));
  });

  it('keeps patient requests, reminders sent, opt-outs and skips through a re-fold', () => {
    const booked = deliver([ehr('BOOKED', 1, APPOINTMENT_TIMES[0] as string, 'Room 1')]) as AppointmentState;
    const ours = (type: AppointmentEvent['event_type'], at: string, detail: Record<string, string> = {}) =>
      withEventId({ ...booked.facts, event_type: type, event_datetime_utc: at, detail });
    let s = deliver([ours('REMIND', '2026-11-25T09:00:00.000Z', { reminder: '1', schedule_version: '1' })], booked) as AppointmentState;
    s = { ...s, reminders_skipped: [{ n: 2, reason: 'outside-window', at: NOW, schedule_version: s.schedule_version }] };
    s = deliver([ours('CONFIRM', '2026-11-25T09:05:00.000Z'), ours('OPTED-OUT', '2026-11-25T09:10:00.000Z')], s) as AppointmentState;

    // A late MODIFIED from before the reminder, same time: nothing of ours is lost.
    const modified = deliver([ehr('MODIFIED', 30, APPOINTMENT_TIMES[0] as string, 'Room 2')], s) as AppointmentState;
    expect(modified).toMatchObject({
      disposition: 'OPTED-OUT',
      status: 'REMINDED-1',
      patient_request: { type: 'CONFIRM' },
      reminders_sent: [{ n: 1 }],
    });
    expect(modified.facts.appointment_location).toBe('Room 2');
    expect(modified.reminders_skipped).toEqual(s.reminders_skipped);
    expect(modified.schedule_version).toBe(s.schedule_version);

    // A late reschedule from before the reminder: that reminder was about the old time, the request came after.
    const moved = deliver([ehr('RESCHEDULED', 40, APPOINTMENT_TIMES[1] as string, 'Room 1')], s) as AppointmentState;
    expect(moved).toMatchObject({ status: 'QUEUED', opted_out: true, reminders_sent: [], patient_request: { type: 'CONFIRM' } });
    expect(moved.schedule_version).toBe(s.schedule_version + 1);
    expect(moved.log?.map((e) => e.type)).toEqual(['BOOKED', 'RESCHEDULED', 'REMIND', 'CONFIRM', 'OPTED-OUT']);
  });

  it(`keeps at most ${MAX_LOG_ENTRIES} entries; older ones live on in a checkpoint`, () => {
    const events = Array.from({ length: MAX_LOG_ENTRIES + 20 }, (_, i) =>
      ehr(i === 0 ? 'BOOKED' : 'MODIFIED', i, APPOINTMENT_TIMES[0] as string, ROOMS[i % ROOMS.length] as string),
    );
    const s = deliver(events) as AppointmentState;
    expect(s.log).toHaveLength(MAX_LOG_ENTRIES);
    expect(s.checkpoint?.id).toBe(events[19]?.event_id);
    expect(meaning(s)?.facts).toEqual(meaning(deliver([...events].reverse().slice(0, 1)))?.facts);
    expect(applyEvent(s, ehr('CANCELED', 5, APPOINTMENT_TIMES[0] as string, 'Room 1'), NOW).kind).toBe('stale');
  });
});
