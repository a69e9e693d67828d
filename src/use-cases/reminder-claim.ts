import type { AppointmentState } from '../domain/appointment';
import type { AppointmentEvent } from '../domain/event';
import { FlowStartError } from '../messaging/flow-starter';
import { describeError, log } from '../log';
import type { ReminderClaim, Versioned } from '../storage/appointment-store';
import { recordEvent } from './record-event';
import { saveSkips, systemEvent, type SweepRunContext } from './sweep-run';

/**
 * Sending one reminder exactly once: a claim written with a conditional create before the flow
 * starts, taken over from a crashed run only after its lease ran out and Studio says the flow was
 * not started, and the state update that marks the reminder sent.
 */

export type SendResult = { sent: true; executionSid?: string } | { sent: false; reason: string };

export async function sendReminder(
  ctx: SweepRunContext,
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
  if (created.kind === 'exists') {
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
      if (started.kind === 'not-started') {
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
      log('warn', 'sweep: reminder not sent', {
        appointment_id: id,
        event_id: event.event_id,
        code: retryable ? 'retry-later' : 'refused',
        error: describeError(err),
      });
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
  log('info', 'reminder sent', {
    appointment_id: id,
    event_id: event.event_id,
    execution_sid: executionSid,
    count: n,
    ...(deferredFrom ? { deferred_from: deferredFrom } : {}),
  });
  return { sent: true, executionSid };
}

function withExecution(event: AppointmentEvent, executionSid: string): AppointmentEvent {
  // The event id stays the one derived from the claim; the execution is extra detail.
  return { ...event, detail: { ...event.detail, execution_sid: executionSid } };
}
