import { describe, expect, it } from 'vitest';
import { ehrEvent } from '../../test/fixtures/events';
import { applyEvent, type AppointmentState } from './appointment';
import { parseEhrEvent, withEventId, type AppointmentEvent } from './event';
import { nextCheckAt, planReminders, recordSkips, type ReminderPolicy } from './reminder-plan';
import { reminderLocalDay } from './reminder-window';
import { decide } from './sweep-decision';

/** HHMM as the config module reads it (4800 = 48 hours). */
function hhmm(v: string): number {
  return Number(v.slice(0, 2)) * 60 + Number(v.slice(2));
}

function policy(p: { first?: string; second?: string; start?: string; finish?: string; cap?: number } = {}): ReminderPolicy {
  return {
    firstLeadMinutes: hhmm(p.first ?? '4800'),
    secondLeadMinutes: hhmm(p.second ?? '2400'),
    outreachStartMinutes: hhmm(p.start ?? '0800'),
    outreachFinishMinutes: hhmm(p.finish ?? '2000'),
    ...(p.cap !== undefined ? { maxRemindersPerLocalDay: p.cap } : {}),
  };
}

// Booked well before any reminder is due unless a test says otherwise.
const LONG_AGO = '2026-01-01T00:00:00.000Z';

/** An active appointment at `utc` in `zone`, as the state machine stores it. */
function appointment(utc: string, zone: string, extra: Partial<AppointmentState> = {}): AppointmentState {
  const at = new Date(utc).toISOString();
  return {
    facts: {
      appointment_id: 'APT-1',
      appointment_datetime: utc,
      appointment_datetime_utc: at,
      appointment_timezone: zone,
      patient_id: 'PAT-1',
      patient_first_name: 'Zoë',
      patient_phone: '+14155550134',
    },
    status: 'QUEUED',
    opted_out: false,
    disposition: 'QUEUED',
    ehr_event_type: 'BOOKED',
    ehr_event_at: LONG_AGO,
    ehr_event_id: 'e1',
    schedule_version: 1,
    schedule_since: LONG_AGO,
    reminders_sent: [],
    recent_event_ids: ['e1'],
    revision: 1,
    created_at: LONG_AGO,
    updated_at: LONG_AGO,
    ...extra,
  };
}

const utc = (s: string) => new Date(s).toISOString();

describe('outreach window edges (inclusive start, exclusive finish), America/New_York in June (EDT, UTC-4)', () => {
  // One reminder 24h ahead; the appointment's local time is the reminder's local time.
  const p = policy({ first: '2400', second: '0000' });
  it.each([
    ['sends at exactly 08:00, the window start', '2026-06-10T08:00:00-04:00', '2026-06-09T12:00:00Z', undefined],
    ['sends at 19:59, the last minute inside the window', '2026-06-10T19:59:00-04:00', '2026-06-09T23:59:00Z', undefined],
    [
      'defers a reminder due at exactly 20:00 (the finish is exclusive) to 08:00 next morning',
      '2026-06-10T20:00:00-04:00',
      '2026-06-10T12:00:00Z',
      '2026-06-10T00:00:00Z',
    ],
    [
      'defers a reminder due at 07:59 to 08:00 the same morning',
      '2026-06-10T07:59:00-04:00',
      '2026-06-09T12:00:00Z',
      '2026-06-09T11:59:00Z',
    ],
  ])('%s', (_name, appt, at, deferredFrom) => {
    const plan = planReminders(appointment(appt, 'America/New_York'), p, '2026-06-01T00:00:00Z');
    expect(plan.next).toEqual({
      kind: 'remind',
      n: 1,
      at: utc(at),
      ...(deferredFrom ? { deferred_from: utc(deferredFrom), reason: 'outside-outreach-window' } : {}),
    });
    expect(plan.skipped).toEqual([]);
  });

  it('treats start > finish as a window across midnight (20:00–08:00)', () => {
    const night = policy({ first: '2400', second: '0000', start: '2000', finish: '0800' });
    const plan = planReminders(appointment('2026-06-10T12:00:00-04:00', 'America/New_York'), night, '2026-06-01T00:00:00Z');
    expect(plan.next).toMatchObject({ n: 1, at: utc('2026-06-10T00:00:00Z'), deferred_from: utc('2026-06-09T16:00:00Z') });
  });

  it('skips every reminder, with the reason, when start equals finish (no outreach at all)', () => {
    const none = policy({ start: '0900', finish: '0900' });
    const plan = planReminders(appointment('2026-06-10T12:00:00-04:00', 'America/New_York'), none, '2026-06-01T00:00:00Z');
    expect(plan.skipped).toEqual([
      { n: 1, reason: 'no-outreach-window', recorded: false },
      { n: 2, reason: 'no-outreach-window', recorded: false },
    ]);
    expect(plan.next).toEqual({ kind: 'expire', at: utc('2026-06-10T16:00:00Z') });
  });
});

