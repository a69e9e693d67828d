import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import type { AppointmentState } from './appointment';
import { DEFAULT_REMINDER_POLICY, planReminders, type ReminderPolicy } from './reminder-plan';
import { decide } from './sweep-decision';

const H = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** An active appointment at `apptIso` in `zone`, its schedule begun at `since`, told `toldAt` (the event text). */
function appointment(apptIso: string, zone: string, since: string, extra: Partial<AppointmentState> = {}): AppointmentState {
  return {
    facts: {
      appointment_id: 'APT-1',
      appointment_datetime: apptIso,
      appointment_datetime_utc: new Date(apptIso).toISOString(),
      appointment_timezone: zone,
      patient_id: 'PAT-1',
      patient_first_name: 'Zoë',
      patient_phone: '+14155550134',
    },
    status: 'QUEUED',
    opted_out: false,
    disposition: 'QUEUED',
    ehr_event_type: 'BOOKED',
    ehr_event_at: since,
    ehr_event_id: 'e1',
    schedule_version: 1,
    schedule_since: since,
    reminders_sent: [],
    recent_event_ids: ['e1'],
    revision: 1,
    created_at: since,
    updated_at: since,
    ...extra,
  };
}

const told = (at: string): Pick<AppointmentState, 'told'> => ({ told: { kind: 'BOOKED', digest: 'd', id: 'e1', at } });

/** Window any time, so only the gap is under test. */
const anyTime = { outreachStartMinutes: 0, outreachFinishMinutes: 24 * 60 };

describe('humane defaults', () => {
  it('texts only from 08:00 to 21:00 in the patient zone and keeps 12 hours between texts about one appointment', () => {
    expect(DEFAULT_REMINDER_POLICY).toMatchObject({ outreachStartMinutes: 8 * 60, outreachFinishMinutes: 21 * 60, minGapMinutes: 12 * 60 });
  });

  it('defers a 21:30 reminder (New York) to 08:00 the next morning under the default window', () => {
    // Appointment 2026-06-12 21:30 EDT; the 48h reminder falls at 21:30 on the 10th, outside 08:00–21:00.
    const s = appointment('2026-06-13T01:30:00Z', 'America/New_York', '2026-06-01T00:00:00Z');
    const next = planReminders(s, DEFAULT_REMINDER_POLICY, '2026-06-10T12:00:00Z').next;
    expect(next).toMatchObject({ kind: 'remind', n: 1, at: '2026-06-11T12:00:00.000Z', reason: 'outside-outreach-window' });
  });

  it("still texts any time with the reference app's 0000/2400", () => {
    const s = appointment('2026-06-13T01:30:00Z', 'America/New_York', '2026-06-01T00:00:00Z');
    const next = planReminders(s, { ...DEFAULT_REMINDER_POLICY, ...anyTime }, '2026-06-10T12:00:00Z').next;
    expect(next).toMatchObject({ kind: 'remind', n: 1, at: '2026-06-11T01:30:00.000Z' });
  });
});

