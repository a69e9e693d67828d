import type { AppointmentState } from '../domain/appointment';
import type { AppointmentStore } from '../storage/appointment-store';

/**
 * Read-modify-write of an appointment's state with a conditional write, retried on conflict, for
 * changes that are not events (recording reminder skips). `change` returns null for "nothing to do".
 */
export async function updateState(
  store: AppointmentStore,
  appointmentId: string,
  change: (state: AppointmentState) => AppointmentState | null,
  attempts = 50,
): Promise<AppointmentState | null> {
  for (let i = 0; i < attempts; i += 1) {
    const current = await store.getState(appointmentId);
    if (!current) return null;
    const next = change(current.value);
    if (!next) return current.value;
    if ((await store.putState(next, current.etag)) === 'ok') return next;
    await new Promise((r) => setTimeout(r, Math.random() * Math.min(100, 2 ** i)));
  }
  throw new Error(`state of ${appointmentId} kept changing; giving up after ${attempts} attempts`);
}
