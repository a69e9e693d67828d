import type { AppointmentState, ReminderSkip } from './appointment';
import { DEFAULT_REMINDER_POLICY as DEFAULTS } from './reminder-defaults';
import { parseAppointmentZone } from './time';
import { firstInWindow, inWindow, nextOpening, windowOf, type OutreachWindow } from './reminder-window';

/**
 * The reminder policy: when each reminder goes out, which ones are skipped and why, and when an
 * appointment expires. Pure: every function takes the clock reading as an argument.
 *
 * Choices made where the product rules leave room (docs in the report / README):
 * - Lead times are elapsed time (4800 = 48 real hours), so across a DST change the reminder keeps
 *   its distance to the appointment; the outreach window is what is applied in local wall time.
 * - A lead of 0 turns that reminder off (documented for the second; the first behaves the same).
 *   A second reminder whose lead is not shorter than the first's would arrive before it and is
 *   skipped as `second-not-after-first`.
 * - The window is [start, finish) in local wall time; start > finish wraps past midnight and
 *   start = finish means no outreach at all.
 * - The minimum gap spaces reminders from the last text about the appointment (an event's text,
 *   one waiting in the outbox, or an earlier reminder): a booking made inside the first lead time
 *   does not get a reminder minutes after its booking text. Event texts are not held back by it:
 *   they tell the patient about a change and go out at once.
 * - A number Twilio reported as unable to receive texts (landline, unreachable) gets no reminders
 *   until the EHR sends another number for the appointment.
 */

/** Lead times and outreach window in minutes (the seed's HHMM variables, converted). */
export interface ReminderPolicy {
  firstLeadMinutes: number;
  /** 0 turns the second reminder off. */
  secondLeadMinutes: number;
  outreachStartMinutes: number;
  outreachFinishMinutes: number;
  /** Most reminders one patient may get on one local day; the reference app promises 2. */
  maxRemindersPerLocalDay?: number;
  /** Least time between the last text about the appointment and a reminder; absent or 0: no gap. */
  minGapMinutes?: number;
}

/** The defaults, written once in reminder-defaults.ts (the config's HHMM variables derive from them). */
export const DEFAULT_REMINDER_POLICY: Required<ReminderPolicy> = DEFAULTS;

export type ReminderNumber = 1 | 2;

export type SkipReason =
  /** The lead time had passed when we learned of the booking, and a later reminder still follows. */
  | 'lead-time-passed-at-booking'
  /** A later reminder was sent or is the one chosen to go out instead. */
  | 'superseded'
  /** Outside the window, and the window opens only after the appointment. */
  | 'window-opens-after-appointment'
  /** Outside the window, and the window opens only once the next reminder is due. */
  | 'window-opens-after-next-reminder'
  /** The outreach window is empty (start = finish). */
  | 'no-outreach-window'
  /** The sweep did not get to it before the next reminder or the appointment (e.g. an outage). */
  | 'missed'
  /** The patient already had the day's maximum and the next day is too late. */
  | 'daily-cap'
  /** The minimum gap after the last text ends only once the next reminder or the appointment is due. */
  | 'min-gap'
  | 'invalid-time-zone'
  | 'second-not-after-first';

/** Why no reminder will go out any more for this appointment version. */
export type StopReason =
  | 'confirmed'
  | 'canceled'
  | 'no-show'
  | 'expired'
  | 'opted-out'
  /** Twilio reported the patient's number cannot receive texts (e.g. a landline). */
  | 'undeliverable'
  | 'patient-requested'
  | 'appointment-passed'
  | 'invalid-appointment-time';

export type NextStep =
  | {
      kind: 'remind';
      n: ReminderNumber;
      /** When it goes out: the lead-time instant, or a later window opening. May be in the past (overdue). */
      at: string;
      /** The instant it would have gone out without the outreach window. */
      deferred_from?: string;
      reason?: DeferReason;
    }
  | { kind: 'expire'; at: string };

/** Why a pending reminder goes out later than its lead time. */
export type DeferReason = 'outside-outreach-window' | 'late-booking' | 'min-gap';

export interface ReminderSlot {
  n: ReminderNumber;
  /** Appointment time minus the lead time. */
  due_at: string;
  status: 'sent' | 'skipped' | 'pending';
  /** Sent: when. Pending: when it will go out. */
  at?: string;
  deferred_from?: string;
  reason?: SkipReason | DeferReason;
  /** For skips: whether the state already records it. */
  recorded?: boolean;
}

export interface SkipNotice {
  n: ReminderNumber;
  reason: SkipReason;
  /** False for a skip the plan derived that the sweep has not yet written to the state. */
  recorded: boolean;
}

export interface ReminderPlan {
  schedule_version: number;
  appointment_at: string;
  stopped?: StopReason;
  reminders: ReminderSlot[];
  next?: NextStep;
  skipped: SkipNotice[];
}