describe('the two reminders of one appointment', () => {
  const appt = appointment('2026-06-10T12:00:00-04:00', 'America/New_York');
  const p = policy();

  it('plans the first 48h and the second 24h before, both inside the window', () => {
    const plan = planReminders(appt, p, '2026-06-01T00:00:00Z');
    expect(plan.reminders).toEqual([
      { n: 1, due_at: utc('2026-06-08T16:00:00Z'), status: 'pending', at: utc('2026-06-08T16:00:00Z') },
      { n: 2, due_at: utc('2026-06-09T16:00:00Z'), status: 'pending', at: utc('2026-06-09T16:00:00Z') },
    ]);
    expect(plan.next).toEqual({ kind: 'remind', n: 1, at: utc('2026-06-08T16:00:00Z') });
    expect(nextCheckAt(appt, p, '2026-06-01T00:00:00Z')).toBe(utc('2026-06-08T16:00:00Z'));
  });

  it('sends the second reminder once, 24h before, inside the window', () => {
    const reminded1 = { ...appt, status: 'REMINDED-1' as const, reminders_sent: [{ n: 1, at: utc('2026-06-08T16:05:00Z') }] };
    expect(decide(reminded1, p, '2026-06-09T15:59:59Z', { remindersSentToday: 0 })).toEqual({
      action: 'wait',
      reason: 'not-yet-due',
      next_check_at: utc('2026-06-09T16:00:00Z'),
      record: [],
    });
    expect(decide(reminded1, p, '2026-06-09T16:05:00Z', { remindersSentToday: 0 })).toEqual({
      action: 'send',
      n: 2,
      schedule_version: 1,
      record: [],
      next_check_at: utc('2026-06-10T16:00:00Z'),
    });
    const reminded2 = {
      ...reminded1,
      status: 'REMINDED-2' as const,
      reminders_sent: [...reminded1.reminders_sent, { n: 2, at: utc('2026-06-09T16:05:00Z') }],
    };
    expect(decide(reminded2, p, '2026-06-09T16:20:00Z', { remindersSentToday: 0 })).toMatchObject({
      action: 'wait',
      next_check_at: utc('2026-06-10T16:00:00Z'),
    });
  });

  it('sends the first reminder when due and tells the sweep to look again when the second is due', () => {
    expect(decide(appt, p, '2026-06-08T16:10:00Z', { remindersSentToday: 0 })).toEqual({
      action: 'send',
      n: 1,
      schedule_version: 1,
      record: [],
      next_check_at: utc('2026-06-09T16:00:00Z'),
    });
  });

  it.each([
    ['4800', '0000', [1]],
    ['0000', '2400', [2]],
    ['4800', '2400', [1, 2]],
  ])('with first %s and second %s plans reminders %j (0000 turns a reminder off)', (first, second, ns) => {
    const plan = planReminders(appt, policy({ first, second }), '2026-06-01T00:00:00Z');
    expect(plan.reminders.map((r) => r.n)).toEqual(ns);
    expect(plan.skipped).toEqual([]);
  });

  it('goes straight to expiry after the only reminder when the second is off (0000)', () => {
    const sent = { ...appt, status: 'REMINDED-1' as const, reminders_sent: [{ n: 1, at: utc('2026-06-08T16:00:00Z') }] };
    expect(planReminders(sent, policy({ second: '0000' }), '2026-06-08T17:00:00Z').next).toEqual({
      kind: 'expire',
      at: utc('2026-06-10T16:00:00Z'),
    });
  });

  it('reports a second reminder whose lead is not shorter than the first as skipped, not sent first', () => {
    const plan = planReminders(appt, policy({ first: '2400', second: '4800' }), '2026-06-01T00:00:00Z');
    expect(plan.skipped).toEqual([{ n: 2, reason: 'second-not-after-first', recorded: false }]);
    expect(plan.next).toMatchObject({ kind: 'remind', n: 1, at: utc('2026-06-09T16:00:00Z') });
  });
});

