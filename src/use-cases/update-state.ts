import type { AppointmentState } from '../domain/appointment';
import type { AppointmentRecords, Versioned } from '../storage/appointment-store';

/**
 * Writes a state and keeps the admin listing indexes in step: the new entries first, then the
 * state (compare-and-set), then the replaced entries go. A crash or a lost race leaves only
 * entries that do not match a state, which readers skip (src/storage/listing-index.ts).
 */
export async function writeListedState(
  store: AppointmentRecords,
  next: AppointmentState,
  current: Versioned<AppointmentState> | null,
  alongside: Promise<unknown> = Promise.resolve(),
): Promise<string | null> {
  await Promise.all([store.putListing(next, current?.value ?? null), alongside]);
  const etag = await store.writeState(next, current?.etag ?? null);
  if (etag !== null && current) await store.dropListing(current.value, next);
  return etag;
}

/**
 * Read-modify-write of an appointment's state with a conditional write, re-reading and re-applying
 * `change` on conflict. `change` returns null for "nothing to do". Answers the state written with
 * its ETag (`changed`), or the current one when `change` declined; `current` is null when there is
 * no state. `known` saves the first read when the caller just read or wrote the state.
 */
export async function commitState(
  store: AppointmentRecords,
  appointmentId: string,
  change: (state: AppointmentState) => AppointmentState | null,
  options: { known?: Versioned<AppointmentState> | null; attempts?: number } = {},
): Promise<{ current: Versioned<AppointmentState> | null; changed: boolean }> {
  const attempts = options.attempts ?? 50;
  let current = options.known ?? (await store.getState(appointmentId));
  for (let i = 0; i < attempts && current; i += 1) {
    const next = change(current.value);
    if (!next) return { current, changed: false };
    const etag = await writeListedState(store, next, current);
    if (etag !== null) return { current: { value: next, etag }, changed: true };
    await new Promise((r) => setTimeout(r, Math.random() * Math.min(100, 2 ** i)));
    current = await store.getState(appointmentId);
  }
  if (!current) return { current: null, changed: false };
  throw new Error(`state of ${appointmentId} kept changing; giving up after ${attempts} attempts`);
}

/** `commitState` for changes that are not events (recording reminder skips): answers the state. */
export async function updateState(
  store: AppointmentRecords,
  appointmentId: string,
  change: (state: AppointmentState) => AppointmentState | null,
  attempts = 50,
): Promise<AppointmentState | null> {
  return (await commitState(store, appointmentId, change, { attempts })).current?.value ?? null;
}
