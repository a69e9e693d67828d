import { listedOf } from '../domain/filing';
import type { AppointmentRecords } from '../storage/appointment-store';

/**
 * Files one page of stored appointments (storage order) in the admin listing index: for states
 * written before the index existed. Idempotent, so it can be repeated or interrupted; a state that
 * changes meanwhile leaves at worst a stale entry, which readers skip.
 */
export async function reindexListing(
  store: AppointmentRecords,
  pageSize: number,
  cursor?: string,
): Promise<{ indexed: number; cursor?: string; unreadable?: string[] }> {
  const page = await store.listAppointments(pageSize, cursor);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < page.appointments.length; i = next++) {
      const state = page.appointments[i];
      if (state) await store.putListing(listedOf(state), null);
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, page.appointments.length) }, worker));
  return {
    indexed: page.appointments.length,
    ...(page.cursor ? { cursor: page.cursor } : {}),
    ...(page.unreadable ? { unreadable: page.unreadable } : {}),
  };
}
