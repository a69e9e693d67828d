import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AppointmentEvent } from '../../src/domain/event';
import { FIGURES } from '../../src/domain/figures';
import { listedOf } from '../../src/domain/filing';
import { nameWords } from '../../src/storage/listing-index';
import { MemoryAppointmentStore } from '../../src/storage/memory-appointment-store';
import { dueAt } from '../../src/use-cases/filing';
import { fileChanges, STALE_MARKER_MS } from '../../src/use-cases/file-changes';
import { recordEvents } from '../../src/use-cases/record-event';
import { sendMessagesForEvents } from '../../src/use-cases/send-messages';
import { runSweep } from '../../src/use-cases/sweep';
import { ehr, FakeFlows, manualClock, policy } from './support';

/*
 * The intake records events without filing them (a change marker instead of the index writes);
 * the filer brings the indexes up to the states later. Whatever the interleaving, once the filer
 * has run the indexes must be what recording each event with its filing would have left.
 */

const T0 = '2026-11-25T16:00:00Z';
const IDS = ['APT-1', 'APT-2', 'APT-3'];
const PHONES = ['(415) 555-0134', '(415) 555-0177'];
const NAMES: [string, string][] = [
  ['Zoë', "O'Connor-Nuñez"],
  ['Ana', 'Lee'],
];

type Step =
  | { kind: 'event'; id: number; type: string; minute: number; day: number; phone: number; name: number; room: number }
  | { kind: 'file' }
  | { kind: 'wait'; minutes: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('event' as const),
      id: fc.integer({ min: 0, max: IDS.length - 1 }),
      type: fc.constantFrom('BOOKED', 'RESCHEDULED', 'MODIFIED', 'CONFIRMED', 'CANCELED', 'NOSHOWED'),
      minute: fc.integer({ min: 0, max: 600 }),
      day: fc.integer({ min: 3, max: 9 }),
      phone: fc.integer({ min: 0, max: PHONES.length - 1 }),
      name: fc.integer({ min: 0, max: NAMES.length - 1 }),
      room: fc.integer({ min: 1, max: 3 }),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'file' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('wait' as const), minutes: fc.integer({ min: 1, max: 90 }) }) },
);

function eventOf(s: Extract<Step, { kind: 'event' }>): AppointmentEvent {
  const [first, last] = NAMES[s.name] as [string, string];
  return ehr({
    appointment_id: IDS[s.id],
    event_type: s.type,
    event_datetime_utc: new Date(Date.parse('2026-11-25T05:00:00Z') + s.minute * 60_000).toISOString(),
    appointment_datetime: `2026-12-0${s.day}T09:30:00`,
    patient_phone: PHONES[s.phone],
    patient_first_name: first,
    patient_last_name: last,
    appointment_location: `Suite ${s.room}00`,
  });
}

/**
 * What a reader sees of a store's indexes, checked against the states as readers check them (an
 * entry left by a lost race is skipped: the inline path leaves one when a booking's guessed
 * create meets an existing state).
 */
async function indexes(store: MemoryAppointmentStore) {
  const listed = async (order: 'time' | 'change') =>
    (await store.listIndexed({ order, filter: {}, limit: 100 })).appointments.map((a) => a.facts.appointment_id);
  const names = await Promise.all(
    ['zoe', 'oconnor', 'nunez', 'ana', 'lee', 'o'].map(async (w) => {
      const ids = (await store.findByName([w], 50)).ids;
      const states = await Promise.all(ids.map(async (id) => (await store.getState(id))?.value));
      return ids.filter((id, i) => states[i] && nameWords(listedOf(states[i])).some((n) => n.startsWith(w))).sort();
    }),
  );
  const phones = await Promise.all(PHONES.map(async (p) => (await store.listAppointmentIdsForPhone(p)).sort()));
  const figures = (await store.readFigures(['2026-11-25', '2026-11-26'])).map((d) => FIGURES.map((f) => d.counts[f]));
  return { byTime: await listed('time'), byChange: await listed('change'), names, phones, figures };
}

