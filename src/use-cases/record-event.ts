import { randomUUID } from 'node:crypto';
import { applyEvent, type AppointmentState, type Disposition } from '../domain/appointment';
import type { AppointmentEvent } from '../domain/event';
import { outboxDueAt } from '../domain/notice';
import { nextCheckAt, type ReminderPolicy } from '../domain/reminders';
import { planText, type TextPlan } from '../domain/text-outbox';
import type { AppointmentStore, Versioned } from '../storage/appointment-store';

export interface RecordDeps {
  store: AppointmentStore;
  policy: ReminderPolicy;
  now: () => Date;
  /** Backoff between optimistic-concurrency retries; injectable so tests can run them fast. */
  sleep?: (ms: number) => Promise<void>;
}

export interface RecordResult {
  appointment_id: string;
  event_id: string;
  event_type: AppointmentEvent['event_type'];
  outcome: 'applied' | 'duplicate' | 'stale' | 'ignored';
  reason?: string;
  duplicate: boolean;
  stale: boolean;
  disposition: Disposition | null;
  /** An EHR event older than the newest one: inserted at its place, the state derived again. */
  late?: boolean;
  /**
   * The text the event warranted: claimed by this call (dispatch it with `owner`), queued behind
   * one in flight, superseded, refused; `pending` for a redelivered event whose text has not gone out.
   */
  text?: TextPlan | 'pending';
  /** The claim token the text was claimed with, and the version written, for the dispatcher. */
  owner?: string;
  /** The state after the event (unchanged unless `outcome` is applied); null for an unknown appointment. */
  state: AppointmentState | null;
  etag?: string;
}

/** When the sweep must next look at the appointment: a reminder, or a text that is overdue. */
export function dueAt(state: AppointmentState, policy: ReminderPolicy, nowIso: string): string | undefined {
  const times = [nextCheckAt(state, policy, nowIso), outboxDueAt(state.outbox)].filter((t): t is string => !!t);
  return times.sort()[0];
}

function pendingText(state: AppointmentState | null, eventId: string): boolean {
  const o = state?.outbox;
  return !!o && [o.sending, o.pending].some((n) => n?.covers.includes(eventId));
}

export class StateConflictError extends Error {
  constructor(readonly appointmentId: string, readonly attempts: number) {
    super(`state update kept conflicting after ${attempts} attempts`);
  }
}

const MAX_ATTEMPTS = 200;

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Records one validated event: an append-only history record first, then the state, replaced with
 * a conditional write and retried on conflict so racing events never lose an update.
 */
export async function recordEvent(
  deps: RecordDeps,
  event: AppointmentEvent,
  /** The state as the caller just read it, to save a read; re-read after a conflict. */
  known?: Versioned<AppointmentState> | null,
): Promise<RecordResult> {
  const sleep = deps.sleep ?? defaultSleep;
  const receivedAt = deps.now().toISOString();
  const history = await deps.store.appendHistory({ event, received_at: receivedAt });
  const seenBefore = history === 'exists';

  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
    const current = attempt === 1 && known !== undefined ? known : await deps.store.getState(event.appointment_id);
    const now = deps.now().toISOString();
    const outcome = applyEvent(current?.value ?? null, event, now);
    const base = { appointment_id: event.appointment_id, event_id: event.event_id, event_type: event.event_type };

    if (outcome.kind !== 'applied') {
      const duplicate = outcome.kind === 'duplicate' || seenBefore;
      // A redelivery must not hide a text that has not gone out yet: the caller dispatches it.
      const waiting = duplicate && pendingText(outcome.state, event.event_id);
      return {
        ...base,
        outcome: duplicate ? 'duplicate' : outcome.kind,
        ...(outcome.kind === 'ignored' ? { reason: outcome.reason } : {}),
        duplicate,
        stale: outcome.kind === 'stale',
        disposition: outcome.state?.disposition ?? null,
        state: outcome.state ?? null,
        ...(waiting && current ? { text: 'pending' as const, etag: current.etag } : {}),
      };
    }

    const owner = randomUUID();
    const planned = planText(outcome.state, event, owner, now);
    const next = planned.state;
    const due = dueAt(next, deps.policy, now);
    const dueBefore = current ? dueAt(current.value, deps.policy, now) : undefined;
    // Index entries are written before the state: if we crash in between, a reader finds an
    // entry that does not match the state and drops it; the reverse order could lose a reminder.
    const indexWrites: Promise<void>[] = [];
    if (due && (due !== dueBefore || next.schedule_version !== current?.value.schedule_version)) {
      indexWrites.push(
        deps.store.putDueEntry({ appointment_id: next.facts.appointment_id, due_at: due, schedule_version: next.schedule_version }),
      );
    }
    if (!current || current.value.facts.patient_phone !== next.facts.patient_phone) {
      indexWrites.push(deps.store.putPhoneIndex(next.facts.patient_phone, next.facts.appointment_id));
    }
    await Promise.all(indexWrites);
    const etag = await deps.store.writeState(next, current?.etag ?? null);
    if (etag !== null) {
      return {
        ...base,
        outcome: 'applied',
        duplicate: false,
        stale: false,
        disposition: next.disposition,
        state: next,
        etag,
        ...(outcome.late ? { late: true } : {}),
        ...(planned.plan ? { text: planned.plan, owner } : {}),
      };
    }
    await sleep(Math.random() * Math.min(100, 2 ** Math.min(attempt, 7)));
  }
  throw new StateConflictError(event.appointment_id, MAX_ATTEMPTS);
}

/**
 * Records a batch: events for the same appointment in the order given, different appointments
 * concurrently (bounded).
 */
export async function recordEvents(
  deps: RecordDeps,
  events: AppointmentEvent[],
  concurrency = 8,
): Promise<RecordResult[]> {
  const results = new Array<RecordResult>(events.length);
  const groups = new Map<string, number[]>();
  events.forEach((e, i) => groups.set(e.appointment_id, [...(groups.get(e.appointment_id) ?? []), i]));
  const queue = [...groups.values()];
  const worker = async () => {
    for (let group = queue.shift(); group; group = queue.shift()) {
      for (const i of group) results[i] = await recordEvent(deps, events[i] as AppointmentEvent);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
  return results;
}
