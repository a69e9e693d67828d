import type { AppointmentState } from '../domain/appointment';
import { BusyError } from '../domain/errors';
import type { AppointmentRecords, Versioned } from '../storage/appointment-store';
import { beginsHold, deferredFiling, filedFor, planFiling, type FilingDeps, type FilingStore } from './filing';

/**
 * Writes a state (compare-and-set) and keeps the derived indexes in step (src/use-cases/filing.ts):
 * the entries it needs first, then the state, then the replaced entries go and its new facts are
 * counted. A crash or a lost race leaves only entries that do not match a state, which readers
 * skip (src/storage/listing-index.ts). A deferring writer writes the state alone: the change is
 * covered by the marker of the event that began it (see file-changes.ts).
 */
export async function writeFiledState(
  store: AppointmentRecords & FilingStore,
  next: AppointmentState,
  current: Versioned<AppointmentState> | null,
  filing: FilingDeps,
  /** `announced`: the caller wrote this write's change marker already (recordEvent does). */
  options: { phoneWritten?: boolean; keepDue?: boolean; announced?: boolean } = {},
): Promise<Versioned<AppointmentState> | null> {
  if (filing.defer) {
    const state = deferredFiling(next, current?.value, filing);
    // An event's own claim is announced by recordEvent; a later claim (a queued text, a takeover) here.
    if (!options.announced && current && beginsHold(current.value, state))
      await store.markChange(state.facts.appointment_id, state.revision, filing.now().toISOString(), state.facts.patient_phone);
    const etag = await store.writeState(state, current?.etag ?? null);
    return etag === null ? null : { value: state, etag };
  }
  const plan = planFiling(store, filedFor(current?.value, filing.policy, filing.now().toISOString()), next, filing, options);
  await plan.before();
  const etag = await store.writeState(plan.state, current?.etag ?? null);
  if (etag === null) return null;
  await plan.after();
  return { value: plan.state, etag };
}

/**
 * Read-modify-write of an appointment's state with a conditional write, re-reading and re-applying
 * `change` on conflict. `change` returns null for "nothing to do". Answers the state written with
 * its ETag (`changed`), or the current one when `change` declined; `current` is null when there is
 * no state. `known` saves the first read when the caller just read or wrote the state.
 */
export async function commitState(
  store: AppointmentRecords & FilingStore,
  appointmentId: string,
  change: (state: AppointmentState) => AppointmentState | null,
  filing: FilingDeps,
  options: { known?: Versioned<AppointmentState> | null; attempts?: number } = {},
): Promise<{ current: Versioned<AppointmentState> | null; changed: boolean }> {
  const attempts = options.attempts ?? 50;
  let current = options.known ?? (await store.getState(appointmentId));
  for (let i = 0; i < attempts && current; i += 1) {
    const next = change(current.value);
    if (!next) return { current, changed: false };
    // Not an event: the due entry is left as it is (the sweep moves an entry earlier than needed).
    const written = await writeFiledState(store, next, current, filing, { keepDue: true });
    if (written) return { current: written, changed: true };
    await new Promise((r) => setTimeout(r, Math.random() * Math.min(100, 2 ** i)));
    current = await store.getState(appointmentId);
  }
  if (!current) return { current: null, changed: false };
  throw new BusyError('the appointment', attempts);
}

/** `commitState` for changes that are not events (recording reminder skips): answers the state. */
export async function updateState(
  store: AppointmentRecords & FilingStore,
  appointmentId: string,
  change: (state: AppointmentState) => AppointmentState | null,
  filing: FilingDeps,
  attempts = 50,
): Promise<AppointmentState | null> {
  return (await commitState(store, appointmentId, change, filing, { attempts })).current?.value ?? null;
}