describe('the minimum gap between texts about one appointment', () => {
  const policy: ReminderPolicy = { firstLeadMinutes: 48 * 60, secondLeadMinutes: 0, ...anyTime, minGapMinutes: 12 * 60 };
  const appt = '2026-06-20T15:00:00Z';
  const apptMs = Date.parse(appt);

  it('sends the reminder of a booking made inside its lead time 12 hours after the booking text, not minutes after', () => {
    const booked = iso(apptMs - 47 * H);
    const s = appointment(appt, 'America/Chicago', booked, told(iso(apptMs - 47 * H + 60_000)));
    const next = planReminders(s, policy, booked).next;
    expect(next).toMatchObject({ kind: 'remind', n: 1, at: iso(apptMs - 35 * H + 60_000), reason: 'min-gap' });
    expect(decide(s, policy, iso(apptMs - 46 * H), { remindersSentToday: 0 })).toMatchObject({ action: 'wait', reason: 'not-yet-due' });
  });

  it('skips the reminder when the gap ends only after the appointment', () => {
    const booked = iso(apptMs - 6 * H);
    const s = appointment(appt, 'America/Chicago', booked, told(booked));
    const plan = planReminders(s, policy, booked);
    expect(plan.next).toEqual({ kind: 'expire', at: iso(apptMs) });
    expect(plan.skipped).toEqual([{ n: 1, reason: 'min-gap', recorded: false }]);
  });

  it('counts a text waiting in the outbox as the last text', () => {
    const booked = iso(apptMs - 47 * H);
    const notice = { id: 'e1', kind: 'BOOKED' as const, digest: 'd', covers: ['e1'], created_at: booked, attempts: 0 };
    const s = appointment(appt, 'America/Chicago', booked, { outbox: { pending: notice } });
    expect(planReminders(s, policy, booked).next).toMatchObject({ n: 1, at: iso(apptMs - 35 * H), reason: 'min-gap' });
  });

  it('spaces the second reminder from the first', () => {
    const p: ReminderPolicy = { firstLeadMinutes: 48 * 60, secondLeadMinutes: 40 * 60, ...anyTime, minGapMinutes: 12 * 60 };
    const s = appointment(appt, 'America/Chicago', '2026-06-01T00:00:00Z', {
      reminders_sent: [{ n: 1, at: iso(apptMs - 48 * H) }],
      status: 'REMINDED-1',
    });
    expect(planReminders(s, p, iso(apptMs - 41 * H)).next).toMatchObject({
      n: 2,
      at: iso(apptMs - 36 * H),
      deferred_from: iso(apptMs - 40 * H),
      reason: 'min-gap',
    });
  });

  it('does not hold back a reminder whose text came long enough before', () => {
    const s = appointment(appt, 'America/Chicago', '2026-06-01T00:00:00Z', told('2026-06-01T00:00:00Z'));
    expect(planReminders(s, policy, '2026-06-10T00:00:00Z').next).toEqual({ kind: 'remind', n: 1, at: iso(apptMs - 48 * H) });
  });

  it('has no gap when minGapMinutes is absent or 0', () => {
    const booked = iso(apptMs - 47 * H);
    const s = appointment(appt, 'America/Chicago', booked, told(booked));
    for (const p of [
      { ...policy, minGapMinutes: 0 },
      { firstLeadMinutes: 48 * 60, secondLeadMinutes: 0, ...anyTime },
    ]) {
      expect(planReminders(s, p, booked).next).toMatchObject({ n: 1, at: booked, reason: 'late-booking' });
    }
  });

  it('property: a planned reminder is never within the gap of the last text and always inside the window', () => {
    const zones = ['America/New_York', 'America/Phoenix', 'Pacific/Honolulu', 'Europe/London'];
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 96 }),
        fc.integer({ min: 0, max: 24 * 60 }),
        fc.integer({ min: 1, max: 24 }),
        fc.constantFrom(...zones),
        // Around the 2026 spring-forward (Mar 8 US, Mar 29 EU) and an ordinary day.
        fc.constantFrom('2026-03-09T14:00:00Z', '2026-03-30T09:00:00Z', '2026-07-15T18:30:00Z'),
        (bookedHoursBefore, toldMinutesAfterBooking, gapHours, zone, apptIso) => {
          const apptAt = Date.parse(apptIso);
          const booked = apptAt - bookedHoursBefore * H;
          const toldAt = Math.min(booked + toldMinutesAfterBooking * 60_000, apptAt - 60_000);
          const p: ReminderPolicy = { ...DEFAULT_REMINDER_POLICY, minGapMinutes: gapHours * 60 };
          const s = appointment(apptIso, zone, iso(booked), told(iso(toldAt)));
          const next = planReminders(s, p, iso(booked)).next;
          if (next?.kind !== 'remind') return;
          const at = Date.parse(next.at);
          expect(at).toBeGreaterThanOrEqual(toldAt + gapHours * H);
          expect(at).toBeLessThan(apptAt);
          const local = DateTime.fromMillis(at, { zone });
          const minute = local.hour * 60 + local.minute;
          expect(minute).toBeGreaterThanOrEqual(8 * 60);
          expect(minute).toBeLessThan(21 * 60);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('a number Twilio cannot deliver to', () => {
  it('gets no reminders: the plan stops with undeliverable and the sweep does nothing', () => {
    const s = appointment('2026-06-20T15:00:00Z', 'America/Chicago', '2026-06-01T00:00:00Z', {
      undeliverable: { phone: '+14155550134', error_code: '30006', at: '2026-06-01T00:00:05Z', message_sid: 'SM1' },
    });
    expect(planReminders(s, DEFAULT_REMINDER_POLICY, '2026-06-18T15:00:00Z').stopped).toBe('undeliverable');
    expect(decide(s, DEFAULT_REMINDER_POLICY, '2026-06-18T15:00:00Z', { remindersSentToday: 0 })).toMatchObject({
      action: 'wait',
      reason: 'not-yet-due',
    });
  });
});
