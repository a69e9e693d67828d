import { beforeEach, describe, expect, it } from 'vitest';
import { ehrEvent } from '../../test/fixtures/events';
import { localTime } from '../../test/fixtures/time';
import { applyEvent, markUndeliverable, wantsReminders, type AppointmentState, type Disposition } from './appointment';
import { parseEhrEvent, withEventId, type AppointmentEvent, type EventType } from './event';

const NOW = '2026-11-25T09:00:00.000Z';
let clock = 0;
/** One clock for every event of a test, EHR's and ours: each event happens after the one before. */
const START = Date.UTC(2026, 10, 25, 8, 0, 0);
let instant = START;
beforeEach(() => {
  instant = START;
});
function tick(at?: string): string {
  instant = at ? Math.max(instant, Date.parse(at)) : instant + 1000;
  return at ?? new Date(instant).toISOString();
}

/** EHR events get increasing event times unless one is given. */
function ehr(type: string, overrides: Record<string, unknown> = {}): AppointmentEvent {
  clock += 1;
  const r = parseEhrEvent(ehrEvent({ event_type: type, event_datetime_utc: tick(), ...overrides }), { defaultCountry: 'US' });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.event;
}

/** Patient and system events are built from the state's facts, as the Functions and sweep do. */
function ours(type: EventType, state: AppointmentState, detail?: Record<string, string>, at?: string): AppointmentEvent {
  clock += 1;
  return withEventId({
    ...state.facts,
    event_type: type,
    event_datetime_utc: tick(at),
    ...(detail ? { detail: { ...detail, nonce: String(clock) } } : { detail: { nonce: String(clock) } }),
  });
}

function apply(state: AppointmentState | null, e: AppointmentEvent): AppointmentState {
  const o = applyEvent(state, e, NOW);
  if (!o.state) throw new Error(`no state after ${e.event_type}`);
  return o.state;
}

function inDisposition(d: Disposition): AppointmentState {
  const booked = apply(null, ehr('BOOKED'));
  switch (d) {
    case 'QUEUED':
      return booked;
    case 'REMINDED-1':
      return apply(booked, ours('REMIND', booked, { reminder: '1' }));
    case 'REMINDED-2': {
      const r1 = apply(booked, ours('REMIND', booked, { reminder: '1' }));
      return apply(r1, ours('REMIND', r1, { reminder: '2' }));
    }
    case 'CONFIRMED':
      return apply(booked, ehr('CONFIRMED'));
    case 'CANCELED':
      return apply(booked, ehr('CANCELED'));
    case 'NOSHOWED':
      return apply(booked, ehr('NOSHOWED'));
    case 'EXPIRED':
      return apply(booked, ours('EXPIRED', booked, undefined, '2026-12-01T18:00:00.000Z'));
    case 'OPTED-OUT':
      return apply(booked, ours('OPTED-OUT', booked));
  }
}

type Step =
  | 'BOOKED'
  | 'RESCHEDULED'
  | 'MODIFIED'
  | 'CONFIRMED'
  | 'CANCELED'
  | 'NOSHOWED'
  | 'CONFIRM'
  | 'CANCEL'
  | 'OPTED-OUT'
  | 'OPTED-IN'
  | 'REMIND-1'
  | 'REMIND-2'
  | 'EXPIRED';
const STEPS: Step[] = [
  'BOOKED',
  'RESCHEDULED',
  'MODIFIED',
  'CONFIRMED',
  'CANCELED',
  'NOSHOWED',
  'CONFIRM',
  'CANCEL',
  'OPTED-OUT',
  'OPTED-IN',
  'REMIND-1',
  'REMIND-2',
  'EXPIRED',
];

function event(step: Step, state: AppointmentState): AppointmentEvent {
  switch (step) {
    case 'RESCHEDULED':
      return ehr('RESCHEDULED', { appointment_datetime: '2026-12-03T10:00:00' });
    case 'BOOKED':
    case 'MODIFIED':
    case 'CONFIRMED':
    case 'CANCELED':
    case 'NOSHOWED':
      return ehr(step);
    case 'REMIND-1':
      return ours('REMIND', state, { reminder: '1' });
    case 'REMIND-2':
      return ours('REMIND', state, { reminder: '2' });
    case 'EXPIRED':
      return ours('EXPIRED', state, undefined, '2026-12-01T18:00:00.000Z');
    case 'CONFIRM':
    case 'CANCEL':
    case 'OPTED-OUT':
    case 'OPTED-IN':
      return ours(step, state);
  }
}

