import { z } from 'zod';
import { EHR_EVENT_TYPES, EVENT_TYPES, PATIENT_REQUEST_TYPES, isEhrEventType, type EhrEventType } from './event';
import { BASE_STATUSES, isActive, isClosed, isRemindable } from './statuses';

/**
 * The compact event log kept inside an appointment's state document, and the fold that derives the
 * state from it. The state is a function of the *set* of events: entries are kept sorted by
 * (`at`, `id`) and the state is re-derived from the log whenever an event is inserted, so an EHR
 * event that arrives late lands where it belongs instead of being dropped.
 *
 * Only what the fold needs is logged (no patient data): the facts shown to the patient are those of
 * the newest EHR event, which the state document keeps next to the log.
 */

export const BaseStatus = z.enum(BASE_STATUSES);
export type BaseStatus = z.infer<typeof BaseStatus>;

/**
 * The patient's latest request, forwarded to the EHR; the EHR answers with CONFIRMED/CANCELED, or
 * for RESCHEDULE with RESCHEDULED/MODIFIED (a new time re-plans and clears it).
 */
export const PatientRequest = z.object({ type: z.enum(PATIENT_REQUEST_TYPES), at: z.string(), event_id: z.string() });

export const LogEntry = z.object({
  id: z.string(),
  type: z.enum(EVENT_TYPES),
  /** `event_datetime_utc`: EHR time for EHR events, our clock for patient and system events. */
  at: z.string(),
  /** EHR events: the appointment time they carry (a change re-plans the reminders). */
  appt_at: z.string().optional(),
  /** REMIND: which reminder, and the schedule it was sent for. */
  n: z.number().int().optional(),
  schedule: z.string().optional(),
  /** What became of the text this EHR event warranted (sent, superseded, refused: why). */
  text: z.string().optional(),
  /** When the text went out (text `sent`), and which text it was: what the dashboard counts. */
  text_at: z.string().optional(),
  text_kind: z.string().optional(),
});
export type LogEntry = z.infer<typeof LogEntry>;

/** What the fold carries from one entry to the next. */
export const FoldState = z.object({
  status: BaseStatus.optional(),
  appt_at: z.string().optional(),
  /** Id of the event that began the current reminder schedule (booking, new time, revival). */
  schedule: z.string().optional(),
  reminders_sent: z.array(z.object({ n: z.number().int(), at: z.string() })),
  patient_request: PatientRequest.optional(),
  opted_out: z.boolean(),
  last_ehr: z.object({ type: z.enum(EHR_EVENT_TYPES), at: z.string(), id: z.string() }).optional(),
});
export type FoldState = z.infer<typeof FoldState>;

/** Entries folded away to keep the document small: their result and the last position they covered. */
export const Checkpoint = z.object({ fold: FoldState, at: z.string(), id: z.string() });
export type Checkpoint = z.infer<typeof Checkpoint>;

export const EMPTY_FOLD: FoldState = { reminders_sent: [], opted_out: false };

/** At most this many entries stay in the log; older ones are folded into the checkpoint. */
export const MAX_LOG_ENTRIES = 100;

