import { randomUUID } from 'node:crypto';
import type { AppointmentState, ReminderSkip } from '../domain/appointment';
import { withEventId, type AppointmentEvent } from '../domain/event';
import { recordSkips, type ReminderPolicy } from '../domain/reminder-plan';
import type { Fact } from '../domain/filing';
import type { EhrNotifier } from '../ehr/notifier';
import type { FlowStarter } from '../messaging/flow-starter';
import type { ReminderClaims, RetryOutbox, SweepHeartbeat } from '../storage/appointment-store';
import type { RecordDeps, RecordStore } from './record-event';
import { countFacts } from './count-figures';
import { RateLimiter } from './sweep-rate-limiter';
import { updateState } from './update-state';

/** What one sweep run needs and shares between its parts: dependencies, counters, the rate limiter. */

/** The sweep records events (REMIND, EXPIRED), and keeps the claims, the legacy outbox and its heartbeat. */
export type SweepStore = RecordStore & ReminderClaims & RetryOutbox & SweepHeartbeat;

export interface SweepDeps {
  store: SweepStore;
  flows: FlowStarter;
  notifier?: EhrNotifier;
  policy: ReminderPolicy;
  now: () => Date;
  /** Flow starts per second (Studio accepts 20 new REST executions per second per account). */
  ratePerSecond?: number;
  concurrency?: number;
  /** How long a claim protects a reminder that is being sent before another sweep may take over. */
  leaseMs?: number;
  /** Waits for the rate limiter and between retries of a conflicting write; the real timer by default. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Milliseconds since the epoch, for pacing flow starts, the run's duration and `deadline`; the
   * system clock by default (not `now`, which a demo or a test moves by days).
   */
  wallClock?: () => number;
  /** `wallClock` time after which no new appointment is started (Lambda timeout). */
  deadline?: number;
}

export interface SweepCounts {
  /** Index entries whose time had come. */
  due: number;
  sent: number;
  /** Looked at, but the reminder is not due yet (outside the window, daily cap): moved later. */
  deferred: number;
  skipped: number;
  expired: number;
  failed: number;
  /** Entries that no longer matched the state (rescheduled, canceled, …) and were dropped. */
  stale: number;
  /** Reminders another sweep is sending right now. */
  busy: number;
  retried_messages: number;
  retried_ehr_requests: number;
  /** Entries not looked at because the run's time was up; the next run takes them. */
  left_for_next_run: number;
}

export const emptyCounts = (): SweepCounts => ({
  due: 0,
  sent: 0,
  deferred: 0,
  skipped: 0,
  expired: 0,
  failed: 0,
  stale: 0,
  busy: 0,
  retried_messages: 0,
  retried_ehr_requests: 0,
  left_for_next_run: 0,
});

export interface SweepRunContext {
  deps: SweepDeps;
  record: RecordDeps;
  limiter: RateLimiter;
  sweepId: string;
  counts: SweepCounts;
  sleep: (ms: number) => Promise<void>;
  wallClock: () => number;
  /** The run's new dashboard facts (reminders sent…), counted together at its end: see `countRunFacts`. */
  facts: Fact[];
}

export function createRunContext(deps: SweepDeps): SweepRunContext {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const wallClock = deps.wallClock ?? Date.now;
  const facts: Fact[] = [];
  return {
    facts,
    deps,
    record: { store: deps.store, policy: deps.policy, now: deps.now, sleep, countLater: (f) => facts.push(...f) },
    limiter: new RateLimiter(deps.ratePerSecond ?? 20, sleep, wallClock),
    sweepId: randomUUID(),
    counts: emptyCounts(),
    sleep,
    wallClock,
  };
}

/**
 * Counts the run's facts: one marker each (a fact counts once) and one compare-and-set per day,
 * instead of a read and a write of the day's counter per reminder. A failure costs the dashboard
 * those counts (logged), never a reminder.
 */
export async function countRunFacts(ctx: SweepRunContext): Promise<void> {
  await countFacts(ctx.deps.store, ctx.facts.splice(0));
}

/** The REMIND or EXPIRED event the sweep records; its id derives from the facts and `atIso`, so a retry repeats it. */
export function systemEvent(
  state: AppointmentState,
  type: 'REMIND' | 'EXPIRED',
  atIso: string,
  detail: Record<string, string>,
): AppointmentEvent {
  return withEventId({ ...state.facts, event_type: type, event_datetime_utc: atIso, detail });
}

/** Writes skipped reminders to the state, unless the schedule changed since they were decided. */
export async function saveSkips(ctx: SweepRunContext, appointmentId: string, skips: ReminderSkip[]): Promise<void> {
  await updateState(
    ctx.deps.store,
    appointmentId,
    (s) => {
      if (skips.some((k) => k.schedule_version !== s.schedule_version)) return null;
      const next = recordSkips(s, skips, ctx.deps.now().toISOString());
      return next === s ? null : next;
    },
    ctx.deps,
  );
}
