import { randomUUID } from 'node:crypto';
import type { AppointmentState, ReminderSkip } from '../domain/appointment';
import { isEhrEventType, withEventId, type AppointmentEvent } from '../domain/event';
import { decide, recordSkips, reminderLocalDay, type ReminderPolicy, type SweepDecision } from '../domain/reminders';
import type { EhrNotifier } from '../ehr/notifier';
import { FlowStartError, type FlowStarter } from '../messaging/flow-starter';
import { describeError, log } from '../log';
import type { DueRef, OutboxEntry, ReminderClaim, ReminderClaims, RetryOutbox, SweepHeartbeat, Versioned } from '../storage/appointment-store';
import { outboxDueAt } from '../domain/notice';
import { recordEvent, type RecordDeps, type RecordStore } from './record-event';
import { dispatchTexts, retryDelayMs } from './dispatch-texts';
import { updateState } from './update-state';

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
  sleep?: (ms: number) => Promise<void>;
  /** Wall-clock time (ms since epoch) after which no new appointment is started (Lambda timeout). */
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

/** Flow starts queued by versions before the in-state outbox (outbox/flow/); still drained. */
interface FlowOutboxPayload {
  appointment_id: string;
  event: AppointmentEvent;
}

const emptyCounts = (): SweepCounts => ({
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

/** A token bucket: at most `perSecond` takes per second, shared by all workers of one sweep. */
class RateLimiter {
  private next = 0;
  constructor(
    private readonly perSecond: number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}

  async take(): Promise<void> {
    const now = Date.now();
    const at = Math.max(now, this.next);
    this.next = at + 1000 / this.perSecond;
    if (at > now) await this.sleep(at - now);
  }
}

interface Ctx {
  deps: SweepDeps;
  record: RecordDeps;
  limiter: RateLimiter;
  sweepId: string;
  counts: SweepCounts;
  sleep: (ms: number) => Promise<void>;
}

/**
 * One run of the reminder sweep (the Lambda's work, and `npm start`'s timer). It reads only the
 * due-index buckets up to now, so its cost follows the reminders due, not the appointments
 * stored. Each reminder is claimed with a conditional write before the flow starts, so overlapping
 * or retried sweeps send it once; a claim left unfinished by a crash is resolved on a later run.
 * One bad record is logged by id and skipped.
 */
export async function runSweep(deps: SweepDeps): Promise<SweepCounts> {
  const started = Date.now();
  const ctx = context(deps);
  const nowIso = deps.now().toISOString();
  const concurrency = deps.concurrency ?? 8;

  const queue: DueRef[] = [];
  let listing = true;
  const pump = (async () => {
    for await (const entry of deps.store.listDueEntries(nowIso)) {
      if (deps.deadline !== undefined && Date.now() > deps.deadline) {
        ctx.counts.left_for_next_run += 1;
        continue;
      }
      queue.push(entry);
      while (queue.length > concurrency * 4) await ctx.sleep(5);
    }
    listing = false;
  })();
  const workers = Array.from({ length: concurrency }, async () => {
    for (;;) {
      const entry = queue.shift();
      if (entry && deps.deadline !== undefined && Date.now() > deps.deadline) {
        ctx.counts.left_for_next_run += 1;
        continue;
      }
      if (!entry) {
        if (!listing) return;
        await ctx.sleep(2);
        continue;
      }
      try {
        await processEntry(ctx, entry);
      } catch (err) {
        ctx.counts.failed += 1;
        log('error', 'sweep: appointment failed', { appointment_id: entry.appointment_id, error: describeError(err) });
      }
    }
  });
  await Promise.all([pump, ...workers]);
  if (deps.deadline === undefined || Date.now() < deps.deadline) await retryOutboxes(ctx);

  const ms = Date.now() - started;
  await deps.store.putSweepStatus({ at: nowIso, finished_at: deps.now().toISOString(), ms, sweep_id: ctx.sweepId, counts: ctx.counts });
  log('info', 'sweep finished', { ms, ...ctx.counts });
  return ctx.counts;
}

/**
 * Sends the appointment's next reminder now, through the same claim-and-start path as the sweep,
 * ignoring lead times and the outreach window (the admin page's "simulate REMIND").
 */
export async function remindNow(
  deps: SweepDeps,
  appointmentId: string,
): Promise<{ sent: boolean; n?: number; reason?: string; executionSid?: string }> {
  const ctx = context(deps);
  const current = await deps.store.getState(appointmentId);
  if (!current) return { sent: false, reason: 'unknown-appointment' };
  const state = current.value;
  if (!['QUEUED', 'REMINDED-1', 'REMINDED-2'].includes(state.status) || state.opted_out || state.patient_request) {
    return { sent: false, reason: `no reminder for ${state.disposition}${state.patient_request ? ` after a ${state.patient_request.type} request` : ''}` };
  }
  const n = state.reminders_sent.some((r) => r.n === 1) ? 2 : 1;
  if (state.reminders_sent.some((r) => r.n === n)) return { sent: false, reason: 'both reminders already sent' };
  const result = await sendReminder(ctx, state, n, undefined);
  return result.sent ? { sent: true, n, ...(result.executionSid ? { executionSid: result.executionSid } : {}) } : { sent: false, n, reason: result.reason };
}

function context(deps: SweepDeps): Ctx {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  return {
    deps,
    record: { store: deps.store, policy: deps.policy, now: deps.now, sleep },
    limiter: new RateLimiter(deps.ratePerSecond ?? 20, sleep),
    sweepId: randomUUID(),
    counts: emptyCounts(),
    sleep,
  };
}

async function processEntry(ctx: Ctx, entry: DueRef): Promise<void> {
  const { store } = ctx.deps;
  const nowIso = ctx.deps.now().toISOString();
  let current = await store.getState(entry.appointment_id);
  if (!current) {
    await store.deleteDueEntry(entry.slot, entry.appointment_id);
    ctx.counts.stale += 1;
    return;
  }
  // A text left behind (its dispatcher crashed, or Studio refused it for now) goes out first.
  const textDue = outboxDueAt(current.value.outbox);
  if (textDue && textDue <= nowIso) {
    const done = await dispatchTexts(ctx.deps, entry.appointment_id, ctx.sweepId, current);
    ctx.counts.retried_messages += done.sent;
    current = done.current;
    if (!current) return;
    const still = outboxDueAt(current.value.outbox);
    // Still waiting (retry later, or in flight elsewhere): keep an entry for when it is due.
    if (still) {
      if (store.slotOf(still) !== entry.slot) await moveEntry(ctx, entry, current.value, still);
      return;
    }
  }
  // The entry only says "look at this appointment around then"; what is due comes from the state,
  // so an entry left over from an earlier schedule is harmless: it is moved or dropped here.
  const state = current.value;
  let decision = decide(state, ctx.deps.policy, nowIso, { remindersSentToday: 0 });
  if (decision.action === 'send') {
    decision = decide(state, ctx.deps.policy, nowIso, { remindersSentToday: await remindersSentToday(ctx, state, nowIso) });
  }
  if (decision.action !== 'wait') ctx.counts.due += 1;

  switch (decision.action) {
    case 'none':
      if (decision.record.length > 0) await saveSkips(ctx, entry.appointment_id, decision.record);
      await store.deleteDueEntry(entry.slot, entry.appointment_id);
      if (decision.record.length > 0) ctx.counts.skipped += 1;
      else ctx.counts.stale += 1;
      return;
    case 'wait':
      await moveEntry(ctx, entry, state, decision.next_check_at);
      if (store.slotOf(decision.next_check_at) !== entry.slot) ctx.counts.deferred += 1;
      return;
    case 'skip':
      await saveSkips(ctx, entry.appointment_id, decision.record);
      await moveEntry(ctx, entry, state, decision.next_check_at);
      ctx.counts.skipped += 1;
      return;
    case 'expire': {
      if (decision.record.length > 0) await saveSkips(ctx, entry.appointment_id, decision.record);
      const expired = await recordEvent(ctx.record, systemEvent(state, 'EXPIRED', nowIso, {}), decision.record.length > 0 ? undefined : current);
      await store.deleteDueEntry(entry.slot, entry.appointment_id);
      if (expired.outcome === 'applied') ctx.counts.expired += 1;
      else ctx.counts.stale += 1;
      return;
    }
    case 'send':
      await sendDue(ctx, entry, current, decision);
      return;
  }
}

async function sendDue(ctx: Ctx, entry: DueRef, current: Versioned<AppointmentState>, decision: Extract<SweepDecision, { action: 'send' }>) {
  const state = current.value;
  const skipsFirst = decision.record.length > 0;
  if (skipsFirst) await saveSkips(ctx, state.facts.appointment_id, decision.record);
  const result = await sendReminder(ctx, state, decision.n, decision.deferred_from, skipsFirst ? undefined : current);
  if (result.sent) {
    ctx.counts.sent += 1;
    // Recording the reminder wrote the entry for the next check; only a different slot's is left.
    if (!decision.next_check_at || ctx.deps.store.slotOf(decision.next_check_at) !== entry.slot) {
      await ctx.deps.store.deleteDueEntry(entry.slot, entry.appointment_id);
    }
  } else if (result.reason === 'busy') {
    ctx.counts.busy += 1;
  } else if (result.reason === 'already-sent') {
    ctx.counts.busy += 1;
    await moveEntry(ctx, entry, state, decision.next_check_at);
  } else if (result.reason === 'retry-later') {
    ctx.counts.failed += 1; // the entry stays; the next run tries again
  } else {
    ctx.counts.skipped += 1;
    await moveEntry(ctx, entry, state, undefined);
  }
}

type SendResult = { sent: true; executionSid?: string } | { sent: false; reason: string };

async function sendReminder(
  ctx: Ctx,
  state: AppointmentState,
  n: number,
  deferredFrom: string | undefined,
  known?: Versioned<AppointmentState>,
): Promise<SendResult> {
  const { store } = ctx.deps;
  const id = state.facts.appointment_id;
  const version = state.schedule_version;
  const nowIso = ctx.deps.now().toISOString();
  const leaseMs = ctx.deps.leaseMs ?? 5 * 60_000;
  const claim: ReminderClaim = {
    appointment_id: id,
    schedule_version: version,
    n,
    event_id: '',
    status: 'claimed',
    claimed_at: nowIso,
    lease_until: new Date(Date.parse(nowIso) + leaseMs).toISOString(),
    sweep_id: ctx.sweepId,
  };
  // The REMIND event's time is the claim's, so every retry of this reminder has the same event id.
  let event = systemEvent(state, 'REMIND', nowIso, { reminder: String(n), schedule_version: String(version) });
  claim.event_id = event.event_id;

  const created = await store.createClaim(claim);
  if (!created.created) {
    const existing = await store.getClaim(id, version, n);
    if (!existing) return { sent: false, reason: 'busy' };
    const other = existing.value;
    event = systemEvent(state, 'REMIND', other.claimed_at, { reminder: String(n), schedule_version: String(version) });
    if (other.status === 'sent') {
      // Sent by another run (perhaps one that stopped before recording it): record it, send nothing.
      await recordEvent(ctx.record, event);
      return { sent: false, reason: 'already-sent' };
    }
    if (other.lease_until > nowIso) return { sent: false, reason: 'busy' };
    // An unfinished claim: ask Studio whether that run got as far as starting the flow.
    if (await ctx.deps.flows.wasStarted({ to: state.facts.patient_phone, eventId: other.event_id, since: other.claimed_at })) {
      await recordEvent(ctx.record, event);
      return { sent: true };
    }
    const takeover: ReminderClaim = { ...other, sweep_id: ctx.sweepId, lease_until: new Date(Date.parse(nowIso) + leaseMs).toISOString() };
    if ((await store.replaceClaim(takeover, existing.etag)) !== 'ok') return { sent: false, reason: 'busy' };
    Object.assign(claim, takeover);
  }

  let executionSid: string | undefined;
  for (let attempt = 1; ; attempt += 1) {
    await ctx.limiter.take();
    try {
      const started = await ctx.deps.flows.start({ state, event });
      if (!started.started) {
        await store.deleteClaim(id, version, n);
        await saveSkips(ctx, id, [{ n, reason: started.reason, at: nowIso, schedule_version: version }]);
        return { sent: false, reason: started.reason };
      }
      executionSid = started.executionSid;
      break;
    } catch (err) {
      const retryable = err instanceof FlowStartError ? err.retryable : true;
      if (retryable && attempt < 4) {
        await ctx.sleep(Math.min(8000, 500 * 2 ** (attempt - 1)) * (0.5 + Math.random()));
        continue;
      }
      log('warn', 'sweep: reminder not sent', { appointment_id: id, event_id: event.event_id, code: retryable ? 'retry-later' : 'refused', error: describeError(err) });
      await store.deleteClaim(id, version, n);
      if (retryable) return { sent: false, reason: 'retry-later' };
      await saveSkips(ctx, id, [{ n, reason: 'send-refused', at: nowIso, schedule_version: version }]);
      return { sent: false, reason: 'send-refused' };
    }
  }

  // Recording the reminder in the state is what marks it sent (the claim is not rewritten): a run
  // that finds this claim still 'claimed' reads a state that already has the reminder, or, if we
  // stop before recording it, waits for the lease and asks Studio whether the flow was started.
  await recordEvent(ctx.record, withExecution(event, executionSid), known);
  log('info', 'reminder sent', { appointment_id: id, event_id: event.event_id, execution_sid: executionSid, count: n, ...(deferredFrom ? { deferred_from: deferredFrom } : {}) });
  return { sent: true, executionSid };
}

function withExecution(event: AppointmentEvent, executionSid: string): AppointmentEvent {
  // The event id stays the one derived from the claim; the execution is extra detail.
  return { ...event, detail: { ...event.detail, execution_sid: executionSid } };
}

function systemEvent(state: AppointmentState, type: 'REMIND' | 'EXPIRED', atIso: string, detail: Record<string, string>): AppointmentEvent {
  return withEventId({ ...state.facts, event_type: type, event_datetime_utc: atIso, detail });
}

async function saveSkips(ctx: Ctx, appointmentId: string, skips: ReminderSkip[]): Promise<void> {
  await updateState(ctx.deps.store, appointmentId, (s) => {
    if (skips.some((k) => k.schedule_version !== s.schedule_version)) return null;
    const next = recordSkips(s, skips, ctx.deps.now().toISOString());
    return next === s ? null : next;
  });
}

async function moveEntry(ctx: Ctx, entry: DueRef, state: AppointmentState, nextAt: string | undefined): Promise<void> {
  const { store } = ctx.deps;
  if (nextAt) {
    if (store.slotOf(nextAt) === entry.slot) return; // same slot: the entry already points here
    await store.putDueEntry({ appointment_id: entry.appointment_id, due_at: nextAt, schedule_version: state.schedule_version });
  }
  await store.deleteDueEntry(entry.slot, entry.appointment_id);
}

/** Reminders this patient got on the local day of `nowIso`, across all their appointments. */
async function remindersSentToday(ctx: Ctx, state: AppointmentState, nowIso: string): Promise<number> {
  const zone = state.facts.appointment_timezone;
  const today = reminderLocalDay(zone, nowIso);
  if (!today) return 0;
  let count = 0;
  for (const id of await ctx.deps.store.listAppointmentIdsForPhone(state.facts.patient_phone)) {
    const s = id === state.facts.appointment_id ? state : (await ctx.deps.store.getState(id))?.value;
    if (!s || s.facts.patient_phone !== state.facts.patient_phone) continue;
    count += s.reminders_sent.filter((r) => reminderLocalDay(zone, r.at) === today).length;
  }
  return count;
}

/** Messages whose flow start failed at intake, and EHR requests still pending. */
async function retryOutboxes(ctx: Ctx): Promise<void> {
  const { store } = ctx.deps;
  const nowIso = ctx.deps.now().toISOString();
  for (const entry of await store.listOutbox<FlowOutboxPayload>('flow', 500)) {
    if (entry.next_attempt_at > nowIso) continue;
    try {
      await retryFlowStart(ctx, entry);
    } catch (err) {
      log('warn', 'sweep: queued message failed again', { event_id: entry.id, error: describeError(err) });
    }
  }
  if (ctx.deps.notifier) {
    const r = await ctx.deps.notifier.retryPending();
    ctx.counts.retried_ehr_requests += r.delivered;
  }
}

async function retryFlowStart(ctx: Ctx, entry: OutboxEntry<FlowOutboxPayload>): Promise<void> {
  const { store } = ctx.deps;
  const current = await store.getState(entry.payload.appointment_id);
  const event = entry.payload.event;
  // Only an event the state still reflects deserves its message; a newer event has sent its own.
  if (!current || !isEhrEventType(event.event_type) || current.value.ehr_event_id !== event.event_id) {
    await store.deleteOutbox('flow', entry.id);
    return;
  }
  await ctx.limiter.take();
  try {
    await ctx.deps.flows.start({ state: current.value, event });
    await store.deleteOutbox('flow', entry.id);
    ctx.counts.retried_messages += 1;
  } catch (err) {
    entry.attempts += 1;
    entry.last_error = err instanceof Error ? err.message : 'unknown';
    entry.next_attempt_at = new Date(ctx.deps.now().getTime() + retryDelayMs(entry.attempts)).toISOString();
    await store.putOutbox(entry);
    throw err;
  }
}