// Expected disposition after each event from each disposition; `-` means the event is recorded in
// history but leaves the state alone (ignored).
const TABLE: Record<Disposition, Record<Step, Disposition | '-'>> = {
  QUEUED: {
    BOOKED: 'QUEUED',
    RESCHEDULED: 'QUEUED',
    MODIFIED: 'QUEUED',
    CONFIRMED: 'CONFIRMED',
    CANCELED: 'CANCELED',
    NOSHOWED: 'NOSHOWED',
    CONFIRM: 'QUEUED',
    CANCEL: 'QUEUED',
    'OPTED-OUT': 'OPTED-OUT',
    'OPTED-IN': 'QUEUED',
    'REMIND-1': 'REMINDED-1',
    'REMIND-2': 'REMINDED-2',
    EXPIRED: 'EXPIRED',
  },
  'REMINDED-1': {
    BOOKED: 'REMINDED-1',
    RESCHEDULED: 'QUEUED',
    MODIFIED: 'REMINDED-1',
    CONFIRMED: 'CONFIRMED',
    CANCELED: 'CANCELED',
    NOSHOWED: 'NOSHOWED',
    CONFIRM: 'REMINDED-1',
    CANCEL: 'REMINDED-1',
    'OPTED-OUT': 'OPTED-OUT',
    'OPTED-IN': 'REMINDED-1',
    'REMIND-1': '-',
    'REMIND-2': 'REMINDED-2',
    EXPIRED: 'EXPIRED',
  },
  'REMINDED-2': {
    BOOKED: 'REMINDED-2',
    RESCHEDULED: 'QUEUED',
    MODIFIED: 'REMINDED-2',
    CONFIRMED: 'CONFIRMED',
    CANCELED: 'CANCELED',
    NOSHOWED: 'NOSHOWED',
    CONFIRM: 'REMINDED-2',
    CANCEL: 'REMINDED-2',
    'OPTED-OUT': 'OPTED-OUT',
    'OPTED-IN': 'REMINDED-2',
    'REMIND-1': '-',
    'REMIND-2': '-',
    EXPIRED: 'EXPIRED',
  },
  CONFIRMED: {
    BOOKED: 'CONFIRMED',
    RESCHEDULED: 'QUEUED',
    MODIFIED: 'CONFIRMED',
    CONFIRMED: 'CONFIRMED',
    CANCELED: 'CANCELED',
    NOSHOWED: 'NOSHOWED',
    CONFIRM: 'CONFIRMED',
    CANCEL: 'CONFIRMED',
    'OPTED-OUT': 'OPTED-OUT',
    'OPTED-IN': 'CONFIRMED',
    'REMIND-1': '-',
    'REMIND-2': '-',
    EXPIRED: '-',
  },
  CANCELED: {
    BOOKED: 'QUEUED',
    RESCHEDULED: 'QUEUED',
    MODIFIED: 'CANCELED',
    CONFIRMED: 'CONFIRMED',
    CANCELED: 'CANCELED',
    NOSHOWED: 'NOSHOWED',
    CONFIRM: '-',
    CANCEL: '-',
    'OPTED-OUT': 'OPTED-OUT',
    'OPTED-IN': 'CANCELED',
    'REMIND-1': '-',
    'REMIND-2': '-',
    EXPIRED: '-',
  },
  NOSHOWED: {
    BOOKED: 'QUEUED',
    RESCHEDULED: 'QUEUED',
    MODIFIED: 'NOSHOWED',
    CONFIRMED: 'CONFIRMED',
    CANCELED: 'CANCELED',
    NOSHOWED: 'NOSHOWED',
    CONFIRM: '-',
    CANCEL: '-',
    'OPTED-OUT': 'OPTED-OUT',
    'OPTED-IN': 'NOSHOWED',
    'REMIND-1': '-',
    'REMIND-2': '-',
    EXPIRED: '-',
  },
  EXPIRED: {
    BOOKED: 'QUEUED',
    RESCHEDULED: 'QUEUED',
    MODIFIED: 'EXPIRED',
    CONFIRMED: 'CONFIRMED',
    CANCELED: 'CANCELED',
    NOSHOWED: 'NOSHOWED',
    CONFIRM: '-',
    CANCEL: '-',
    'OPTED-OUT': 'OPTED-OUT',
    'OPTED-IN': 'EXPIRED',
    'REMIND-1': '-',
    'REMIND-2': '-',
    EXPIRED: '-',
  },
  'OPTED-OUT': {
    BOOKED: 'OPTED-OUT',
    RESCHEDULED: 'OPTED-OUT',
    MODIFIED: 'OPTED-OUT',
    CONFIRMED: 'OPTED-OUT',
    CANCELED: 'OPTED-OUT',
    NOSHOWED: 'OPTED-OUT',
    CONFIRM: 'OPTED-OUT',
    CANCEL: 'OPTED-OUT',
    'OPTED-OUT': 'OPTED-OUT',
    'OPTED-IN': 'QUEUED',
    'REMIND-1': '-',
    'REMIND-2': '-',
    EXPIRED: 'OPTED-OUT',
  },
};

