import { z } from 'zod';
import { EHR_EVENT_TYPES, isEhrEventType, type AppointmentEvent } from './event';
import { BaseStatus, Checkpoint, compactLog, EMPTY_FOLD, foldLog, insertEntry, LogEntry, PatientRequest } from './event-log';
import { Filed } from './filing';
import { Outbox, Told } from './notice';
import { BASE_STATUSES, isActive, isRemindable } from './statuses';

export const DISPOSITIONS = [...BASE_STATUSES, 'OPTED-OUT'] as const;
export type Disposition = (typeof DISPOSITIONS)[number];

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
  /** Canonical BCP 47 tag from the EHR; absent means English. */
  patient_language: z.string().optional(),
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

/**
 * Twilio reported that `phone` cannot receive texts (30003 unreachable, 30005 unknown, 30006
 * landline): no reminders go to it. Kept only while the appointment's patient_phone is that phone.
 */
export const Undeliverable = z.object({ phone: z.string(), error_code: z.string(), at: z.string(), message_sid: z.string() });
export type Undeliverable = z.infer<typeof Undeliverable>;

export const AppointmentState = z.object({
  facts: AppointmentFacts,
  /** What the EHR and our reminders say, ignoring opt-out. */
  status: BaseStatus,
  opted_out: z.boolean(),
  /** `status`, or OPTED-OUT while the patient is opted out: the reference app's single word. */
  disposition: z.enum(DISPOSITIONS),
  ehr_event_type: z.enum(EHR_EVENT_TYPES),
  ehr_event_at: z.string(),
  ehr_event_id: z.string(),
  patient_request: PatientRequest.optional(),
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
  /** Reminders the policy decided not to send, with why (src/domain/reminder-plan.ts SkipReason). */
  reminders_skipped: z.array(ReminderSkip).optional(),
  /** Id of the event that began the current schedule (absent in states written before the log). */
  schedule_anchor: z.string().optional(),
  /** Every accepted event, sorted by (event_datetime_utc, event id): the state is folded from it. */
  log: z.array(LogEntry).optional(),
  /** What the entries folded out of `log` (beyond MAX_LOG_ENTRIES) came to. */
  checkpoint: Checkpoint.optional(),
  /** Texts about this appointment waiting to go out or in flight (src/domain/notice.ts). */
  outbox: Outbox.optional(),
  /** The last text about the appointment the patient was sent (reminders aside). */
  told: Told.optional(),
  undeliverable: Undeliverable.optional(),
  /** Ids of recently applied events, to recognise redeliveries that are not the newest. */
  recent_event_ids: z.array(z.string()),
  revision: z.number().int(),
  /** What the derived indexes hold for this appointment (src/domain/filing.ts); absent: they match this state. */
  filed: Filed.optional(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type AppointmentState = z.infer<typeof AppointmentState>;

export type Outcome =
  /** `late`: an EHR event older than the newest one, inserted at its place and the state re-derived. */
  | { kind: 'applied'; state: AppointmentState; late?: boolean }
  | { kind: 'duplicate'; state: AppointmentState | null }
  /** Older than every event the state still keeps in its log (see MAX_LOG_ENTRIES): kept in history only. */
  | { kind: 'stale'; state: AppointmentState }
  | { kind: 'ignored'; reason: IgnoredReason; state: AppointmentState | null };

export type IgnoredReason =
  'unknown-appointment' | 'not-active' | 'patient-requested' | 'opted-out' | 'outdated-schedule' | 'already-reminded' | 'not-yet-due';

const RECENT_IDS = 32;

function factsOf(e: AppointmentEvent): AppointmentFacts {
  return AppointmentFacts.parse(e);
}

function remember(ids: string[], id: string): string[] {
  return [...ids.filter((x) => x !== id), id].slice(-RECENT_IDS);
}

function scheduleOf(state: AppointmentState): string {
  return state.schedule_anchor ?? `v${state.schedule_version}`;
}

/**
 * The log and checkpoint of a state. A state written before the log existed becomes a checkpoint
 * of itself: later events fold on top of it, older EHR events are stale as they were then.
 */
function logOf(state: AppointmentState): { log: LogEntry[]; checkpoint: Checkpoint | undefined } {
  if (state.log) return { log: state.log, checkpoint: state.checkpoint };
  return {
    log: [],
    checkpoint: {
      fold: {
        status: state.status,
        appt_at: state.facts.appointment_datetime_utc,
        schedule: scheduleOf(state),
        reminders_sent: state.reminders_sent,
        patient_request: state.patient_request,
        opted_out: state.opted_out,
        last_ehr: { type: state.ehr_event_type, at: state.ehr_event_at, id: state.ehr_event_id },
      },
      at: state.ehr_event_at,
      id: state.ehr_event_id,
    },
  };
}

function entryFor(event: AppointmentEvent, state: AppointmentState | null): LogEntry {
  const entry: LogEntry = { id: event.event_id, type: event.event_type, at: event.event_datetime_utc };
  if (isEhrEventType(event.event_type)) entry.appt_at = event.appointment_datetime_utc;
  if (event.event_type === 'REMIND') {
    entry.n = Number(event.detail?.reminder ?? '0');
    if (state) entry.schedule = scheduleOf(state);
  }
  return entry;
}

/** Inserts the event's entry into the state's log and derives the state again from the log. */
function refold(state: AppointmentState | null, event: AppointmentEvent, now: string): Outcome {
  const { log, checkpoint } = state ? logOf(state) : { log: [], checkpoint: undefined };
  const inserted = insertEntry(log, entryFor(event, state), checkpoint);
  if (!inserted) return state ? { kind: 'stale', state } : { kind: 'ignored', reason: 'unknown-appointment', state: null };
  const compacted = compactLog(inserted.log, checkpoint);
  const fold = foldLog(compacted.checkpoint?.fold ?? EMPTY_FOLD, compacted.log);
  if (!fold.status || !fold.last_ehr || !fold.schedule) return { kind: 'ignored', reason: 'unknown-appointment', state };
  // The patient-facing facts are the newest EHR event's.
  const newest = fold.last_ehr.id === event.event_id;
  const facts = newest || !state ? factsOf(event) : state.facts;
  const rescheduled = !state || fold.schedule !== scheduleOf(state);
  const next = withDisposition({
    facts,
    status: fold.status,
    opted_out: fold.opted_out,
    ehr_event_type: fold.last_ehr.type,
    ehr_event_at: fold.last_ehr.at,
    ehr_event_id: fold.last_ehr.id,
    ...(fold.patient_request ? { patient_request: fold.patient_request } : {}),
    schedule_version: !state ? 1 : rescheduled ? state.schedule_version + 1 : state.schedule_version,
    schedule_anchor: fold.schedule,
    schedule_since: rescheduled ? now : (state.schedule_since ?? now),
    reminders_sent: fold.reminders_sent,
    ...(state?.reminders_skipped ? { reminders_skipped: state.reminders_skipped } : {}),
    ...(state?.outbox ? { outbox: state.outbox } : {}),
    ...(state?.told ? { told: state.told } : {}),
    ...(state?.filed ? { filed: state.filed } : {}),
    // A new patient_phone from the EHR is a number Twilio has not refused yet.
    ...(state?.undeliverable && state.undeliverable.phone === facts.patient_phone ? { undeliverable: state.undeliverable } : {}),
    log: compacted.log,
    ...(compacted.checkpoint ? { checkpoint: compacted.checkpoint } : {}),
    recent_event_ids: remember(state?.recent_event_ids ?? [], event.event_id),
    revision: (state?.revision ?? 0) + 1,
    created_at: state?.created_at ?? now,
    updated_at: now,
  });
  const late = isEhrEventType(event.event_type) && !newest;
  return { kind: 'applied', state: next, ...(late ? { late } : {}) };
}

function withDisposition(s: Omit<AppointmentState, 'disposition'>): AppointmentState {
  return { ...s, disposition: s.opted_out ? 'OPTED-OUT' : s.status };
}

/**
 * Applies one event to an appointment's state. Pure: the caller supplies the clock reading `now`.
 * The state is derived from the appointment's event log sorted by (`event_datetime_utc`, event
 * id), so EHR events may arrive in any order: the result is the same. Patient and system events
 * are ours; whether one is accepted is decided against the state as it is when it arrives.
 */
export function applyEvent(state: AppointmentState | null, event: AppointmentEvent, now: string): Outcome {
  if (
    state &&
    (state.ehr_event_id === event.event_id ||
      state.recent_event_ids.includes(event.event_id) ||
      state.log?.some((e) => e.id === event.event_id))
  ) {
    return { kind: 'duplicate', state };
  }
  if (isEhrEventType(event.event_type)) return refold(state, event, now);
  if (!state) return { kind: 'ignored', reason: 'unknown-appointment', state: null };

  switch (event.event_type) {
    case 'CONFIRM':
    case 'CANCEL':
    case 'RESCHEDULE':
      if (!isActive(state.status)) return { kind: 'ignored', reason: 'not-active', state };
      return refold(state, event, now);
    case 'OPTED-OUT':
    case 'OPTED-IN':
      return refold(state, event, now);
    case 'REMIND': {
      const n = Number(event.detail?.reminder ?? '0');
      const version = Number(event.detail?.schedule_version ?? String(state.schedule_version));
      if (version !== state.schedule_version) return { kind: 'ignored', reason: 'outdated-schedule', state };
      if (state.opted_out) return { kind: 'ignored', reason: 'opted-out', state };
      if (state.patient_request) return { kind: 'ignored', reason: 'patient-requested', state };
      if (!isRemindable(state.status)) return { kind: 'ignored', reason: 'not-active', state };
      if (state.reminders_sent.some((r) => r.n === n)) return { kind: 'ignored', reason: 'already-reminded', state };
      return refold(state, event, now);
    }
    case 'EXPIRED': {
      if (event.event_datetime_utc < state.facts.appointment_datetime_utc) {
        return { kind: 'ignored', reason: 'not-yet-due', state };
      }
      // Confirmed, canceled and no-show appointments keep the outcome the EHR gave them.
      if (!isRemindable(state.status)) return { kind: 'ignored', reason: 'not-active', state };
      return refold(state, event, now);
    }
  }
  return { kind: 'ignored', reason: 'not-active', state };
}

/** Whether reminders may still go out for this appointment (policy details live in reminders). */
export function wantsReminders(state: AppointmentState): boolean {
  return !state.opted_out && !state.undeliverable && !state.patient_request && isRemindable(state.status);
}

/** Error codes with which Twilio says the number itself cannot receive texts (not a passing fault). */
export const UNDELIVERABLE_ERROR_CODES = ['30003', '30005', '30006'] as const;

/**
 * Records that Twilio could not deliver to the appointment's phone for good. Null when nothing
 * changes: the state's phone is another one (the EHR sent a new number since), or it is recorded.
 */
export function markUndeliverable(state: AppointmentState, u: Undeliverable, nowIso: string): AppointmentState | null {
  if (state.facts.patient_phone !== u.phone || state.undeliverable?.phone === u.phone) return null;
  return { ...state, undeliverable: u, revision: state.revision + 1, updated_at: nowIso };
}
