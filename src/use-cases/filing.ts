import type { AppointmentState } from '../domain/appointment';
import { factsOf, filingChanges, filingOf, NOTHING_FILED, type DueFiling, type Fact, type Filed } from '../domain/filing';
import { outboxDueAt } from '../domain/notice';
import { nextCheckAt, type ReminderPolicy } from '../domain/reminder-plan';
import type { AppointmentListing, ChangeLog, DailyFigures, DueIndex, PhoneDirectory } from '../storage/appointment-store';
import { countFacts } from './count-figures';

/**
 * Keeping the derived indexes (admin listing, due index, phone directory, dashboard counters) in
 * step with a state (src/domain/filing.ts). A writer either files its change as it writes (entries
 * before the state, replaced ones dropped and facts counted after), or, on the intake's path,
 * defers it: the state keeps its record of what was filed, a change marker announces it, and the
 * filer (file-changes.ts) does the rest later. Either way the state says what the indexes hold.
 */

export type FilingStore = AppointmentListing & DueIndex & PhoneDirectory & DailyFigures & ChangeLog;

export interface FilingDeps {
  policy: ReminderPolicy;
  now: () => Date;
  /** Leave the indexes to the filer (the intake's path: fewer requests while the EHR waits). */
  defer?: boolean;
  /** Collects new facts to count in one batch later (the sweep and the filer count a run's facts at its end). */
  countLater?: (facts: Fact[]) => void;
}

/** When the sweep must next look at the appointment: a reminder, or a text that is overdue. */
export function dueAt(state: AppointmentState, policy: ReminderPolicy, nowIso: string): string | undefined {
  const times = [nextCheckAt(state, policy, nowIso), outboxDueAt(state.outbox)].filter((t): t is string => !!t);
  return times.sort()[0];
}

export function dueFilingOf(state: AppointmentState, policy: ReminderPolicy, nowIso: string): DueFiling | undefined {
  const at = dueAt(state, policy, nowIso);
  return at ? { at, schedule_version: state.schedule_version } : undefined;
}

/**
 * What the indexes hold for `current`: its record, or, for a state written before states kept one,
 * the state itself (it was filed as it was written). Null when there is no state.
 */
export function filedFor(current: AppointmentState | null | undefined, policy: ReminderPolicy, nowIso: string): Filed | null {
  if (!current) return null;
  return current.filed ?? filingOf(current, dueFilingOf(current, policy, nowIso));
}

/**
 * Whether `next` begins a dispatcher's hold on a text (a waiting text claimed, or one taken over
 * from a dispatcher that died): the filer leaves a state alone while a text is held, so a deferring
 * writer that starts a hold announces it with a marker of its own, filed once the hold ends.
 */
export function beginsHold(current: AppointmentState | null | undefined, next: AppointmentState): boolean {
  const held = next.outbox?.sending;
  return !!held && held.owner !== current?.outbox?.sending?.owner;
}

/** `next` as a deferring writer stores it: the indexes still hold what they held for `current`. */
export function deferredFiling(next: AppointmentState, current: AppointmentState | null | undefined, filing: FilingDeps): AppointmentState {
  return { ...next, filed: filedFor(current, filing.policy, filing.now().toISOString()) ?? NOTHING_FILED };
}

export interface FilingPlan {
  /** The state to write: `next` with its record of what the indexes hold. */
  state: AppointmentState;
  /** Entries the state needs, written before it. */
  before: () => Promise<void>;
  /** Entries it replaced dropped, and its new facts counted, once it is written. */
  after: () => Promise<void>;
}

/** How to bring the indexes from `filed` (what they hold) up to `next`. */
export function planFiling(
  store: FilingStore,
  filed: Filed | null,
  next: AppointmentState,
  filing: FilingDeps,
  options: { phoneWritten?: boolean; keepDue?: boolean } = {},
): FilingPlan {
  const nowIso = filing.now().toISOString();
  // keepDue: the caller (the sweep, a dispatcher) moves the due entry itself, or the one there
  // (earlier than needed) is moved by the sweep when it comes: the record keeps saying what is there.
  const due = options.keepDue ? filed?.due : dueFilingOf(next, filing.policy, nowIso);
  const facts = factsOf(next);
  const after = filingOf(next, due, facts);
  const changes = filingChanges(filed, after, facts);
  const id = next.facts.appointment_id;
  const listed = after.listed;
  return {
    state: { ...next, filed: after },
    before: async () => {
      await Promise.all([
        changes.phone && !options.phoneWritten ? store.putPhoneIndex(next.facts.patient_phone, id) : undefined,
        changes.due && due ? store.putDueEntry({ appointment_id: id, due_at: due.at, schedule_version: due.schedule_version }) : undefined,
        listed ? store.putListing(listed, filed?.listed) : undefined,
      ]);
    },
    after: async () => {
      await Promise.all([
        filed?.listed && listed ? store.dropListing(filed.listed, listed) : undefined,
        filing.countLater ? filing.countLater(changes.uncounted) : countFacts(store, changes.uncounted, id),
      ]);
    },
  };
}