describe('late bookings', () => {
  const p = policy();
  // Appointment Wed 2026-06-10 12:00 EDT; reminder 1 due Mon 12:00, reminder 2 due Tue 12:00.
  const at = '2026-06-10T12:00:00-04:00';
  const lateCases = [
    {
      name: 'booked 30h ahead: skips the first (its lead time had passed) and sends only the second, 24h before',
      booked: '2026-06-09T06:00:00-04:00',
      skipped: [{ n: 1, reason: 'lead-time-passed-at-booking', recorded: false }],
      next: { kind: 'remind', n: 2, at: utc('2026-06-09T16:00:00Z') },
    },
    {
      name: 'booked 10h ahead at night: sends one catch-up reminder (the second) when the window opens',
      booked: '2026-06-10T02:00:00-04:00',
      skipped: [{ n: 1, reason: 'superseded', recorded: false }],
      next: { kind: 'remind', n: 2, at: utc('2026-06-10T12:00:00Z'), deferred_from: utc('2026-06-10T06:00:00Z'), reason: 'late-booking' },
    },
    {
      name: 'booked 2h ahead inside the window: the catch-up goes at once',
      booked: '2026-06-10T10:00:00-04:00',
      skipped: [{ n: 1, reason: 'superseded', recorded: false }],
      next: { kind: 'remind', n: 2, at: utc('2026-06-10T14:00:00Z'), reason: 'late-booking' },
    },
  ];
  for (const { name, booked, skipped, next } of lateCases)
    it(name, () => {
      const state = appointment(at, 'America/New_York', { schedule_since: utc(booked), created_at: utc(booked) });
      const plan = planReminders(state, p, utc(booked));
      expect(plan.skipped).toEqual(skipped);
      expect(plan.next).toEqual(next);
    });

  it('skips the catch-up when the window only opens after the appointment', () => {
    // Booked at 23:00 for 07:00 next morning; the window opens at 08:00.
    const state = appointment('2026-06-10T07:00:00-04:00', 'America/New_York', { schedule_since: utc('2026-06-09T23:00:00-04:00') });
    const plan = planReminders(state, p, utc('2026-06-09T23:00:00-04:00'));
    expect(plan.skipped).toEqual([
      { n: 1, reason: 'superseded', recorded: false },
      { n: 2, reason: 'window-opens-after-appointment', recorded: false },
    ]);
    expect(plan.next).toEqual({ kind: 'expire', at: utc('2026-06-10T11:00:00Z') });
  });

  it('records the late-booking skip when it sends the second reminder', () => {
    const state = appointment(at, 'America/New_York', { schedule_since: utc('2026-06-09T06:00:00-04:00') });
    expect(decide(state, p, '2026-06-09T16:07:00Z', { remindersSentToday: 0 })).toEqual({
      action: 'send',
      n: 2,
      schedule_version: 1,
      record: [{ n: 1, reason: 'lead-time-passed-at-booking', at: utc('2026-06-09T16:07:00Z'), schedule_version: 1 }],
      next_check_at: utc('2026-06-10T16:00:00Z'),
    });
  });

  it('tells a late sweep from a late booking: after an outage it sends only the latest reminder and records the missed one', () => {
    const state = appointment(at, 'America/New_York');
    expect(decide(state, p, '2026-06-09T18:00:00Z', { remindersSentToday: 0 })).toEqual({
      action: 'send',
      n: 2,
      schedule_version: 1,
      record: [{ n: 1, reason: 'missed', at: utc('2026-06-09T18:00:00Z'), schedule_version: 1 }],
      next_check_at: utc('2026-06-10T16:00:00Z'),
    });
  });

  it('still sends the first reminder a little late when the sweep runs a few minutes after it was due', () => {
    const state = appointment(at, 'America/New_York');
    expect(decide(state, p, '2026-06-08T16:14:00Z', { remindersSentToday: 0 })).toMatchObject({ action: 'send', n: 1 });
  });

  it('uses created_at as the booking time for states stored before schedule_since existed', () => {
    const { schedule_since: _omit, ...old } = appointment(at, 'America/New_York', { created_at: utc('2026-06-09T06:00:00-04:00') });
    expect(planReminders(old, p, '2026-06-09T10:00:00Z').skipped).toEqual([
      { n: 1, reason: 'lead-time-passed-at-booking', recorded: false },
    ]);
  });
});