describe('applyEvent: every event from every disposition', () => {
  const cases = Object.entries(TABLE).flatMap(([from, row]) => STEPS.map((step) => [from as Disposition, step, row[step]] as const));
  it.each(cases)('%s + %s → %s', (from, step, expected) => {
    const state = inDisposition(from);
    expect(state.disposition).toBe(from);
    const outcome = applyEvent(state, event(step, state), NOW);
    if (expected === '-') {
      expect(outcome.kind).toBe('ignored');
      expect(outcome.state).toBe(state);
    } else {
      expect(outcome.kind).toBe('applied');
      expect(outcome.state?.disposition).toBe(expected);
      expect(outcome.state?.revision).toBe(state.revision + 1);
    }
  });
});

describe('applyEvent: first event seen', () => {
  it.each([
    ['BOOKED', 'QUEUED'],
    ['RESCHEDULED', 'QUEUED'],
    ['MODIFIED', 'QUEUED'],
    ['CONFIRMED', 'CONFIRMED'],
    ['CANCELED', 'CANCELED'],
    ['NOSHOWED', 'NOSHOWED'],
  ] as const)('an appointment first seen with %s starts as %s', (type, disposition) => {
    const o = applyEvent(null, ehr(type), NOW);
    expect(o.kind).toBe('applied');
    expect(o.state?.disposition).toBe(disposition);
    expect(o.state?.schedule_version).toBe(1);
  });

  it.each(['CONFIRM', 'CANCEL', 'OPTED-OUT', 'OPTED-IN', 'REMIND', 'EXPIRED'] as const)(
    'ignores %s for an appointment it has never seen',
    (type) => {
      const facts = apply(null, ehr('BOOKED', { appointment_id: 'OTHER' }));
      const o = applyEvent(null, ours(type, facts), NOW);
      expect(o).toEqual({ kind: 'ignored', reason: 'unknown-appointment', state: null });
    },
  );
});

describe('applyEvent: ordering and duplicates', () => {
  it('inserts an older EHR event at its place and derives the state again', () => {
    const newer = apply(null, ehr('CANCELED', { event_datetime_utc: '2026-11-25T10:00:00Z' }));
    const o = applyEvent(newer, ehr('BOOKED', { event_datetime_utc: '2026-11-25T09:00:00Z', appointment_location: 'Old room' }), NOW);
    expect(o).toMatchObject({ kind: 'applied', late: true });
    expect(o.state?.disposition).toBe('CANCELED');
    expect(o.state?.facts.appointment_location).toBe(newer.facts.appointment_location);
    expect(o.state?.log?.map((e) => e.type)).toEqual(['BOOKED', 'CANCELED']);
  });

  it('settles ties on the event time by event id, whatever the arrival order', () => {
    const at = '2026-11-25T10:00:00Z';
    const a = ehr('BOOKED', { event_datetime_utc: at, appointment_location: 'Room A' });
    const b = ehr('BOOKED', { event_datetime_utc: at, appointment_location: 'Room B' });
    const ab = apply(apply(null, a), b);
    const ba = apply(apply(null, b), a);
    expect(ab.facts.appointment_location).toBe(ba.facts.appointment_location);
  });

  it('recognises a redelivered event as a duplicate and changes nothing', () => {
    const booked = ehr('BOOKED');
    const s1 = apply(null, booked);
    const s2 = apply(s1, ehr('MODIFIED', { appointment_location: 'Room 9' }));
    expect(applyEvent(s2, booked, NOW)).toEqual({ kind: 'duplicate', state: s2 });
  });

  it('recognises a redelivered patient request as a duplicate', () => {
    const s1 = apply(null, ehr('BOOKED'));
    const confirm = ours('CONFIRM', s1);
    const s2 = apply(s1, confirm);
    expect(applyEvent(s2, confirm, NOW).kind).toBe('duplicate');
  });
});

