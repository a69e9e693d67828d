import { describe, expect, it } from 'vitest';
import { withEventId } from '../../src/domain/event';
import type { AppointmentState } from '../../src/domain/appointment';
import { MemoryAppointmentStore } from '../../src/storage/memory-appointment-store';
import { recordEvent, type RecordDeps } from '../../src/use-cases/record-event';
import { ehr, manualClock, policy } from './support';

/** The in-memory store, with another writer's change slipped in before one state write. */
class InterleavingStore extends MemoryAppointmentStore {
  stateWrites = 0;
  private before: (() => Promise<unknown>) | undefined;

  /** Runs `other` (to completion) right before the next state write reaches the store. */
  interleaveOnce(other: () => Promise<unknown>): void {
    this.before = other;
  }

  override async writeState(state: AppointmentState, expectedEtag: string | null): Promise<string | null> {
    this.stateWrites += 1;
    const other = this.before;
    this.before = undefined;
    if (other) await other();
    return super.writeState(state, expectedEtag);
  }
}

function setup() {
  const store = new InterleavingStore();
  const clock = manualClock('2026-11-25T16:00:00Z');
  const deps: RecordDeps = { store, policy, now: clock.now, sleep: async () => {} };
  return { store, clock, deps };
}

describe('recordEvent on the in-memory store', () => {
  it('applies a booking: history, due entry and phone index, then the state with its booking text claimed', async () => {
    const { store, deps } = setup();
    const booked = ehr({ appointment_id: 'APT-1' });
    const result = await recordEvent(deps, booked);
    expect(result).toMatchObject({ outcome: 'applied', duplicate: false, stale: false, disposition: 'QUEUED', text: 'claimed' });
    const stored = await store.getState('APT-1');
    expect(stored).toEqual({ value: result.state, etag: result.etag });
    expect((await store.listHistory('APT-1')).map((h) => h.event.event_id)).toEqual([booked.event_id]);
    expect(await store.listAppointmentIdsForPhone(booked.patient_phone)).toEqual(['APT-1']);
    const due = [];
    for await (const e of store.listDueEntries('2026-12-31T00:00:00.000Z')) due.push(e);
    expect(due).toEqual([{ appointment_id: 'APT-1', slot: store.slotOf(stored?.value.outbox?.sending?.lease_until ?? '') }]);
  });

  it('answers a redelivered event as a duplicate and writes nothing', async () => {
    const { store, deps } = setup();
    const booked = ehr({ appointment_id: 'APT-1' });
    await recordEvent(deps, booked);
    const before = await store.getState('APT-1');
    const writes = store.stateWrites;
    const again = await recordEvent(deps, booked);
    expect(again).toMatchObject({ outcome: 'duplicate', duplicate: true, disposition: 'QUEUED' });
    expect(store.stateWrites).toBe(writes);
    expect(await store.getState('APT-1')).toEqual(before);
    expect(await store.listHistory('APT-1')).toHaveLength(1);
  });

  it('inserts a late EHR event at its place: the newest event still decides the state', async () => {
    const { store, deps } = setup();
    await recordEvent(deps, ehr({ appointment_id: 'APT-1', event_datetime_utc: '2026-11-25T15:00:00Z' }));
    await recordEvent(
      deps,
      ehr({ appointment_id: 'APT-1', event_type: 'MODIFIED', event_datetime_utc: '2026-11-25T15:30:00Z', appointment_location: 'Newest' }),
    );
    const late = await recordEvent(
      deps,
      ehr({ appointment_id: 'APT-1', event_type: 'MODIFIED', event_datetime_utc: '2026-11-25T15:10:00Z', appointment_location: 'Older' }),
    );
    expect(late).toMatchObject({ outcome: 'applied', late: true });
    expect((await store.getState('APT-1'))?.value.facts.appointment_location).toBe('Newest');
    expect((await store.listHistory('APT-1')).map((h) => h.event.appointment_location)).toEqual([expect.any(String), 'Older', 'Newest']);
  });

  it('ignores a patient request for an appointment it does not know, keeping it in the history', async () => {
    const { store, deps } = setup();
    const confirm = withEventId({ ...ehr({ appointment_id: 'APT-unknown' }), event_type: 'CONFIRM', detail: { message_sid: 'SM1' } });
    const result = await recordEvent(deps, confirm);
    expect(result).toMatchObject({ outcome: 'ignored', reason: 'unknown-appointment', state: null });
    expect(await store.getState('APT-unknown')).toBeNull();
    expect(await store.listHistory('APT-unknown')).toHaveLength(1);
  });

  it('re-reads and re-applies when another writer changes the state between its read and its write', async () => {
    const { store, deps } = setup();
    await recordEvent(deps, ehr({ appointment_id: 'APT-1', event_datetime_utc: '2026-11-25T15:00:00Z' }));
    const state = (await store.getState('APT-1'))?.value;
    if (!state) throw new Error('no state');
    const modified = ehr({
      appointment_id: 'APT-1',
      event_type: 'MODIFIED',
      event_datetime_utc: '2026-11-25T15:30:00Z',
      appointment_location: 'Room 2',
    });
    const confirm = withEventId({
      ...state.facts,
      event_type: 'CONFIRM',
      event_datetime_utc: '2026-11-25T15:45:00Z',
      detail: { message_sid: 'SM1' },
    });
    let other: Awaited<ReturnType<typeof recordEvent>> | undefined;
    store.interleaveOnce(async () => {
      other = await recordEvent(deps, modified);
    });
    const writesBefore = store.stateWrites;
    const result = await recordEvent(deps, confirm);
    expect(other?.outcome).toBe('applied');
    expect(result.outcome).toBe('applied');
    // Its own first write (conflicted), the other writer's, and its retry.
    expect(store.stateWrites - writesBefore).toBe(3);
    const final = (await store.getState('APT-1'))?.value;
    expect(final?.facts.appointment_location).toBe('Room 2');
    expect(final?.patient_request?.type).toBe('CONFIRM');
    expect(final).toEqual(result.state);
  });

  it('a booking for a phone the ledger holds as opted out is OPTED-OUT at once, with no text, even when the booking is a guess that the state is new', async () => {
    const { store, deps } = setup();
    const booked = ehr({ appointment_id: 'APT-2' });
    await store.putOptOut({
      phone: booked.patient_phone,
      opted_out: true,
      at: '2026-11-20T10:00:00.000Z',
      message_sid: `SM${'1'.repeat(32)}`,
    });
    const result = await recordEvent(deps, booked);
    expect(result).toMatchObject({ outcome: 'applied', disposition: 'OPTED-OUT', text: 'refused:opted-out' });
    const stored = (await store.getState('APT-2'))?.value;
    expect(stored).toMatchObject({ opted_out: true, disposition: 'OPTED-OUT' });
    expect(stored?.outbox).toBeUndefined();
  });

  it('a BOOKED for an appointment that already exists falls back from the create to a read, and loses nothing', async () => {
    const { store, deps } = setup();
    await recordEvent(deps, ehr({ appointment_id: 'APT-3', event_type: 'MODIFIED', appointment_location: 'Room 1' }));
    const booked = ehr({ appointment_id: 'APT-3', appointment_location: 'Room 2', event_datetime_utc: '2026-11-25T15:59:30Z' });
    const result = await recordEvent(deps, booked);
    expect(result).toMatchObject({ outcome: 'applied', disposition: 'QUEUED' });
    const stored = (await store.getState('APT-3'))?.value;
    expect(stored?.log?.map((e) => e.type)).toEqual(['MODIFIED', 'BOOKED']);
    expect(stored?.facts.appointment_location).toBe('Room 2');
  });
});