describe('deferral and skips around the outreach window (08:00–20:00, America/New_York in June)', () => {
  it('defers both reminders due at 21:00 to 08:00 the next morning', () => {
    const plan = planReminders(appointment('2026-06-11T21:00:00-04:00', 'America/New_York'), policy(), '2026-06-01T00:00:00Z');
    expect(plan.reminders).toEqual([
      {
        n: 1,
        due_at: utc('2026-06-10T01:00:00Z'),
        status: 'pending',
        at: utc('2026-06-10T12:00:00Z'),
        deferred_from: utc('2026-06-10T01:00:00Z'),
        reason: 'outside-outreach-window',
      },
      {
        n: 2,
        due_at: utc('2026-06-11T01:00:00Z'),
        status: 'pending',
        at: utc('2026-06-11T12:00:00Z'),
        deferred_from: utc('2026-06-11T01:00:00Z'),
        reason: 'outside-outreach-window',
      },
    ]);
  });

  const windowCases = [
    {
      name: 'skips a reminder whose next window opening is after the appointment',
      policy: policy({ first: '0300', second: '0000' }),
      appt: '2026-06-10T06:00:00-04:00',
      skipped: [{ n: 1, reason: 'window-opens-after-appointment', recorded: false }],
      next: { kind: 'expire', at: utc('2026-06-10T10:00:00Z') },
    },
    {
      name: 'skips the first reminder when the window opens only after the second is due, and defers the second',
      policy: policy({ first: '2600', second: '2400' }),
      appt: '2026-06-11T07:00:00-04:00',
      skipped: [{ n: 1, reason: 'window-opens-after-next-reminder', recorded: false }],
      next: {
        kind: 'remind',
        n: 2,
        at: utc('2026-06-10T12:00:00Z'),
        deferred_from: utc('2026-06-10T11:00:00Z'),
        reason: 'outside-outreach-window',
      },
    },
  ];
  for (const { name, policy: p, appt, skipped, next } of windowCases)
    it(name, () => {
      const plan = planReminders(appointment(appt, 'America/New_York'), p, '2026-06-01T00:00:00Z');
      expect(plan.skipped).toEqual(skipped);
      expect(plan.next).toEqual(next);
    });

  it('records the skip once and then stops pointing the sweep at the skipped reminder', () => {
    const p = policy({ first: '0300', second: '0000' });
    const state = appointment('2026-06-10T06:00:00-04:00', 'America/New_York');
    const d = decide(state, p, '2026-06-10T07:00:00Z', { remindersSentToday: 0 });
    expect(d).toEqual({
      action: 'skip',
      record: [{ n: 1, reason: 'window-opens-after-appointment', at: utc('2026-06-10T07:00:00Z'), schedule_version: 1 }],
      next_check_at: utc('2026-06-10T10:00:00Z'),
    });
    const recorded = recordSkips(state, d.record, '2026-06-10T07:00:00Z');
    expect(recorded.reminders_skipped).toHaveLength(1);
    expect(recordSkips(recorded, d.record, '2026-06-10T07:15:00Z')).toBe(recorded);
    expect(planReminders(recorded, p, '2026-06-10T07:15:00Z').skipped).toEqual([
      { n: 1, reason: 'window-opens-after-appointment', recorded: true },
    ]);
    expect(decide(recorded, p, '2026-06-10T07:15:00Z', { remindersSentToday: 0 })).toMatchObject({ action: 'wait', record: [] });
  });

  it('waits for the next morning when the sweep runs after the window has closed', () => {
    // Reminder 2 due 19:50; the sweep only gets to it at 20:05.
    const state = appointment('2026-06-11T19:50:00-04:00', 'America/New_York', {
      status: 'REMINDED-1',
      reminders_sent: [{ n: 1, at: utc('2026-06-09T23:50:00Z') }],
    });
    expect(decide(state, policy(), '2026-06-11T00:05:00Z', { remindersSentToday: 0 })).toEqual({
      action: 'wait',
      reason: 'not-yet-due',
      next_check_at: utc('2026-06-11T12:00:00Z'),
      record: [],
    });
  });
});