describe('applyEvent: patient requests and reminders', () => {
  it('records a confirm request without changing the EHR disposition', () => {
    const s1 = apply(null, ehr('BOOKED'));
    const s2 = apply(s1, ours('CONFIRM', s1));
    expect(s2.disposition).toBe('QUEUED');
    expect(s2.patient_request?.type).toBe('CONFIRM');
  });

  it('re-plans reminders on a reschedule: new version, none sent, request cleared', () => {
    const s1 = apply(null, ehr('BOOKED'));
    const s2 = apply(s1, ours('REMIND', s1, { reminder: '1' }));
    const s3 = apply(s2, ours('CANCEL', s2));
    const s4 = apply(s3, ehr('RESCHEDULED', { appointment_datetime: '2026-12-05T11:00:00' }));
    expect(s4.schedule_version).toBe(s1.schedule_version + 1);
    expect(s4.reminders_sent).toEqual([]);
    expect(s4.patient_request).toBeUndefined();
    expect(s4.facts.appointment_datetime_utc).toBe('2026-12-05T19:00:00.000Z');
  });

  it('a RESCHEDULE request stops reminders until the EHR answers with a new time, which re-plans them', () => {
    const s1 = apply(null, ehr('BOOKED'));
    const s2 = apply(s1, ours('RESCHEDULE', s1));
    expect(s2).toMatchObject({ disposition: 'QUEUED', patient_request: { type: 'RESCHEDULE' } });
    expect(wantsReminders(s2)).toBe(false);
    expect(applyEvent(s2, ours('REMIND', s2, { reminder: '1' }), NOW)).toMatchObject({ kind: 'ignored', reason: 'patient-requested' });
    const s3 = apply(s2, ehr('RESCHEDULED', { appointment_datetime: '2026-12-05T11:00:00' }));
    expect(s3.patient_request).toBeUndefined();
    expect(wantsReminders(s3)).toBe(true);
    const canceled = apply(s1, ehr('CANCELED'));
    expect(applyEvent(canceled, ours('RESCHEDULE', canceled), NOW)).toMatchObject({ kind: 'ignored', reason: 'not-active' });
  });

  it('ignores a reminder planned for an earlier version of the schedule', () => {
    const s1 = apply(null, ehr('BOOKED'));
    const s2 = apply(s1, ehr('RESCHEDULED', { appointment_datetime: '2026-12-05T11:00:00' }));
    const o = applyEvent(s2, ours('REMIND', s2, { reminder: '1', schedule_version: String(s1.schedule_version) }), NOW);
    expect(o).toMatchObject({ kind: 'ignored', reason: 'outdated-schedule' });
  });

  it('does not remind after the patient asked to confirm', () => {
    const s1 = apply(null, ehr('BOOKED'));
    const s2 = apply(s1, ours('CONFIRM', s1));
    expect(applyEvent(s2, ours('REMIND', s2, { reminder: '1' }), NOW)).toMatchObject({ kind: 'ignored', reason: 'patient-requested' });
  });

  it('does not expire an appointment before its time', () => {
    const s1 = apply(null, ehr('BOOKED'));
    expect(applyEvent(s1, ours('EXPIRED', s1, undefined, '2026-12-01T17:29:59.000Z'), NOW)).toMatchObject({
      kind: 'ignored',
      reason: 'not-yet-due',
    });
  });

  it('restores the disposition underneath when the patient opts back in', () => {
    const s1 = inDisposition('CONFIRMED');
    const s2 = apply(s1, ours('OPTED-OUT', s1));
    const s3 = apply(s2, ehr('CANCELED'));
    expect(s3.disposition).toBe('OPTED-OUT');
    expect(apply(s3, ours('OPTED-IN', s3)).disposition).toBe('CANCELED');
  });
});

describe('a number Twilio cannot deliver to', () => {
  const u = (phone: string) => ({ phone, error_code: '30006', at: NOW, message_sid: 'SM1' });

  it('is marked once, and only while it is the appointment phone', () => {
    const booked = apply(null, ehr('BOOKED'));
    const marked = markUndeliverable(booked, u(booked.facts.patient_phone), NOW);
    expect(marked?.undeliverable).toEqual(u(booked.facts.patient_phone));
    expect(marked && markUndeliverable(marked, u(booked.facts.patient_phone), NOW)).toBeNull();
    expect(markUndeliverable(booked, u('+14155550999'), NOW)).toBeNull();
  });

  it('stays through events that keep the phone and is cleared by a new patient_phone from the EHR', () => {
    const booked = apply(null, ehr('BOOKED'));
    const marked = markUndeliverable(booked, u(booked.facts.patient_phone), NOW);
    if (!marked) throw new Error('not marked');
    const moved = apply(marked, ehr('RESCHEDULED', { appointment_datetime: localTime(7, '10:00') }));
    expect(moved.undeliverable?.error_code).toBe('30006');
    expect(wantsReminders(moved)).toBe(false);
    const renumbered = apply(moved, ehr('MODIFIED', { patient_phone: '+1 415 555 0177', appointment_datetime: localTime(7, '10:00') }));
    expect(renumbered.undeliverable).toBeUndefined();
    expect(wantsReminders(renumbered)).toBe(true);
  });
});
