import { randomUUID } from 'node:crypto';
import type { AppointmentState } from '../domain/appointment';
import type { AppointmentEvent } from '../domain/event';
import { dispatchTexts, type DispatchDeps } from './dispatch-texts';
import type { RecordResult } from './record-event';

/**
 * What became of an event's text, as the intake reports it: `started` (the flow is sending it),
 * `queued` (it goes out after the text in flight), `superseded` (a newer text says it, or the
 * patient already knows), `opted-out`, `refused`, or `queued-for-retry` (the sweep retries it).
 */
export type MessageStatus = 'started' | 'queued' | 'superseded' | 'opted-out' | 'refused' | 'queued-for-retry';

/** What became of an event's text; `reason` says why a text was refused (e.g. `past`, `undeliverable`). */
export interface MessageReport {
  message: MessageStatus;
  reason?: string;
}

function statusOf(state: AppointmentState | undefined, eventId: string, retrying: boolean): MessageReport | undefined {
  const text = state?.log?.find((e) => e.id === eventId)?.text;
  if (!text) return undefined;
  if (text === 'sent') return { message: 'started' };
  if (text === 'pending') return { message: retrying ? 'queued-for-retry' : 'queued' };
  if (text === 'superseded') return { message: 'superseded' };
  if (text === 'refused:opted-out') return { message: 'opted-out' };
  return { message: 'refused', reason: text.replace(/^refused:/, '') };
}

/**
 * Sends the texts the recorded events claimed (each about the state as it is when it goes out),
 * and re-dispatches the text of a redelivered event that has not gone out yet. Says per event what
 * became of its text. The texts were written to the state's outbox with the state change, so a
 * crash here loses nothing: the sweep finishes them.
 */
export async function sendMessagesForEvents(
  deps: DispatchDeps,
  results: RecordResult[],
  _events: AppointmentEvent[],
): Promise<(MessageReport | undefined)[]> {
  const latest = new Map<string, { state?: AppointmentState; retrying: boolean }>();
  for (const r of results) {
    if (!r.state || (r.text !== 'claimed' && r.text !== 'pending')) continue;
    const known = r.etag !== undefined ? { value: r.state, etag: r.etag } : undefined;
    const owner = r.text === 'claimed' && r.owner ? r.owner : randomUUID();
    const done = await dispatchTexts(deps, r.appointment_id, owner, known);
    latest.set(r.appointment_id, { state: done.current?.value, retrying: done.status === 'queued-for-retry' });
  }
  return results.map((r) => {
    if (!r.text) return undefined;
    const seen = latest.get(r.appointment_id);
    return statusOf(seen?.state ?? r.state ?? undefined, r.event_id, seen?.retrying ?? false);
  });
}
