import { describe, expect, it } from 'vitest';
import { MemoryAppointmentStore } from '../../src/storage/memory-appointment-store';
import { dispatchTexts } from '../../src/use-cases/dispatch-texts';
import { recordEvent } from '../../src/use-cases/record-event';
import { runSweep } from '../../src/use-cases/sweep';
import type { SweepDeps } from '../../src/use-cases/sweep-run';
import { ehr, FakeFlows, manualClock, policy } from './support';

/** Booked on Nov 25 for Tue Dec 1, 09:30 in Los Angeles (17:30Z); the booking text sent. Reminders are due Nov 29 and Nov 30 at 17:30Z. */
async function booked() {
  const store = new MemoryAppointmentStore();
  const clock = manualClock('2026-11-25T16:00:00Z');
  // Each start takes 200 ms, so overlapping sweeps meet at the claim.
  const flows = new FakeFlows([], 200);
  const recorded = await recordEvent({ store, policy, now: clock.now }, ehr({ appointment_id: 'APT-1' }));
  await dispatchTexts({ store, flows, policy, now: clock.now }, 'APT-1', recorded.owner ?? '');
  const deps: SweepDeps = { store, flows, policy, now: clock.now, ratePerSecond: 1000 };
  const reminders = () => flows.starts.filter((s) => s.event.event_type === 'REMIND');
  return { store, clock, flows, deps, reminders };
}

describe('runSweep on the in-memory store', () => {
  it('sends the first reminder once, 48h before, even when two sweeps overlap', async () => {
    const t = await booked();
    t.clock.set('2026-11-29T17:29:00Z');
    expect((await runSweep(t.deps)).sent).toBe(0);
    expect(t.reminders()).toHaveLength(0);

    t.clock.set('2026-11-29T17:31:00Z');
    const [a, b] = await Promise.all([runSweep(t.deps), runSweep(t.deps)]);
    expect(a.sent + b.sent).toBe(1);
    // The later sweep found the reminder claimed by the one sending it.
    expect(a.busy + b.busy).toBe(1);
    expect(t.reminders().map((s) => s.event.detail)).toEqual([expect.objectContaining({ reminder: '1' })]);
    const state = (await t.store.getState('APT-1'))?.value;
    expect(state?.disposition).toBe('REMINDED-1');
    expect(state?.reminders_sent.map((r) => r.n)).toEqual([1]);

    t.clock.set('2026-11-29T18:31:00Z');
    expect((await runSweep(t.deps)).sent).toBe(0);
    expect(t.reminders()).toHaveLength(1);
    expect(await t.store.getSweepStatus()).toMatchObject({ at: '2026-11-29T18:31:00.000Z', counts: { sent: 0 } });
  });

  it('keeps one due entry, in the slot of the second reminder, after sending the first', async () => {
    const t = await booked();
    t.clock.set('2026-11-29T17:31:00Z');
    await runSweep(t.deps);
    const due = [];
    for await (const e of t.store.listDueEntries('2026-12-31T00:00:00.000Z')) due.push(e);
    expect(due).toEqual([{ appointment_id: 'APT-1', slot: t.store.slotOf('2026-11-30T17:30:00.000Z') }]);
  });
});

describe('runSweep on an injected wall clock', () => {
  it('paces flow starts and stops at the deadline by the injected clock and sleep, without waiting for real', async () => {
    const store = new MemoryAppointmentStore();
    const clock = manualClock('2026-11-25T16:00:00Z');
    const flows = new FakeFlows();
    for (const k of [1, 2, 3]) {
      const recorded = await recordEvent(
        { store, policy, now: clock.now },
        ehr({ appointment_id: `APT-${k}`, patient_phone: `+1415555820${k}` }),
      );
      await dispatchTexts({ store, flows, policy, now: clock.now }, `APT-${k}`, recorded.owner ?? '');
    }
    clock.set('2026-11-29T17:31:00Z');
    let wall = 1_700_000_000_000;
    const slept: number[] = [];
    const deps: SweepDeps = {
      store,
      flows,
      policy,
      now: clock.now,
      ratePerSecond: 1,
      concurrency: 1,
      wallClock: () => wall,
      sleep: async (ms) => {
        slept.push(ms);
        wall += ms;
      },
      deadline: wall + 500,
    };
    const reminders = () => flows.starts.filter((s) => s.event.event_type === 'REMIND');

    // One start per second: the second reminder waits a second, after which the deadline has passed.
    const counts = await runSweep(deps);
    expect(slept).toEqual([1000]);
    expect(counts).toMatchObject({ sent: 2, left_for_next_run: 1, failed: 0 });
    expect(reminders()).toHaveLength(2);
    expect(await store.getSweepStatus()).toMatchObject({ ms: 1000 });

    const next = await runSweep({ ...deps, deadline: undefined });
    expect(next).toMatchObject({ sent: 1, left_for_next_run: 0 });
    expect(new Set(reminders().map((s) => s.event.appointment_id))).toEqual(new Set(['APT-1', 'APT-2', 'APT-3']));
    expect(slept).toEqual([1000]);
  });
});