describe('reschedules', () => {
  it('re-plans both reminders for the new schedule_version, ignoring what was sent or skipped before', () => {
    const before = appointment('2026-06-10T12:00:00-04:00', 'America/New_York', {
      status: 'REMINDED-1',
      reminders_sent: [{ n: 1, at: utc('2026-06-08T16:00:00Z') }],
      reminders_skipped: [{ n: 2, reason: 'daily-cap', at: utc('2026-06-09T16:00:00Z'), schedule_version: 1 }],
    });
    const after = {
      ...before,
      facts: { ...before.facts, appointment_datetime_utc: utc('2026-06-20T16:00:00Z') },
      status: 'QUEUED' as const,
      schedule_version: 2,
      schedule_since: utc('2026-06-09T17:00:00Z'),
      reminders_sent: [],
    };
    const plan = planReminders(after, policy(), '2026-06-09T17:00:00Z');
    expect(plan.reminders.map((r) => [r.n, r.status, r.at])).toEqual([
      [1, 'pending', utc('2026-06-18T16:00:00Z')],
      [2, 'pending', utc('2026-06-19T16:00:00Z')],
    ]);
    expect(plan.skipped).toEqual([]);
  });

  it('re-plans through the state machine: a RESCHEDULED event starts a new version dated when we learned of it', () => {
    const now1 = '2026-11-20T08:00:00.000Z';
    const booked = parse({ event_datetime_utc: '2026-11-20T07:59:00Z' });
    const s1 = applyEvent(null, booked, now1).state as AppointmentState;
    const remind = withEventId({
      ...s1.facts,
      event_type: 'REMIND',
      event_datetime_utc: '2026-11-29T17:30:00.000Z',
      detail: { reminder: '1' },
    });
    const s2 = applyEvent(s1, remind, '2026-11-29T17:30:00.000Z').state as AppointmentState;
    expect(planReminders(s2, policy(), '2026-11-29T17:31:00.000Z').next).toMatchObject({ n: 2 });

    const now3 = '2026-11-30T09:00:00.000Z';
    const moved = parse({
      event_type: 'RESCHEDULED',
      event_datetime_utc: '2026-11-30T08:59:00Z',
      appointment_datetime: '2026-12-08T09:30:00',
    });
    const s3 = applyEvent(s2, moved, now3).state as AppointmentState;
    expect(s3.schedule_version).toBe(2);
    expect(s3.schedule_since).toBe(now3);
    // Tue 2026-12-08 09:30 PST is 17:30Z; both reminders come back.
    expect(planReminders(s3, policy(), now3).reminders.map((r) => [r.n, r.status, r.at])).toEqual([
      [1, 'pending', utc('2026-12-06T17:30:00Z')],
      [2, 'pending', utc('2026-12-07T17:30:00Z')],
    ]);
  });
});

function parse(overrides: Record<string, unknown>): AppointmentEvent {
  const r = parseEhrEvent(ehrEvent(overrides), { defaultCountry: 'US' });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.event;
}

