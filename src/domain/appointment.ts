import { z } from 'zod';
import { isEhrEventType, type AppointmentEvent, type EhrEventType } from './event';

export const DISPOSITIONS = [
  'QUEUED',
  'REMINDED-1',
  'REMINDED-2',
  'CONFIRMED',
  'CANCELED',
  'NOSHOWED',
  'EXPIRED',
  'OPTED-OUT',
] as const;
export type Disposition = (typeof DISPOSITIONS)[number];

/** Dispositions in which the appointment is still ahead and the patient may be messaged about it. */
export const ACTIVE_DISPOSITIONS: readonly Disposition[] = ['QUEUED', 'REMINDED-1', 'REMINDED-2', 'CONFIRMED'];

const Base = z.enum(['QUEUED', 'REMINDED-1', 'REMINDED-2', 'CONFIRMED', 'CANCELED', 'NOSHOWED', 'EXPIRED']);
type BaseDisposition = z.infer<typeof Base>;

/** The facts about an appointment, as last told by the EHR. */
export const AppointmentFacts = z.object({
  appointment_id: z.string(),
  appointment_datetime: z.string(),
  appointment_datetime_utc: z.string(),
  appointment_timezone: z.string(),
  appointment_location: z.string().optional(),
  patient_id: z.string(),
  patient_first_name: z.string(),
  patient_last_name: z.string().optional(),
  patient_phone: z.string(),
  provider_id: z.string().optional(),
  provider_first_name: z.string().optional(),
  provider_last_name: z.string().optional(),
  provider_callback_phone: z.string().optional(),
});
export type AppointmentFacts = z.infer<typeof AppointmentFacts>;

/** A reminder the policy gave up on; tagged with the schedule_version it belongs to. */
export const ReminderSkip = z.object({
  n: z.number().int(),
  reason: z.string(),
  at: z.string(),
  schedule_version: z.number().int(),
});
export type ReminderSkip = z.infer<typeof ReminderSkip>;

