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
