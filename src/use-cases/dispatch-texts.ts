import type { AppointmentState } from '../domain/appointment';
import type { AppointmentEvent } from '../domain/event';
import type { Notice } from '../domain/notice';
import { claimPending, markRefused, markSent, releaseForRetry, takeOver } from '../domain/text-outbox';
import { FlowStartError, type FlowStarter } from '../messaging/flow-starter';
import { describeError, log } from '../log';
import type { AppointmentRecords, Versioned } from '../storage/appointment-store';
import type { FilingDeps, FilingStore } from './filing';
import { commitState } from './update-state';

/** A text that goes out is counted on the dashboard from the state's log, where its sending is recorded (filing.ts). */
export interface DispatchDeps extends FilingDeps {
  store: AppointmentRecords & FilingStore;
  flows: FlowStarter;
}

export interface DispatchResult {
  /** Texts started by this call. */
  sent: number;
  /** What the appointment's outbox is left with. */
  status: 'idle' | 'in-flight' | 'queued-for-retry' | 'refused';
  /** The state (with its ETag) as this call last read or wrote it; null when there is none. */
  current: Versioned<AppointmentState> | null;
}

/** Texts go out at most this many times per call; whatever is left waits for the next caller or the sweep. */
const MAX_ROUNDS = 6;
/** Steps of any kind (claims, look-ups, starts) per call: bounded, and enough for MAX_ROUNDS starts. */
const MAX_STEPS = MAX_ROUNDS * 4;

/** Backoff before a failed start is tried again: 1, 2, 4 … minutes, at most an hour. */
export function retryDelayMs(attempts: number): number {
  return Math.min(60, 2 ** Math.min(attempts, 6)) * 60_000;
}

/** The event the flow receives for a text: the state's facts, the text's kind and event id. */
export function textEvent(state: AppointmentState, notice: Notice): AppointmentEvent {
  return { ...state.facts, event_id: notice.id, event_type: notice.kind, event_datetime_utc: notice.created_at };
}

/**
 * Sends the appointment's waiting texts, one at a time, each about the state as it is when it is
 * sent. `owner` is the caller's claim token: a text claimed by someone else is left to them while
 * their lease runs; after it (their process died), Studio is asked whether the flow was started
 * before the text is sent again, so a crash never doubles a text nor loses one.
 */
export async function dispatchTexts(
  deps: DispatchDeps,
  appointmentId: string,
  owner: string,
  known?: Versioned<AppointmentState>,
): Promise<DispatchResult> {
  const { store } = deps;
  let current: Versioned<AppointmentState> | null = known ?? (await store.getState(appointmentId));
  let sent = 0;
  /** Asks Studio whether the text's flow was started (by a dispatcher that died, or whose answer was lost); if so, records it as sent. */
  const recordIfStarted = async (at: Versioned<AppointmentState>, notice: Notice, nowIso: string) => {
    if (!(await deps.flows.wasStarted({ to: at.value.facts.patient_phone, eventId: notice.id, since: notice.created_at })))
      return undefined;
    log('info', 'text found already started', { appointment_id: appointmentId, event_id: notice.id });
    return (await commitState(store, appointmentId, (s) => markSent(s, notice.id, undefined, nowIso), deps, { known: at })).current;
  };
  let starts = 0;
  for (let step = 0; step < MAX_STEPS && current; step += 1) {
    const nowIso = deps.now().toISOString();
    const notice = current.value.outbox?.sending;
    if (!notice) {
      const claimed = await commitState(store, appointmentId, (s) => claimPending(s, owner, nowIso), deps, { known: current });
      if (!claimed.changed)
        return { sent, status: claimed.current?.value.outbox?.pending ? 'queued-for-retry' : 'idle', current: claimed.current };
      current = claimed.current;
      continue;
    }
    if (notice.owner !== owner) {
      if (notice.lease_until && notice.lease_until > nowIso) return { sent, status: 'in-flight', current };
      const found = await recordIfStarted(current, notice, nowIso);
      if (found !== undefined) {
        current = found;
        continue;
      }
      const taken = await commitState(store, appointmentId, (s) => takeOver(s, owner, nowIso), deps, { known: current });
      if (!taken.changed) return { sent, status: 'in-flight', current: taken.current };
      current = taken.current;
      continue;
    }

    // Our own claim: send it, unless this call has started enough texts already (it is let go below).
    if (starts >= MAX_ROUNDS) break;
    starts += 1;
    const state = current.value;
    // A start that failed before may have reached Studio all the same (a lost response): look first.
    const found = notice.attempts > 0 ? await recordIfStarted(current, notice, nowIso) : undefined;
    if (found !== undefined) {
      current = found;
      continue;
    }
    try {
      const started = await deps.flows.start({ state, event: textEvent(state, notice) });
      if (started.kind === 'started') {
        sent += 1;
        log('info', 'text sent', {
          appointment_id: appointmentId,
          event_id: notice.id,
          event_type: notice.kind,
          execution_sid: started.executionSid,
          count: notice.covers.length,
        });
        current = (
          await commitState(store, appointmentId, (s) => markSent(s, notice.id, started.executionSid, nowIso), deps, { known: current })
        ).current;
      } else {
        current = (
          await commitState(store, appointmentId, (s) => markRefused(s, notice.id, started.reason, nowIso), deps, { known: current })
        ).current;
        if (!current?.value.outbox) return { sent, status: 'refused', current };
      }
    } catch (err) {
      const retryable = err instanceof FlowStartError ? err.retryable : true;
      log('warn', retryable ? 'text not sent; the sweep retries it' : 'text refused', {
        appointment_id: appointmentId,
        event_id: notice.id,
        code: retryable ? 'retryable' : 'permanent',
        error: describeError(err),
      });
      const retryAt = new Date(Date.parse(nowIso) + retryDelayMs(notice.attempts)).toISOString();
      const change = retryable
        ? (s: AppointmentState) => releaseForRetry(s, notice.id, retryAt, nowIso)
        : (s: AppointmentState) => markRefused(s, notice.id, 'undeliverable', nowIso);
      const after = await commitState(store, appointmentId, change, deps, { known: current });
      return { sent, status: retryable ? 'queued-for-retry' : 'refused', current: after.current };
    }
  }
  // A text this call claimed but did not start goes back to waiting, due now, so the next
  // dispatcher (or the sweep) sends it without waiting for the claim's lease to run out.
  const mine = current?.value.outbox?.sending;
  if (current && mine?.owner === owner) {
    const nowIso = deps.now().toISOString();
    current = (await commitState(store, appointmentId, (s) => releaseForRetry(s, mine.id, nowIso, nowIso), deps, { known: current }))
      .current;
    return { sent, status: 'queued-for-retry', current };
  }
  return { sent, status: current?.value.outbox ? 'in-flight' : 'idle', current };
}
