import type { AppointmentState, ReminderSkip } from './appointment';
import {
  buildPlan,
  DEFAULT_REMINDER_POLICY,
  nextCheckAt,
  recordSkips,
  type DeferReason,
  type ReminderNumber,
  type ReminderPolicy,
  type StopReason,
} from './reminder-plan';
import { firstInWindow, startOfNextLocalDay } from './reminder-window';

/**
 * What the sweep does now for one appointment: send, wait, skip, expire or drop it, from the
 * reminder plan and the patient's reminders of the day (the daily cap). Pure.
 */

const iso = (ms: number) => new Date(ms).toISOString();

export interface SweepContext {
  /**
   * Reminders this patient already got on the local day of `nowIso` (the appointment's zone; see
   * reminderLocalDay), across all their appointments.
   */
  remindersSentToday: number;
}

export type SweepDecision =
  | {
      action: 'send';
      n: ReminderNumber;
      schedule_version: number;
      deferred_from?: string;
      reason?: DeferReason;
      /** Skips to write to the state along with the send. */
      record: ReminderSkip[];
      /** When to look again once the send is recorded. */
      next_check_at?: string;
    }
  | { action: 'expire'; record: ReminderSkip[] }
  | { action: 'skip'; record: ReminderSkip[]; next_check_at?: string }
  | { action: 'wait'; reason: 'not-yet-due' | 'daily-cap'; next_check_at: string; record: ReminderSkip[] }
  | { action: 'none'; reason: StopReason; record: ReminderSkip[] };

/**
 * What the sweep must do for this appointment now. `skip` and `wait` carry `next_check_at`,
 * which the sweep should use for the due index (a daily-cap wait is not visible to nextCheckAt).
 * `none` means nothing is left to do: drop the index entry.
 */
export function decide(state: AppointmentState, policy: ReminderPolicy, nowIso: string, context: SweepContext): SweepDecision {
  const now = Date.parse(nowIso);
  const plan = buildPlan(state, policy, nowIso);
  const { next, stopped } = plan.public;
  const record: ReminderSkip[] = plan.public.skipped
    .filter((s) => !s.recorded)
    .map((s) => ({ n: s.n, reason: s.reason, at: iso(now), schedule_version: state.schedule_version }));
  const waitOrSkip = (until: string | undefined, reason: 'not-yet-due' | 'daily-cap'): SweepDecision => {
    if (record.length > 0) return { action: 'skip', record, ...(until ? { next_check_at: until } : {}) };
    if (until) return { action: 'wait', reason, next_check_at: until, record };
    return { action: 'none', reason: stopped ?? 'expired', record };
  };

  if (!next) return record.length > 0 ? { action: 'skip', record } : { action: 'none', reason: stopped ?? 'expired', record };
  if (next.kind === 'expire') return now >= Date.parse(next.at) ? { action: 'expire', record } : waitOrSkip(next.at, 'not-yet-due');
  if (now < Date.parse(next.at)) return waitOrSkip(next.at, 'not-yet-due');

  const slot = plan.slots.find((s) => s.status === 'pending' && s.n === next.n);
  const cap = policy.maxRemindersPerLocalDay ?? DEFAULT_REMINDER_POLICY.maxRemindersPerLocalDay;
  if (context.remindersSentToday >= cap && plan.window && slot?.deadline !== undefined) {
    const tomorrow = firstInWindow(startOfNextLocalDay(now, plan.window.zone), plan.window);
    if (tomorrow !== undefined && tomorrow < slot.deadline) return waitOrSkip(iso(tomorrow), 'daily-cap');
    const capped = [...record, { n: next.n, reason: 'daily-cap', at: iso(now), schedule_version: state.schedule_version }];
    const after = nextCheckAt(recordSkips(state, capped, nowIso), policy, nowIso);
    return { action: 'skip', record: capped, ...(after ? { next_check_at: after } : {}) };
  }

  const sent: AppointmentState = {
    ...recordSkips(state, record, nowIso),
    reminders_sent: [...state.reminders_sent, { n: next.n, at: iso(now) }],
  };
  const after = nextCheckAt(sent, policy, nowIso);
  return {
    action: 'send',
    n: next.n,
    schedule_version: state.schedule_version,
    ...(next.deferred_from ? { deferred_from: next.deferred_from } : {}),
    ...(next.reason ? { reason: next.reason } : {}),
    record,
    ...(after ? { next_check_at: after } : {}),
  };
}