export const AppointmentState = z.object({
  facts: AppointmentFacts,
  /** What the EHR and our reminders say, ignoring opt-out. */
  status: Base,
  opted_out: z.boolean(),
  /** `status`, or OPTED-OUT while the patient is opted out: the reference app's single word. */
  disposition: z.enum(DISPOSITIONS),
  ehr_event_type: z.enum(['BOOKED', 'RESCHEDULED', 'MODIFIED', 'CONFIRMED', 'CANCELED', 'NOSHOWED']),
  ehr_event_at: z.string(),
  ehr_event_id: z.string(),
  /** The patient's latest request, forwarded to the EHR; the EHR answers with CONFIRMED/CANCELED. */
  patient_request: z
    .object({ type: z.enum(['CONFIRM', 'CANCEL']), at: z.string(), event_id: z.string() })
    .optional(),
  /** Bumped whenever the appointment time changes, so reminders are planned afresh. */
  schedule_version: z.number().int(),
  /** Reminders sent for the current schedule_version: 1, 2. */
  reminders_sent: z.array(z.object({ n: z.number().int(), at: z.string() })),
  /**
   * When the current schedule_version began (we learned of the booking or the new time). The
   * reminder policy uses it to tell a late booking from a late sweep. Absent in states written
   * before it existed; version 1 then falls back to created_at.
   */
  schedule_since: z.string().optional(),
  /** Reminders the policy decided not to send, with why (src/domain/reminders.ts SkipReason). */
  reminders_skipped: z.array(ReminderSkip).optional(),
  /** Ids of recently applied events, to recognise redeliveries that are not the newest. */
  recent_event_ids: z.array(z.string()),
  revision: z.number().int(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type AppointmentState = z.infer<typeof AppointmentState>;

export type Outcome =
  | { kind: 'applied'; state: AppointmentState }
  | { kind: 'duplicate'; state: AppointmentState | null }
  | { kind: 'stale'; state: AppointmentState }
  | { kind: 'ignored'; reason: IgnoredReason; state: AppointmentState | null };

export type IgnoredReason =
  | 'unknown-appointment'
  | 'not-active'
  | 'patient-requested'
  | 'opted-out'
  | 'outdated-schedule'
  | 'already-reminded'
  | 'not-yet-due';

const RECENT_IDS = 32;

function factsOf(e: AppointmentEvent): AppointmentFacts {
  return AppointmentFacts.parse(e);
}

function isNewer(e: AppointmentEvent, s: AppointmentState): boolean {
  // Ties on the timestamp are broken by event id so every replica settles on the same winner.
  if (e.event_datetime_utc !== s.ehr_event_at) return e.event_datetime_utc > s.ehr_event_at;
  return e.event_id > s.ehr_event_id;
}

function remember(ids: string[], id: string): string[] {
  return [...ids.filter((x) => x !== id), id].slice(-RECENT_IDS);
}

function withDisposition(s: Omit<AppointmentState, 'disposition'>): AppointmentState {
  return { ...s, disposition: s.opted_out ? 'OPTED-OUT' : s.status };
}

/** The disposition an EHR event implies, given what we had (undefined when first seen). */
function statusAfterEhrEvent(
  type: EhrEventType,
  previous: BaseDisposition | undefined,
  timeChanged: boolean,
): BaseDisposition {
  switch (type) {
    case 'BOOKED':
      // A repeated booking of an appointment that is still on keeps its reminder progress.
      return previous && !timeChanged && ['QUEUED', 'REMINDED-1', 'REMINDED-2', 'CONFIRMED'].includes(previous)
        ? previous
        : 'QUEUED';
    case 'RESCHEDULED':
      return 'QUEUED';
    case 'MODIFIED':
      if (previous === undefined) return 'QUEUED';
      if (timeChanged && ['QUEUED', 'REMINDED-1', 'REMINDED-2', 'EXPIRED'].includes(previous)) return 'QUEUED';
      return previous;
    case 'CONFIRMED':
      return 'CONFIRMED';
    case 'CANCELED':
      return 'CANCELED';
    case 'NOSHOWED':
      return 'NOSHOWED';
  }
}

/**
 * Applies one event to an appointment's state. Pure: the caller supplies the clock reading `now`.
 * EHR events carry the appointment's facts and win by `event_datetime_utc`; patient and system
 * events are ours and are applied in arrival order.
 */
export function applyEvent(state: AppointmentState | null, event: AppointmentEvent, now: string): Outcome {
  if (state && (state.ehr_event_id === event.event_id || state.recent_event_ids.includes(event.event_id))) {
    return { kind: 'duplicate', state };
  }
  if (isEhrEventType(event.event_type)) return applyEhrEvent(state, event, event.event_type, now);
  if (!state) return { kind: 'ignored', reason: 'unknown-appointment', state: null };

  const base = {
    ...state,
    recent_event_ids: remember(state.recent_event_ids, event.event_id),
    revision: state.revision + 1,
    updated_at: now,
  };
  switch (event.event_type) {
    case 'CONFIRM':
    case 'CANCEL': {
      if (!ACTIVE_DISPOSITIONS.includes(state.status)) return { kind: 'ignored', reason: 'not-active', state };
      return {
        kind: 'applied',
        state: withDisposition({
          ...base,
          patient_request: { type: event.event_type, at: event.event_datetime_utc, event_id: event.event_id },
        }),
      };
    }
    case 'OPTED-OUT':
      return { kind: 'applied', state: withDisposition({ ...base, opted_out: true }) };
    case 'OPTED-IN':
      return { kind: 'applied', state: withDisposition({ ...base, opted_out: false }) };
    case 'REMIND': {
      const n = Number(event.detail?.reminder ?? '0');
      const version = Number(event.detail?.schedule_version ?? String(state.schedule_version));
      if (version !== state.schedule_version) return { kind: 'ignored', reason: 'outdated-schedule', state };
      if (state.opted_out) return { kind: 'ignored', reason: 'opted-out', state };
      if (state.patient_request) return { kind: 'ignored', reason: 'patient-requested', state };
      if (!['QUEUED', 'REMINDED-1', 'REMINDED-2'].includes(state.status)) {
        return { kind: 'ignored', reason: 'not-active', state };
      }
      if (state.reminders_sent.some((r) => r.n === n)) return { kind: 'ignored', reason: 'already-reminded', state };
      const status: BaseDisposition = n >= 2 ? 'REMINDED-2' : 'REMINDED-1';
      return {
        kind: 'applied',
        state: withDisposition({
          ...base,
          status,
          reminders_sent: [...state.reminders_sent, { n, at: event.event_datetime_utc }],
        }),
      };
    }
    case 'EXPIRED': {
      if (event.event_datetime_utc < state.facts.appointment_datetime_utc) {
        return { kind: 'ignored', reason: 'not-yet-due', state };
      }
      // Confirmed, canceled and no-show appointments keep the outcome the EHR gave them.
      if (!['QUEUED', 'REMINDED-1', 'REMINDED-2'].includes(state.status)) {
        return { kind: 'ignored', reason: 'not-active', state };
      }
      return { kind: 'applied', state: withDisposition({ ...base, status: 'EXPIRED' }) };
    }
  }
  return { kind: 'ignored', reason: 'not-active', state };
}

function applyEhrEvent(
  state: AppointmentState | null,
  event: AppointmentEvent,
  type: EhrEventType,
  now: string,
): Outcome {
  const facts = factsOf(event);
  if (!state) {
    return {
      kind: 'applied',
      state: withDisposition({
        facts,
        status: statusAfterEhrEvent(type, undefined, false),
        opted_out: false,
        ehr_event_type: type,
        ehr_event_at: event.event_datetime_utc,
        ehr_event_id: event.event_id,
        schedule_version: 1,
        schedule_since: now,
        reminders_sent: [],
        recent_event_ids: [event.event_id],
        revision: 1,
        created_at: now,
        updated_at: now,
      }),
    };
  }
  if (!isNewer(event, state)) return { kind: 'stale', state };

  const timeChanged = facts.appointment_datetime_utc !== state.facts.appointment_datetime_utc;
  const status = statusAfterEhrEvent(type, state.status, timeChanged);
  // Reminders are planned afresh when the time moves or the appointment comes back to life.
  const revived = status === 'QUEUED' && ['CANCELED', 'NOSHOWED', 'EXPIRED'].includes(state.status);
  // Reminders are planned afresh when the time moves or the appointment comes back to life.
  const replan = timeChanged || type === 'RESCHEDULED' || revived;
  return {
    kind: 'applied',
    state: withDisposition({
      ...state,
      facts,
      status,
      ehr_event_type: type,
      ehr_event_at: event.event_datetime_utc,
      ehr_event_id: event.event_id,
      patient_request: replan ? undefined : state.patient_request,
      schedule_version: replan ? state.schedule_version + 1 : state.schedule_version,
      schedule_since: replan ? now : state.schedule_since,
      reminders_sent: replan ? [] : state.reminders_sent,
      recent_event_ids: remember(state.recent_event_ids, event.event_id),
      revision: state.revision + 1,
      updated_at: now,
    }),
  };
}

/** Whether reminders may still go out for this appointment (policy details live in reminders). */
export function wantsReminders(state: AppointmentState): boolean {
  return (
    !state.opted_out &&
    !state.patient_request &&
    ['QUEUED', 'REMINDED-1', 'REMINDED-2'].includes(state.status)
  );
}
