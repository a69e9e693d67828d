import type { AppointmentEvent } from '../domain/event';
import { isEhrEventType } from '../domain/event';
import { FlowStartError, type FlowStarter } from '../messaging/flow-starter';
import { log } from '../log';
import type { AppointmentStore } from '../storage/appointment-store';
import type { RecordResult } from './record-event';

export type MessageStatus = 'started' | 'opted-out' | 'queued-for-retry';

export interface FlowOutboxPayload {
  appointment_id: string;
  event: AppointmentEvent;
}

/**
 * Starts the flow for each applied EHR event, in order. Duplicates and stale events send nothing.
 * A start that fails is put in the outbox for the sweep to retry: the event itself is already
 * safely stored.
 */
export async function sendMessagesForEvents(
  deps: { flows: FlowStarter; store: AppointmentStore; now: () => Date },
  results: RecordResult[],
  events: AppointmentEvent[],
): Promise<(MessageStatus | undefined)[]> {
  const statuses: (MessageStatus | undefined)[] = [];
  for (const [i, r] of results.entries()) {
    const event = events[i];
    if (r.outcome !== 'applied' || !r.state || !event || !isEhrEventType(event.event_type)) {
      statuses.push(undefined);
      continue;
    }
    try {
      const started = await deps.flows.start({ state: r.state, event });
      statuses.push(started.started ? 'started' : 'opted-out');
    } catch (err) {
      const retryable = err instanceof FlowStartError ? err.retryable : true;
      log('warn', 'flow start failed; queued for the sweep', { appointment_id: r.appointment_id, event_id: r.event_id, code: retryable ? 'retryable' : 'permanent' });
      const now = deps.now().toISOString();
      await deps.store.putOutbox<FlowOutboxPayload>({
        kind: 'flow',
        id: event.event_id,
        created_at: now,
        attempts: 1,
        last_error: err instanceof Error ? err.message : 'unknown',
        next_attempt_at: now,
        payload: { appointment_id: r.appointment_id, event },
      });
      statuses.push('queued-for-retry');
    }
  }
  return statuses;
}