export function compareEntries(a: { at: string; id: string }, b: { at: string; id: string }): number {
  if (a.at !== b.at) return a.at < b.at ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Whether an EHR event of the type starts a new reminder schedule even when the time did not change. */
const ALWAYS_REPLANS = {
  BOOKED: false,
  RESCHEDULED: true,
  MODIFIED: false,
  CONFIRMED: false,
  CANCELED: false,
  NOSHOWED: false,
} as const satisfies Record<EhrEventType, boolean>;

/** The status an EHR event implies, given the one before (undefined when it is the first). */
export function statusAfterEhrEvent(type: EhrEventType, previous: BaseStatus | undefined, timeChanged: boolean): BaseStatus {
  switch (type) {
    case 'BOOKED':
      // A repeated booking of an appointment that is still on keeps its reminder progress.
      return previous && !timeChanged && isActive(previous) ? previous : 'QUEUED';
    case 'RESCHEDULED':
      return 'QUEUED';
    case 'MODIFIED':
      if (previous === undefined) return 'QUEUED';
      if (timeChanged && (isRemindable(previous) || previous === 'EXPIRED')) return 'QUEUED';
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
 * One step of the fold. Patient and system entries are in the log only because they were accepted
 * when they arrived, so here they only need to find their place: a reminder counts for the schedule
 * it was sent for, a request is cleared by a later re-plan, an expiry holds only past the time.
 */
export function foldStep(s: FoldState, e: LogEntry): FoldState {
  if (isEhrEventType(e.type)) {
    const timeChanged = s.appt_at !== undefined && e.appt_at !== s.appt_at;
    const status = statusAfterEhrEvent(e.type, s.status, timeChanged);
    const revived = status === 'QUEUED' && s.status !== undefined && isClosed(s.status);
    const replan = s.status === undefined || timeChanged || ALWAYS_REPLANS[e.type] || revived;
    return {
      ...s,
      status,
      appt_at: e.appt_at,
      schedule: replan ? e.id : s.schedule,
      reminders_sent: replan ? [] : s.reminders_sent,
      patient_request: replan ? undefined : s.patient_request,
      last_ehr: { type: e.type, at: e.at, id: e.id },
    };
  }
  switch (e.type) {
    case 'CONFIRM':
    case 'CANCEL':
    case 'RESCHEDULE':
      if (s.status !== undefined && !isActive(s.status)) return s;
      return { ...s, patient_request: { type: e.type, at: e.at, event_id: e.id } };
    case 'OPTED-OUT':
      return { ...s, opted_out: true };
    case 'OPTED-IN':
      return { ...s, opted_out: false };
    case 'REMIND': {
      if (e.schedule !== s.schedule || e.n === undefined) return s;
      const n = e.n;
      const reminders = s.reminders_sent.some((r) => r.n === n) ? s.reminders_sent : [...s.reminders_sent, { n, at: e.at }];
      const status =
        s.status && isRemindable(s.status) ? (n >= 2 ? 'REMINDED-2' : s.status === 'REMINDED-2' ? s.status : 'REMINDED-1') : s.status;
      return { ...s, status, reminders_sent: reminders };
    }
    case 'EXPIRED':
      if (!s.status || !isRemindable(s.status) || !s.appt_at || e.at < s.appt_at) return s;
      return { ...s, status: 'EXPIRED' };
  }
  return s;
}

export function foldLog(start: FoldState, entries: readonly LogEntry[]): FoldState {
  return entries.reduce(foldStep, start);
}

/** Inserts an entry at its place; `undefined` when it is already there or older than the checkpoint. */
export function insertEntry(
  log: readonly LogEntry[],
  entry: LogEntry,
  checkpoint: Checkpoint | undefined,
): { log: LogEntry[]; index: number } | undefined {
  if (log.some((x) => x.id === entry.id)) return undefined;
  if (checkpoint && compareEntries(entry, checkpoint) <= 0) return undefined;
  let index = log.length;
  while (index > 0 && compareEntries(log[index - 1] as LogEntry, entry) > 0) index -= 1;
  return { log: [...log.slice(0, index), entry, ...log.slice(index)], index };
}

/** Keeps the log within MAX_LOG_ENTRIES by folding its oldest entries into the checkpoint. */
export function compactLog(
  log: LogEntry[],
  checkpoint: Checkpoint | undefined,
  max = MAX_LOG_ENTRIES,
): { log: LogEntry[]; checkpoint: Checkpoint | undefined } {
  if (log.length <= max) return { log, checkpoint };
  const drop = log.slice(0, log.length - max);
  const last = drop[drop.length - 1] as LogEntry;
  return {
    log: log.slice(drop.length),
    checkpoint: { fold: foldLog(checkpoint?.fold ?? EMPTY_FOLD, drop), at: last.at, id: last.id },
  };
}
