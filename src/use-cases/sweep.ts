import type { AppointmentState } from '../domain/appointment';
import { outboxDueAt } from '../domain/notice';
import { reminderLocalDay } from '../domain/reminder-window';
import { isRemindable } from '../domain/statuses';
import { decide, type SweepDecision } from '../domain/sweep-decision';
import { describeError, log } from '../log';
import type { DueRef, Versioned } from '../storage/appointment-store';
import { dispatchTexts } from './dispatch-texts';
import { fileChanges } from './file-changes';
import { recordEvent } from './record-event';
import { sendReminder } from './reminder-claim';
import { retryOutboxes } from './sweep-outbox-retry';
import {
  countRunFacts,
  createRunContext,
  saveSkips,
  systemEvent,
  type SweepCounts,
  type SweepDeps,
  type SweepRunContext,
} from './sweep-run';

/** Change markers one run files at most before it reads the due index; the rest wait for the next run. */
const FILING_PER_RUN = 5000;

/**
 * One run of the reminder sweep (the Lambda's work, and `npm start`'s timer). It reads only the
 * due-index buckets up to now, so its cost follows the reminders due, not the appointments
 * stored. Each reminder is claimed with a conditional write before the flow starts, so overlapping
 * or retried sweeps send it once; a claim left unfinished by a crash is resolved on a later run.
 * One bad record is logged by id and skipped.
 */
export async function runSweep(deps: SweepDeps): Promise<SweepCounts> {
  const ctx = createRunContext(deps);
  const started = ctx.wallClock();
  const timeUp = () => deps.deadline !== undefined && ctx.wallClock() > deps.deadline;
  const nowIso = deps.now().toISOString();
  const concurrency = deps.concurrency ?? 8;
  // Changes the intake left unfiled first: their due entries are what this run reads next.
  const filing = await fileChanges(deps, {
    limit: FILING_PER_RUN,
    clock: ctx.wallClock,
    ...(deps.deadline !== undefined ? { deadline: deps.deadline } : {}),
  });
  ctx.counts.left_for_next_run += filing.left;

  const queue = new EntryQueue(concurrency * 4);
  const pump = (async () => {
    try {
      for await (const entry of deps.store.listDueEntries(nowIso)) {
        if (timeUp()) ctx.counts.left_for_next_run += 1;
        else await queue.push(entry);
      }
    } finally {
      queue.close();
    }
  })();
  const workers = Array.from({ length: concurrency }, async () => {
    for (let entry = await queue.next(); entry; entry = await queue.next()) {
      if (timeUp()) {
        ctx.counts.left_for_next_run += 1;
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
  if (!timeUp()) await retryOutboxes(ctx);
  await countRunFacts(ctx);

  const ms = ctx.wallClock() - started;
  await deps.store.putSweepStatus({
    at: nowIso,
    finished_at: deps.now().toISOString(),
    ms,
    sweep_id: ctx.sweepId,
    counts: ctx.counts,
    filing,
  });
  log('info', 'sweep finished', { ms, ...ctx.counts, filed: filing.filed, filing_kept: filing.kept });
  return ctx.counts;
}

/**
 * The due entries between the index listing and the workers. The listing waits while it is full
 * and a worker while it is empty, each woken by the other side rather than polling on a timer, so
 * a run takes no wall-clock time of its own (and a test's instant sleep cannot spin it).
 */
class EntryQueue {
  private readonly items: DueRef[] = [];
  private closed = false;
  private readonly waitingForItem: (() => void)[] = [];
  private readonly waitingForRoom: (() => void)[] = [];

  constructor(private readonly capacity: number) {}

  async push(entry: DueRef): Promise<void> {
    while (this.items.length >= this.capacity) await new Promise<void>((r) => this.waitingForRoom.push(r));
    this.items.push(entry);
    this.waitingForItem.shift()?.();
  }

  /** No more entries: workers waiting for one end. */
  close(): void {
    this.closed = true;
    for (const wake of this.waitingForItem.splice(0)) wake();
  }

  /** The next entry, or undefined once the listing is over and the queue empty. */
  async next(): Promise<DueRef | undefined> {
    for (;;) {
      const entry = this.items.shift();
      if (entry) {
        this.waitingForRoom.shift()?.();
        return entry;
      }
      if (this.closed) return undefined;
      await new Promise<void>((r) => this.waitingForItem.push(r));
    }
  }
}

/**
 * Sends the appointment's next reminder now, through the same claim-and-start path as the sweep,
 * ignoring lead times and the outreach window (the admin page's "simulate REMIND").
 */
export async function remindNow(
  deps: SweepDeps,
  appointmentId: string,
): Promise<{ sent: boolean; n?: number; reason?: string; executionSid?: string }> {
  const ctx = createRunContext(deps);
  const current = await deps.store.getState(appointmentId);
  if (!current) return { sent: false, reason: 'unknown-appointment' };
  const state = current.value;
  if (!isRemindable(state.status) || state.opted_out || state.patient_request) {
    return {
      sent: false,
      reason: `no reminder for ${state.disposition}${state.patient_request ? ` after a ${state.patient_request.type} request` : ''}`,
    };
  }
  const n = state.reminders_sent.some((r) => r.n === 1) ? 2 : 1;
  if (state.reminders_sent.some((r) => r.n === n)) return { sent: false, reason: 'both reminders already sent' };
  const result = await sendReminder(ctx, state, n, undefined);
  await countRunFacts(ctx);
  return result.sent
    ? { sent: true, n, ...(result.executionSid ? { executionSid: result.executionSid } : {}) }
    : { sent: false, n, reason: result.reason };
}

async function processEntry(ctx: SweepRunContext, entry: DueRef): Promise<void> {
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
      const expired = await recordEvent(
        ctx.record,
        systemEvent(state, 'EXPIRED', nowIso, {}),
        decision.record.length > 0 ? undefined : current,
      );
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

async function sendDue(
  ctx: SweepRunContext,
  entry: DueRef,
  current: Versioned<AppointmentState>,
  decision: Extract<SweepDecision, { action: 'send' }>,
) {
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

async function moveEntry(ctx: SweepRunContext, entry: DueRef, state: AppointmentState, nextAt: string | undefined): Promise<void> {
  const { store } = ctx.deps;
  if (nextAt) {
    if (store.slotOf(nextAt) === entry.slot) return; // same slot: the entry already points here
    await store.putDueEntry({ appointment_id: entry.appointment_id, due_at: nextAt, schedule_version: state.schedule_version });
  }
  await store.deleteDueEntry(entry.slot, entry.appointment_id);
}

/** Reminders this patient got on the local day of `nowIso`, across all their appointments. */
async function remindersSentToday(ctx: SweepRunContext, state: AppointmentState, nowIso: string): Promise<number> {
  const zone = state.facts.appointment_timezone;
  const today = reminderLocalDay(zone, nowIso);
  if (!today) return 0;
  let count = 0;
  // The run filed the changes waiting when it began, so the directory alone is current enough here.
  for (const id of await ctx.deps.store.listAppointmentIdsForPhone(state.facts.patient_phone, { filedOnly: true })) {
    const s = id === state.facts.appointment_id ? state : (await ctx.deps.store.getState(id))?.value;
    if (!s || s.facts.patient_phone !== state.facts.patient_phone) continue;
    count += s.reminders_sent.filter((r) => reminderLocalDay(zone, r.at) === today).length;
  }
  return count;
}