describe('appointments that get no more reminders', () => {
  const at = '2026-06-10T12:00:00-04:00';
  const due = '2026-06-08T16:30:00Z';
  const apptUtc = utc('2026-06-10T16:00:00Z');
  const stopCases = [
    { name: 'canceled', extra: { status: 'CANCELED', disposition: 'CANCELED' }, stopped: 'canceled', check: undefined, action: 'none' },
    { name: 'no-show', extra: { status: 'NOSHOWED', disposition: 'NOSHOWED' }, stopped: 'no-show', check: undefined, action: 'none' },
    { name: 'expired', extra: { status: 'EXPIRED', disposition: 'EXPIRED' }, stopped: 'expired', check: undefined, action: 'none' },
    {
      name: 'confirmed by the EHR',
      extra: { status: 'CONFIRMED', disposition: 'CONFIRMED' },
      stopped: 'confirmed',
      check: undefined,
      action: 'none',
    },
    {
      name: 'opted out (still expires at the appointment time)',
      extra: { opted_out: true, disposition: 'OPTED-OUT' },
      stopped: 'opted-out',
      check: apptUtc,
      action: 'wait',
    },
    {
      name: 'the patient asked to confirm',
      extra: { patient_request: { type: 'CONFIRM', at: LONG_AGO, event_id: 'p1' } },
      stopped: 'patient-requested',
      check: apptUtc,
      action: 'wait',
    },
    {
      name: 'the patient asked to cancel',
      extra: { patient_request: { type: 'CANCEL', at: LONG_AGO, event_id: 'p1' } },
      stopped: 'patient-requested',
      check: apptUtc,
      action: 'wait',
    },
  ] as const;
  for (const { name, extra, stopped, check, action } of stopCases)
    it(`sends no reminder when ${name}`, () => {
      const state = appointment(at, 'America/New_York', extra);
      const plan = planReminders(state, policy(), due);
      expect(plan.stopped).toBe(stopped);
      expect(plan.next?.kind).not.toBe('remind');
      expect(nextCheckAt(state, policy(), due)).toBe(check);
      expect(decide(state, policy(), due, { remindersSentToday: 0 }).action).toBe(action);
    });

  it('expires an active appointment once its time has passed', () => {
    const state = appointment(at, 'America/New_York', {
      status: 'REMINDED-2',
      reminders_sent: [
        { n: 1, at: LONG_AGO },
        { n: 2, at: LONG_AGO },
      ],
    });
    expect(planReminders(state, policy(), '2026-06-10T16:00:00Z').next).toEqual({ kind: 'expire', at: apptUtc });
    expect(decide(state, policy(), '2026-06-10T16:00:00Z', { remindersSentToday: 0 })).toEqual({ action: 'expire', record: [] });
    expect(nextCheckAt(state, policy(), '2026-06-10T17:00:00Z')).toBe(utc('2026-06-10T17:00:00Z'));
  });

  it('expires an opted-out appointment too, so it leaves the active list', () => {
    const state = appointment(at, 'America/New_York', { opted_out: true, disposition: 'OPTED-OUT' });
    expect(decide(state, policy(), '2026-06-10T16:10:00Z', { remindersSentToday: 0 })).toEqual({ action: 'expire', record: [] });
  });

  it('never sends an earlier reminder after a later one', () => {
    const state = appointment(at, 'America/New_York', {
      status: 'REMINDED-2',
      reminders_sent: [{ n: 2, at: utc('2026-06-09T16:00:00Z') }],
    });
    expect(planReminders(state, policy(), '2026-06-09T17:00:00Z').skipped).toEqual([{ n: 1, reason: 'superseded', recorded: false }]);
  });
});

describe('at most two reminders per patient per local day', () => {
  const state = appointment('2026-06-10T12:00:00-04:00', 'America/New_York');
  const now = '2026-06-08T16:05:00Z';

  it('sends when the patient had fewer than two reminders today', () => {
    expect(decide(state, policy(), now, { remindersSentToday: 1 })).toMatchObject({ action: 'send', n: 1 });
  });

  it('holds the reminder until the window opens tomorrow when the patient already had two today', () => {
    expect(decide(state, policy(), now, { remindersSentToday: 2 })).toEqual({
      action: 'wait',
      reason: 'daily-cap',
      next_check_at: utc('2026-06-09T12:00:00Z'),
      record: [],
    });
  });

  it('skips, with the reason, when tomorrow would be too late', () => {
    // Appointment Wed 07:30 EDT; reminder 2 went out deferred to Tue 08:00; Wed 08:00 is after it.
    const early = appointment('2026-06-10T07:30:00-04:00', 'America/New_York', {
      status: 'REMINDED-1',
      reminders_sent: [{ n: 1, at: utc('2026-06-08T12:00:00Z') }],
    });
    expect(decide(early, policy(), '2026-06-09T12:05:00Z', { remindersSentToday: 2 })).toEqual({
      action: 'skip',
      record: [{ n: 2, reason: 'daily-cap', at: utc('2026-06-09T12:05:00Z'), schedule_version: 1 }],
      next_check_at: utc('2026-06-10T11:30:00Z'),
    });
  });

  it('honours a stricter cap from the policy', () => {
    expect(decide(state, policy({ cap: 1 }), now, { remindersSentToday: 1 })).toMatchObject({ action: 'wait', reason: 'daily-cap' });
  });

  it.each([
    ['America/New_York', '2026-06-09T03:30:00Z', '2026-06-08'],
    ['Pacific/Honolulu', '2026-06-09T09:59:00Z', '2026-06-08'],
    ['-0700', '2026-06-09T06:59:00Z', '2026-06-08'],
  ])('counts the day in the patient zone: %s at %s is local day %s', (zone, at, day) => {
    expect(reminderLocalDay(zone, at)).toBe(day);
  });
});

