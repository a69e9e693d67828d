import { randomUUID } from 'node:crypto';
import { applyEvent, type AppointmentState, type Disposition } from '../domain/appointment';
import type { AppointmentEvent } from '../domain/event';
import { eventFacts } from '../domain/filing';
import { planText, type TextPlan } from '../domain/text-outbox';
import { replyEventId } from '../domain/reply';
import type { AppointmentRecords, EventHistory, OptOutLedger, OptOutRecord, Versioned } from '../storage/appointment-store';
import { BusyError } from '../domain/errors';
import { countFacts } from './count-figures';
import type { FilingDeps, FilingStore } from './filing';
import { writeFiledState } from './update-state';

/**
 * The ports recording an event uses: the history, the indexes (or the change markers, when the
 * filing is deferred), the opt-out ledger (read when a phone comes to an appointment), the state.
 */
export type RecordStore = AppointmentRecords & EventHistory & FilingStore & Pick<OptOutLedger, 'getOptOut'>;

export interface RecordDeps extends FilingDeps {
  store: RecordStore;
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

function pendingText(state: AppointmentState | null, eventId: string): boolean {
  const o = state?.outbox;
  return !!o && [o.sending, o.pending].some((n) => n?.covers.includes(eventId));
}

/**
 * The opt-out the ledger holds for a phone, as an event of an appointment that came to that phone
 * afterwards. Its id is the one the reply handler gives the same SMS for this appointment, so if
 * both apply it, it is one event.
 */
function optOutFromLedger(event: AppointmentEvent, ledger: OptOutRecord): AppointmentEvent {
  const sid = ledger.message_sid ?? `ledger:${ledger.at}`;
  return {
    ...event,
    event_type: 'OPTED-OUT',
    event_id: replyEventId('OPTED-OUT', event.appointment_id, sid),
    event_datetime_utc: ledger.at,
    detail: ledger.message_sid ? { message_sid: ledger.message_sid } : {},
  };
}

/** Contention on one appointment's state (src/domain/errors.ts, BusyError); keeps the id for the caller's log. */
export class StateConflictError extends BusyError {
  constructor(
    readonly appointmentId: string,
    attempts: number,
  ) {
    super('the appointment', attempts);
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

  // A first-seen booking is almost always a new appointment: try to create its state without
  // reading first (a conditional create fails if it exists, and the loop then reads it).
  const guessNew = known === undefined && !seenBefore && event.event_type === 'BOOKED';
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
    const current =
      attempt === 1 && known !== undefined ? known : attempt === 1 && guessNew ? null : await deps.store.getState(event.appointment_id);
    const now = deps.now().toISOString();
    const outcome = applyEvent(current?.value ?? null, event, now);
    const base = { appointment_id: event.appointment_id, event_id: event.event_id, event_type: event.event_type };

    if (outcome.kind !== 'applied') {
      const duplicate = outcome.kind === 'duplicate' || seenBefore;
      // Counted again (each fact counts once): a redelivery after a crash between the state and the count.
      if (outcome.kind === 'duplicate' && !deps.defer) await countFacts(deps.store, eventFacts(event), event.appointment_id);
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
    const id = event.appointment_id;
    const phone = outcome.state.facts.patient_phone;
    const newPhone = !current || current.value.facts.patient_phone !== phone;
    let planned = planText(outcome.state, event, owner, now);
    // The change is announced (a marker, when filing is deferred) or the phone filed before the
    // opt-out ledger is read: an opt-out recorded at the same moment either is in the ledger read
    // here or finds this appointment by its phone (directory or marker) and is applied to it by
    // the reply handler. A marker written before the state also means a crash in between leaves
    // work for the filer, never a state the indexes (the due index above all) do not know of.
    if (deps.defer) await deps.store.markChange(id, planned.state.revision, now, phone);
    else if (newPhone) await deps.store.putPhoneIndex(phone, id);
    const ledger = newPhone ? await deps.store.getOptOut(phone) : null;
    if (ledger?.opted_out && !outcome.state.opted_out) {
      const withOptOut = applyEvent(outcome.state, optOutFromLedger(event, ledger), now);
      if (withOptOut.kind === 'applied') planned = planText(withOptOut.state, event, owner, now);
    }
    const written = await writeFiledState(deps.store, planned.state, current ?? null, deps, { phoneWritten: newPhone, announced: true });
    if (written) {
      const next = written.value;
      return {
        ...base,
        outcome: 'applied',
        duplicate: false,
        stale: false,
        disposition: next.disposition,
        state: next,
        etag: written.etag,
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
export async function recordEvents(deps: RecordDeps, events: AppointmentEvent[], concurrency = 8): Promise<RecordResult[]> {
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
