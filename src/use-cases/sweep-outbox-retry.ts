import { isEhrEventType, type AppointmentEvent } from '../domain/event';
import { describeError, log } from '../log';
import type { OutboxEntry } from '../storage/appointment-store';
import { retryDelayMs } from './dispatch-texts';
import type { SweepRunContext } from './sweep-run';

/** Flow starts queued by versions before the in-state outbox (outbox/flow/); still drained. */
interface FlowOutboxPayload {
  appointment_id: string;
  event: AppointmentEvent;
}

/** Messages whose flow start failed at intake, and EHR requests still pending. */
export async function retryOutboxes(ctx: SweepRunContext): Promise<void> {
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

async function retryFlowStart(ctx: SweepRunContext, entry: OutboxEntry<FlowOutboxPayload>): Promise<void> {
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