describe('filing deferred by the intake, done by the filer', () => {
  it('leaves the same indexes, phone lookups and figures as filing each change as it is written, in any interleaving', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 14 }), async (steps) => {
        const clock = manualClock(T0);
        const inline = new MemoryAppointmentStore();
        const deferred = new MemoryAppointmentStore();
        const flows = { inline: new FakeFlows(), deferred: new FakeFlows() };
        const run = async (store: MemoryAppointmentStore, defer: boolean, event: AppointmentEvent) => {
          const deps = { store, policy, now: clock.now, defer };
          const results = await recordEvents(deps, [event]);
          await sendMessagesForEvents({ ...deps, flows: defer ? flows.deferred : flows.inline }, results, [event]);
        };
        for (const s of steps) {
          if (s.kind === 'event') {
            const event = eventOf(s);
            await run(inline, false, event);
            await run(deferred, true, event);
            // Found by its phone at once, before any filing: a reply to the booking text finds it.
            const state = (await deferred.getState(event.appointment_id))?.value;
            if (state) expect(await deferred.listAppointmentIdsForPhone(state.facts.patient_phone)).toContain(event.appointment_id);
          } else if (s.kind === 'file') await fileChanges({ store: deferred, policy, now: clock.now });
          else clock.advance(s.minutes * 60_000);
        }
        await fileChanges({ store: deferred, policy, now: clock.now });
        const seen = await indexes(deferred);
        expect(seen).toEqual(await indexes(inline));
        expect((await deferred.listIndexed({ order: 'time', filter: {}, limit: 100 })).stale).toBe(0);
        expect(flows.deferred.starts.map((x) => x.event.event_id)).toEqual(flows.inline.starts.map((x) => x.event.event_id));
        // Every appointment the sweep must look at again has a due entry no later than that.
        const due = new Map<string, string[]>();
        for await (const e of deferred.listDueEntries('2027-12-31T00:00:00.000Z'))
          due.set(e.appointment_id, [...(due.get(e.appointment_id) ?? []), e.slot]);
        for (const id of IDS) {
          const state = (await deferred.getState(id))?.value;
          const at = state && dueAt(state, policy, clock.now().toISOString());
          if (at)
            expect(
              (due.get(id) ?? []).some((slot) => slot <= deferred.slotOf(at)),
              id,
            ).toBe(true);
        }
        // Nothing is left waiting: no text is in flight, so every marker was retired.
        expect(await deferred.listChanges(100)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the marker while the text is held by a dispatcher, and files its outcome once it is written', async () => {
    const clock = manualClock(T0);
    const store = new MemoryAppointmentStore();
    const deps = { store, policy, now: clock.now, defer: true };
    const booking = ehr({ appointment_id: 'APT-1' });
    const [recorded] = await recordEvents(deps, [booking]);
    expect(recorded?.text).toBe('claimed');
    // The dispatcher has not sent it yet: the filer leaves the state to it.
    expect(await fileChanges(deps)).toMatchObject({ filed: 0, retired: 0, kept: 1 });
    expect((await store.listIndexed({ order: 'time', filter: {}, limit: 10 })).appointments).toEqual([]);
    const flows = new FakeFlows();
    await sendMessagesForEvents({ ...deps, flows }, recorded ? [recorded] : [], [booking]);
    expect(await fileChanges(deps)).toMatchObject({ filed: 1, retired: 1, kept: 0 });
    expect((await store.listIndexed({ order: 'time', filter: {}, limit: 10 })).appointments.map((a) => a.facts.appointment_id)).toEqual([
      'APT-1',
    ]);
    expect((await store.readFigures(['2026-11-25']))[0]?.counts).toMatchObject({ sent: 1, confirmation_asks: 1 });
  });

  it('counts a waiting text a later dispatcher claims and sends: its claim is announced by a marker of its own', async () => {
    const clock = manualClock(T0);
    const store = new MemoryAppointmentStore();
    const deps = { store, policy, now: clock.now, defer: true };
    const booking = ehr({ appointment_id: 'APT-1' });
    const moved = ehr({
      appointment_id: 'APT-1',
      event_type: 'MODIFIED',
      event_datetime_utc: '2026-11-25T15:59:30Z',
      appointment_location: 'Suite 300',
    });
    const [first] = await recordEvents(deps, [booking]);
    const [second] = await recordEvents(deps, [moved]);
    expect([first?.text, second?.text]).toEqual(['claimed', 'queued']);
    // The booking text goes out; Studio refuses the second for now: it waits for a retry.
    const flows = new FakeFlows(['start', 'retryable']);
    await sendMessagesForEvents({ ...deps, flows }, first ? [first] : [], [booking]);
    await fileChanges(deps);
    expect(await store.listChanges(10)).toEqual([]);
    // The engine redelivers the change later: its waiting text is claimed and sent by this request.
    clock.advance(5 * 60_000);
    const again = await recordEvents(deps, [moved]);
    expect(again[0]?.text).toBe('pending');
    await sendMessagesForEvents({ ...deps, flows }, again, [moved]);
    expect(flows.starts.map((s) => s.event.event_type)).toEqual(['BOOKED', 'MODIFIED']);
    await fileChanges(deps);
    expect((await store.readFigures(['2026-11-25']))[0]?.counts).toMatchObject({ sent: 2, confirmation_asks: 1 });
    expect(await store.listChanges(10)).toEqual([]);
  });

  it('files a state whose dispatcher died once its lease is over, and the sweep then sends the text', async () => {
    const clock = manualClock(T0);
    const store = new MemoryAppointmentStore();
    const deps = { store, policy, now: clock.now, defer: true };
    await recordEvents(deps, [ehr({ appointment_id: 'APT-1' })]);
    // No dispatch: the process died after the state write.
    clock.advance(3 * 60_000);
    const flows = new FakeFlows();
    await runSweep({ store, flows, policy, now: clock.now, ratePerSecond: 1000 });
    expect(flows.starts.map((s) => s.event.event_type)).toEqual(['BOOKED']);
    await fileChanges(deps);
    expect(await store.listChanges(10)).toEqual([]);
    expect((await store.readFigures(['2026-11-25']))[0]?.counts.sent).toBe(1);
  });

  it('retires the marker of a state write that never landed only once it is stale, and keeps a write in flight', async () => {
    const clock = manualClock(T0);
    const store = new MemoryAppointmentStore();
    await store.markChange('APT-9', 1, clock.now().toISOString(), '+14155550134');
    const deps = { store, policy, now: clock.now };
    expect(await fileChanges(deps)).toMatchObject({ retired: 0, kept: 1 });
    clock.advance(STALE_MARKER_MS + 1000);
    expect(await fileChanges(deps)).toMatchObject({ retired: 1, kept: 0 });
    expect(await store.listAppointmentIdsForPhone('+14155550134')).toEqual([]);
  });

  it('stops at its deadline and says how many appointments it left for the next run', async () => {
    const clock = manualClock(T0);
    const store = new MemoryAppointmentStore();
    const deps = { store, policy, now: clock.now, defer: true };
    await recordEvents(deps, [ehr({ appointment_id: 'APT-1' }), ehr({ appointment_id: 'APT-2', patient_phone: '(415) 555-0177' })]);
    expect(await fileChanges(deps, { deadline: Date.now() - 1 })).toMatchObject({ filed: 0, left: 2, kept: 2 });
    expect(await store.listChanges(10)).toHaveLength(2);
  });
});