const MINUTE = 60_000;

const iso = (ms: number) => new Date(ms).toISOString();

/** Why a status ends the reminders; null for the statuses that still get them. */
const STOPPED_BY_STATUS: Record<AppointmentState['status'], StopReason | null> = {
  QUEUED: null,
  'REMINDED-1': null,
  'REMINDED-2': null,
  CONFIRMED: 'confirmed',
  CANCELED: 'canceled',
  NOSHOWED: 'no-show',
  EXPIRED: 'expired',
};

export interface Slot extends ReminderSlot {
  /** Pending only: the reminder must go out before this instant (next reminder or appointment). */
  deadline?: number;
  atMs?: number;
}

/** The plan with what the sweep decision needs beyond the public view. */
export interface Plan {
  public: ReminderPlan;
  slots: Slot[];
  window?: OutreachWindow;
}

function anchorOf(state: AppointmentState): number | undefined {
  const since = state.schedule_since ?? (state.schedule_version === 1 ? state.created_at : undefined);
  const ms = since === undefined ? NaN : Date.parse(since);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * When the minimum gap after the last text about the appointment ends: the last event text
 * (`told`), a text waiting in or claimed from the outbox, and the reminders of this schedule.
 */
function gapEndsAt(state: AppointmentState, policy: ReminderPolicy): number | undefined {
  const gap = policy.minGapMinutes ?? 0;
  if (gap <= 0) return undefined;
  const times = [
    state.told?.at,
    state.outbox?.sending?.created_at,
    state.outbox?.pending?.created_at,
    ...state.reminders_sent.map((r) => r.at),
  ]
    .map((t) => (t === undefined ? NaN : Date.parse(t)))
    .filter((t) => !Number.isNaN(t));
  return times.length > 0 ? Math.max(...times) + gap * MINUTE : undefined;
}

function configured(policy: ReminderPolicy): { n: ReminderNumber; lead: number }[] {
  const out: { n: ReminderNumber; lead: number }[] = [];
  if (policy.firstLeadMinutes > 0) out.push({ n: 1, lead: policy.firstLeadMinutes });
  if (policy.secondLeadMinutes > 0) out.push({ n: 2, lead: policy.secondLeadMinutes });
  return out;
}

export function buildPlan(state: AppointmentState, policy: ReminderPolicy, nowIso: string): Plan {
  const now = Date.parse(nowIso);
  const appt = Date.parse(state.facts.appointment_datetime_utc);
  const version = state.schedule_version;
  const sentAt = new Map(state.reminders_sent.map((r) => [r.n, r.at]));
  const recorded = new Map((state.reminders_skipped ?? []).filter((s) => s.schedule_version === version).map((s) => [s.n, s.reason]));
  const plan: ReminderPlan = {
    schedule_version: version,
    appointment_at: Number.isNaN(appt) ? state.facts.appointment_datetime_utc : iso(appt),
    reminders: [],
    skipped: [],
  };
  const slots: Slot[] = [];
  const finish = (stopped: StopReason | undefined, next: NextStep | undefined, window?: OutreachWindow): Plan => {
    plan.reminders = slots.map(({ deadline: _d, atMs: _a, ...slot }) => slot);
    plan.skipped = slots
      .filter((s) => s.status === 'skipped')
      .map((s) => ({ n: s.n, reason: s.reason as SkipReason, recorded: s.recorded ?? false }));
    if (stopped) plan.stopped = stopped;
    if (next) plan.next = next;
    return { public: plan, slots, ...(window ? { window } : {}) };
  };

  const leads = configured(policy);
  const dueOf = (lead: number) => appt - lead * MINUTE;
  // What already happened is reported even when the appointment no longer wants reminders.
  for (const { n, lead } of leads) {
    const sent = sentAt.get(n);
    const skipped = recorded.get(n);
    const due_at = Number.isNaN(appt) ? '' : iso(dueOf(lead));
    if (sent !== undefined) slots.push({ n, due_at, status: 'sent', at: sent });
    else if (skipped !== undefined) slots.push({ n, due_at, status: 'skipped', reason: skipped as SkipReason, recorded: true });
  }

  if (Number.isNaN(appt)) return finish('invalid-appointment-time', undefined);
  const byStatus = STOPPED_BY_STATUS[state.status];
  if (byStatus) return finish(byStatus, undefined);
  const expire: NextStep = { kind: 'expire', at: iso(appt) };
  if (now >= appt) return finish('appointment-passed', expire);
  if (state.opted_out) return finish('opted-out', expire);
  if (state.undeliverable) return finish('undeliverable', expire);
  if (state.patient_request) return finish('patient-requested', expire);

  const zone = parseAppointmentZone(state.facts.appointment_timezone);
  const open = leads.filter((l) => !sentAt.has(l.n) && !recorded.has(l.n));
  const skip = (n: ReminderNumber, lead: number, reason: SkipReason) =>
    slots.push({ n, due_at: iso(dueOf(lead)), status: 'skipped', reason, recorded: false });
  if (!zone.ok) {
    for (const { n, lead } of open) skip(n, lead, 'invalid-time-zone');
    return finish(undefined, expire);
  }
  const window = windowOf(policy, zone.value.zone);

  // The reminders that really run, in time order; a misordered second one is reported, not sent.
  const first = leads.find((l) => l.n === 1);
  const active = leads.filter((l) => !(l.n === 2 && first && l.lead >= first.lead));
  if (active.length < leads.length && open.some((l) => l.n === 2)) skip(2, leads[1]?.lead ?? 0, 'second-not-after-first');

  const anchor = anchorOf(state);
  const gapEnds = gapEndsAt(state, policy);
  const latestSent = Math.max(0, ...state.reminders_sent.map((r) => r.n));
  for (const { n, lead } of active.filter((l) => open.includes(l))) {
    const due = dueOf(lead);
    const later = active.find((l) => l.n > n);
    if (latestSent > n) {
      skip(n, lead, 'superseded');
      continue;
    }
    // A reminder whose moment had passed before we knew of this schedule is a late booking:
    // only the last reminder is caught up, and only if no later reminder is still to come.
    const late = anchor !== undefined && due < anchor;
    if (late && later) {
      skip(n, lead, dueOf(later.lead) >= anchor ? 'lead-time-passed-at-booking' : 'superseded');
      continue;
    }
    const leadBase = late ? anchor : due;
    const gapped = gapEnds !== undefined && gapEnds > leadBase;
    const base = gapped ? gapEnds : leadBase;
    const deadline = later ? Math.min(appt, dueOf(later.lead)) : appt;
    const tooLate: SkipReason =
      gapped && base >= deadline
        ? 'min-gap'
        : later && dueOf(later.lead) < appt
          ? 'window-opens-after-next-reminder'
          : 'window-opens-after-appointment';
    if (now >= deadline) {
      skip(n, lead, 'missed');
      continue;
    }
    const planned = firstInWindow(base, window);
    if (planned === undefined) {
      skip(n, lead, 'no-outreach-window');
      continue;
    }
    // A sweep that runs after the window closed (late or after an outage) waits for the next opening.
    const at = planned < now && !inWindow(now, window) ? nextOpening(now, window) : planned;
    if (at === undefined || at >= deadline) {
      skip(n, lead, tooLate);
      continue;
    }
    const deferred = at > leadBase;
    const reason: DeferReason | undefined = gapped ? 'min-gap' : late ? 'late-booking' : deferred ? 'outside-outreach-window' : undefined;
    slots.push({
      n,
      due_at: iso(due),
      status: 'pending',
      at: iso(at),
      ...(deferred ? { deferred_from: iso(leadBase) } : {}),
      ...(reason ? { reason } : {}),
      deadline,
      atMs: at,
    });
  }
  slots.sort((a, b) => a.n - b.n);

  const pending = slots.find((s) => s.status === 'pending');
  const next: NextStep = pending
    ? {
        kind: 'remind',
        n: pending.n,
        at: pending.at as string,
        ...(pending.deferred_from ? { deferred_from: pending.deferred_from } : {}),
        ...(pending.reason ? { reason: pending.reason as DeferReason } : {}),
      }
    : expire;
  return finish(undefined, next, window);
}

/**
 * Plans the reminders of the appointment's current schedule_version as seen at `nowIso`: each
 * configured reminder's fate (sent, skipped with a reason, pending at a time) and the next step.
 */
export function planReminders(state: AppointmentState, policy: ReminderPolicy, nowIso: string): ReminderPlan {
  return buildPlan(state, policy, nowIso).public;
}

/**
 * The earliest time the sweep must look at the appointment: the planned (possibly deferred)
 * reminder time, or the appointment time to expire it; never earlier than `nowIso`. Undefined
 * when nothing is left to do.
 */
export function nextCheckAt(state: AppointmentState, policy: ReminderPolicy, nowIso: string): string | undefined {
  const next = planReminders(state, policy, nowIso).next;
  if (!next) return undefined;
  return Date.parse(next.at) > Date.parse(nowIso) ? next.at : iso(Date.parse(nowIso));
}

/**
 * The state with skips written down (once per reminder and schedule_version), so later plans and
 * the admin page see them and nextCheckAt stops pointing at a reminder that will not go out.
 */
export function recordSkips(state: AppointmentState, skips: ReminderSkip[], nowIso: string): AppointmentState {
  const existing = state.reminders_skipped ?? [];
  const fresh = skips.filter((s) => !existing.some((e) => e.n === s.n && e.schedule_version === s.schedule_version));
  if (fresh.length === 0) return state;
  return {
    ...state,
    reminders_skipped: [...existing, ...fresh],
    revision: state.revision + 1,
    updated_at: nowIso,
  };
}
