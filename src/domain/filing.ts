import { z } from 'zod';
import type { AppointmentState } from './appointment';
import type { EventType } from './event';
import { asksForConfirmation, figureDay, type Figure } from './figures';
import type { NoticeKind } from './notice';

/*
 * What the derived indexes (the admin listing, the due index, the phone directory, the dashboard's
 * counters) hold for one appointment, kept in its state as `filed`. A state write on the intake's
 * path leaves `filed` as it was and announces the change instead (a change marker, written before
 * the state); whoever files the change later (src/use-cases/file-changes.ts) brings the indexes up
 * to the state and records what they now hold. Other writers file their change as they write.
 */

/** The fields of a state the admin listing's keys are made of. */
export const Listed = z.object({
  id: z.string(),
  at: z.string(),
  changed: z.string(),
  disposition: z.string(),
  undeliverable: z.boolean(),
  patient_request: z.boolean(),
  location: z.string().optional(),
  provider: z.string().optional(),
  first_name: z.string(),
  last_name: z.string().optional(),
});
export type Listed = z.infer<typeof Listed>;

export const DueFiling = z.object({ at: z.string(), schedule_version: z.number().int() });
export type DueFiling = z.infer<typeof DueFiling>;

export const Filed = z.object({
  /** The state revision the indexes were last brought up to. */
  revision: z.number().int(),
  /** Absent: no listing entries yet. */
  listed: Listed.optional(),
  /** The due entry written for it (absent: none was wanted). */
  due: DueFiling.optional(),
  /** Absent: not in the phone directory yet. */
  phone: z.string().optional(),
  /** Facts already counted on the dashboard (`<figures>:<fact id>`). */
  counted: z.array(z.string()),
});
export type Filed = z.infer<typeof Filed>;

/** What a state that was never filed has in the indexes: nothing. */
export const NOTHING_FILED: Filed = { revision: 0, counted: [] };

/**
 * The newest thing that happened to the appointment as the front desk sees it: the EHR's last
 * event, the patient's request, Twilio refusing the number. Internal bookkeeping (a text's outbox
 * going from pending to sent) is not a change, so it costs no index write.
 */
export function lastChangeOf(state: AppointmentState): string {
  const times = [state.ehr_event_at, state.patient_request?.at, state.undeliverable?.at].filter((t): t is string => typeof t === 'string');
  return times.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a));
}

export function listedOf(state: AppointmentState): Listed {
  const f = state.facts;
  return {
    id: f.appointment_id,
    at: f.appointment_datetime_utc,
    changed: lastChangeOf(state),
    disposition: state.disposition,
    undeliverable: !!state.undeliverable,
    patient_request: !!state.patient_request,
    ...(f.appointment_location !== undefined ? { location: f.appointment_location } : {}),
    ...(f.provider_id !== undefined ? { provider: f.provider_id } : {}),
    first_name: f.patient_first_name,
    ...(f.patient_last_name !== undefined ? { last_name: f.patient_last_name } : {}),
  };
}

/** One fact the dashboard counts, with the id that makes counting it idempotent. */
export interface Fact {
  /** `<figures joined by +>:<id>`: what `Filed.counted` holds. */
  key: string;
  id: string;
  figures: readonly Figure[];
  at: string;
  zone: string;
  day: string;
}

/**
 * The figures an event of each type counts when it is in the log (its text, if any, is counted
 * when it goes out); null for the types that count nothing of their own.
 */
export const EVENT_FIGURES: Record<EventType, readonly Figure[] | null> = {
  BOOKED: null,
  RESCHEDULED: null,
  MODIFIED: null,
  CONFIRMED: null,
  CANCELED: null,
  NOSHOWED: ['no_shows'],
  CONFIRM: ['confirmed_by_text'],
  CANCEL: ['canceled_by_text'],
  RESCHEDULE: null,
  // Counted by the opt-out ledger when it changes, not per event: a repeated STOP is one opt-out.
  'OPTED-OUT': null,
  'OPTED-IN': null,
  REMIND: ['sent', 'confirmation_asks'],
  EXPIRED: null,
};

function fact(id: string, figures: readonly Figure[], at: string, zone: string): Fact {
  return { key: `${figures.join('+')}:${id}`, id, figures, at, zone, day: figureDay(at, zone) };
}

/** The facts an event counts on its own (without its text), by type: for a redelivery to count again. */
export function eventFacts(event: {
  event_id: string;
  event_type: EventType;
  event_datetime_utc: string;
  appointment_timezone: string;
}): Fact[] {
  const figures = EVENT_FIGURES[event.event_type];
  return figures ? [fact(event.event_id, figures, event.event_datetime_utc, event.appointment_timezone)] : [];
}

/** Every fact the state's log holds: events that count, and texts that went out. */
export function factsOf(state: AppointmentState): Fact[] {
  const zone = state.facts.appointment_timezone;
  const facts: Fact[] = [];
  for (const e of state.log ?? []) {
    const figures = EVENT_FIGURES[e.type];
    if (figures) facts.push(fact(e.id, figures, e.at, zone));
    if (e.text === 'sent' && e.text_at && e.text_kind)
      facts.push(fact(e.id, asksForConfirmation(e.text_kind as NoticeKind) ? ['sent', 'confirmation_asks'] : ['sent'], e.text_at, zone));
  }
  return facts;
}

/** What the indexes hold once they are brought up to `state`, with `due` its due entry (and `facts` its facts, when the caller has them). */
export function filingOf(state: AppointmentState, due: DueFiling | undefined, facts: Fact[] = factsOf(state)): Filed {
  return {
    revision: state.revision,
    listed: listedOf(state),
    ...(due ? { due } : {}),
    phone: state.facts.patient_phone,
    counted: facts.map((f) => f.key),
  };
}

/** What changes when the indexes go from `before` (null: nothing filed yet) to `after`. */
export function filingChanges(before: Filed | null, after: Filed, facts: Fact[]): { phone: boolean; due: boolean; uncounted: Fact[] } {
  const counted = new Set(before?.counted ?? []);
  return {
    phone: before?.phone !== after.phone,
    due: !!after.due && (after.due.at !== before?.due?.at || after.due.schedule_version !== before.due.schedule_version),
    uncounted: facts.filter((f) => !counted.has(f.key)),
  };
}