describe('time zones and daylight saving time (window 08:00–20:00)', () => {
  const at = (state: AppointmentState, p = policy()) =>
    planReminders(state, p, '2026-01-02T00:00:00Z').reminders.map((r) => [r.n, r.at, r.deferred_from]);

  it('America/New_York spring forward: defers to 08:00 EST on Saturday and 08:00 EDT on Sunday', () => {
    // Mon 2026-03-09 07:30 EDT. 48h before is Sat 06:30 EST, 24h before is Sun 07:30 EDT.
    const state = appointment('2026-03-09T07:30:00-04:00', 'America/New_York');
    expect(at(state)).toEqual([
      [1, utc('2026-03-07T13:00:00Z'), utc('2026-03-07T11:30:00Z')],
      [2, utc('2026-03-08T12:00:00Z'), utc('2026-03-08T11:30:00Z')],
    ]);
  });

  it('America/New_York spring forward: counts lead times in elapsed hours, so the 48h reminder reads 09:00 on Saturday', () => {
    const state = appointment('2026-03-09T10:00:00-04:00', 'America/New_York');
    expect(at(state)).toEqual([
      [1, utc('2026-03-07T14:00:00Z'), undefined],
      [2, utc('2026-03-08T14:00:00Z'), undefined],
    ]);
  });

  it('America/New_York spring forward: a window opening inside the skipped hour opens at 03:00 EDT', () => {
    const state = appointment('2026-03-09T02:15:00-04:00', 'America/New_York');
    expect(at(state, policy({ first: '2400', second: '0000', start: '0230' }))).toEqual([
      [1, utc('2026-03-08T07:00:00Z'), utc('2026-03-08T06:15:00Z')],
    ]);
  });

  it('America/New_York fall back: 48h before is 08:30 EDT (sent), 24h before is 07:30 EST (deferred to 08:00 EST)', () => {
    const state = appointment('2026-11-02T07:30:00-05:00', 'America/New_York');
    expect(at(state)).toEqual([
      [1, utc('2026-10-31T12:30:00Z'), undefined],
      [2, utc('2026-11-01T13:00:00Z'), utc('2026-11-01T12:30:00Z')],
    ]);
  });

  it.each([
    // 24h before is Sun 04:45Z = 00:45 EDT: the window opens at the first 01:30 (EDT, 05:30Z).
    ['00:45 EDT opens at the first 01:30 (EDT)', '2026-11-01T23:45:00-05:00', utc('2026-11-01T05:30:00Z'), utc('2026-11-01T04:45:00Z')],
    // 24h before is Sun 06:00Z = 01:00 EST, after the clocks went back: it opens at the second 01:30.
    [
      '01:00 EST (the repeated hour) opens at the second 01:30 (EST)',
      '2026-11-02T01:00:00-05:00',
      utc('2026-11-01T06:30:00Z'),
      utc('2026-11-01T06:00:00Z'),
    ],
  ])('America/New_York fall back: 01:30 happens twice; a reminder due %s', (_name, appt, sendAt, deferredFrom) => {
    const state = appointment(appt, 'America/New_York');
    expect(at(state, policy({ first: '2400', second: '0000', start: '0130' }))).toEqual([[1, sendAt, deferredFrom]]);
  });

  it('America/Phoenix keeps UTC-7 while New York springs forward: 07:30 MST defers to 15:00Z', () => {
    const state = appointment('2026-03-09T07:30:00-07:00', 'America/Phoenix');
    expect(at(state)).toEqual([
      [1, utc('2026-03-07T15:00:00Z'), utc('2026-03-07T14:30:00Z')],
      [2, utc('2026-03-08T15:00:00Z'), utc('2026-03-08T14:30:00Z')],
    ]);
  });

  it.each([
    ['sends at 19:30 HST, which is 05:30Z the next UTC day', '2026-06-10T19:30:00-10:00', utc('2026-06-10T05:30:00Z'), undefined],
    ['defers 07:00 HST to 08:00 HST (18:00Z)', '2026-06-10T07:00:00-10:00', utc('2026-06-09T18:00:00Z'), utc('2026-06-09T17:00:00Z')],
  ])('Pacific/Honolulu %s', (_name, appt, sendAt, deferredFrom) => {
    const state = appointment(appt, 'Pacific/Honolulu');
    expect(at(state, policy({ first: '2400', second: '0000' }))).toEqual([[1, sendAt, deferredFrom]]);
  });

  describe('an appointment given as a Z timestamp with a legacy -0700 zone is not shifted twice', () => {
    const p = policy({ first: '2400', second: '0000', start: '0800', finish: '1700' });
    it.each([
      // 15:00Z is 08:00 at -07:00: inside the window. Shifted twice it would read 01:00 and be deferred.
      ['-0700', '2026-06-10T15:00:00Z', utc('2026-06-09T15:00:00Z'), undefined],
      ['-07:00', '2026-06-10T15:00:00Z', utc('2026-06-09T15:00:00Z'), undefined],
      // 02:30Z is 19:30 the previous local evening: outside, deferred to 08:00 local (15:00Z).
      ['-0700', '2026-06-11T02:30:00Z', utc('2026-06-10T15:00:00Z'), utc('2026-06-10T02:30:00Z')],
    ])('zone %s, appointment %s: reminder at %s', (zone, appt, sendAt, deferredFrom) => {
      const state = appointment(appt, zone, { facts: { ...appointment(appt, zone).facts, appointment_datetime: appt } });
      expect(at(state, p)).toEqual([[1, sendAt, deferredFrom]]);
    });

    it('through the event parser and state machine as well', () => {
      const e = parse({
        appointment_timezone: '-0700',
        appointment_datetime: '2026-06-10T15:00:00Z',
        event_datetime_utc: '2026-06-01T00:00:00Z',
      });
      const state = applyEvent(null, e, '2026-06-01T00:00:00.000Z').state as AppointmentState;
      expect(state.facts.appointment_datetime_utc).toBe('2026-06-10T15:00:00.000Z');
      expect(planReminders(state, p, '2026-06-01T00:00:00.000Z').next).toEqual({ kind: 'remind', n: 1, at: utc('2026-06-09T15:00:00Z') });
    });
  });

  it('skips every reminder with a reason when the stored zone cannot be read, and still expires', () => {
    const state = appointment('2026-06-10T12:00:00-04:00', 'Mars/Olympus');
    const plan = planReminders(state, policy(), '2026-06-01T00:00:00Z');
    expect(plan.skipped.map((s) => s.reason)).toEqual(['invalid-time-zone', 'invalid-time-zone']);
    expect(plan.next).toEqual({ kind: 'expire', at: utc('2026-06-10T16:00:00Z') });
  });
});

describe('nextCheckAt (the due index)', () => {
  it('is never earlier than now, so an overdue reminder is looked at on the next sweep', () => {
    const state = appointment('2026-06-10T12:00:00-04:00', 'America/New_York');
    expect(nextCheckAt(state, policy(), '2026-06-08T16:30:00Z')).toBe(utc('2026-06-08T16:30:00Z'));
  });

  it('points at the deferred time, not the lead-time instant', () => {
    const state = appointment('2026-06-11T21:00:00-04:00', 'America/New_York');
    expect(nextCheckAt(state, policy(), '2026-06-01T00:00:00Z')).toBe(utc('2026-06-10T12:00:00Z'));
  });
});
