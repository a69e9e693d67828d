import { listedOf } from '../../src/domain/filing';
import { beforeEach, describe, expect, it } from 'vitest';
import { applyEvent, type AppointmentState } from '../../src/domain/appointment';
import { parseEhrEvent, type AppointmentEvent } from '../../src/domain/event';
import type { AppointmentStore, DueRef, HistoryRecord, OutboxEntry, ReminderClaim } from '../../src/storage/appointment-store';
import { ehrEvent } from '../fixtures/events';

/**
 * The behaviour every AppointmentStore must have, as vitest tests. `makeStore` gives each test an
 * empty store. Run by test/storage/memory-store.test.ts and test/storage/s3-store.int.test.ts.
 */
export function defineStoreContract(name: string, makeStore: () => Promise<AppointmentStore>): void {
  describe(`${name}: the AppointmentStore contract`, () => {
    let store: AppointmentStore;
    beforeEach(async () => {
      store = await makeStore();
    });

    describe('admin listing index', () => {
      /** Writes a state the way the use cases do: index entries, state, then the replaced entries dropped. */
      const save = async (state: AppointmentState) => {
        const current = await store.getState(state.facts.appointment_id);
        await store.putListing(listedOf(state), current ? listedOf(current.value) : null);
        expect(await store.writeState(state, current?.etag ?? null)).not.toBeNull();
        if (current) await store.dropListing(listedOf(current.value), listedOf(state));
      };
      const at = (day: number, hh: string) => `2026-12-${String(day).padStart(2, '0')}T${hh}:00:00Z`;
      const ids = (page: { appointments: AppointmentState[] }) => page.appointments.map((a) => a.facts.appointment_id);

      it('pages by appointment time with a cursor, whatever order the appointments were written in', async () => {
        for (const [id, day] of [
          ['C', 3],
          ['A', 1],
          ['E', 5],
          ['B', 2],
          ['D', 4],
        ] as const) {
          await save(stateFor(id, { appointment_datetime: at(day, '09'), appointment_timezone: 'UTC' }));
        }
        const first = await store.listIndexed({ order: 'time', filter: {}, limit: 2 });
        expect(ids(first)).toEqual(['A', 'B']);
        const second = await store.listIndexed({ order: 'time', filter: {}, limit: 2, cursor: first.cursor });
        expect(ids(second)).toEqual(['C', 'D']);
        const third = await store.listIndexed({ order: 'time', filter: {}, limit: 2, cursor: second.cursor });
        expect(ids(third)).toEqual(['E']);
        expect(third.cursor).toBeUndefined();
      });

      it('filters by date range, disposition, location, provider and attention from the index', async () => {
        await save(
          stateFor('A', {
            appointment_datetime: at(1, '09'),
            appointment_timezone: 'UTC',
            appointment_location: 'North',
            provider_id: 'P1',
          }),
        );
        await save(
          stateFor('B', {
            appointment_datetime: at(2, '09'),
            appointment_timezone: 'UTC',
            appointment_location: 'South',
            provider_id: 'P2',
          }),
        );
        await save(
          stateFor('C', {
            appointment_datetime: at(3, '09'),
            appointment_timezone: 'UTC',
            appointment_location: 'North',
            provider_id: 'P2',
          }),
        );
        const confirmed = applyEvent(
          (await store.getState('B'))!.value,
          {
            ...bookingEvent('B', {
              appointment_datetime: at(2, '09'),
              appointment_timezone: 'UTC',
              appointment_location: 'South',
              provider_id: 'P2',
            }),
            event_type: 'CONFIRMED',
            event_id: 'conf-B',
            event_datetime_utc: '2026-11-21T10:00:00Z',
          },
          '2026-11-21T10:00:01.000Z',
        );
        if (confirmed.kind !== 'applied') throw new Error('fixture');
        await save(confirmed.state);
        const undeliverable = {
          ...(await store.getState('C'))!.value,
          undeliverable: { phone: '+14155550134', error_code: '30006', at: '2026-11-22T10:00:00.000Z', message_sid: 'SM1' },
          revision: 9,
        };
        await save(undeliverable);
        const list = async (filter: object) => ids(await store.listIndexed({ order: 'time', filter, limit: 10 }));
        expect(await list({ from: at(2, '00'), to: at(3, '00') })).toEqual(['B']);
        expect(await list({ dispositions: ['CONFIRMED'] })).toEqual(['B']);
        expect(await list({ dispositions: ['QUEUED'] })).toEqual(['A', 'C']);
        expect(await list({ location: 'North' })).toEqual(['A', 'C']);
        expect(await list({ location: 'Nowhere' })).toEqual([]);
        expect(await list({ provider_id: 'P2', location: 'North' })).toEqual(['C']);
        expect(await list({ attention: ['undeliverable'] })).toEqual(['C']);
        // Newest change first: C's undeliverable mark (22 Nov) is newer than B's confirmation (21 Nov).
        expect(ids(await store.listIndexed({ order: 'change', filter: {}, limit: 10 }))).toEqual(['C', 'B', 'A']);
      });

      it('skips entries that do not match the state: an entry written for a state that never was, and a replaced one not dropped', async () => {
        await save(stateFor('A', { appointment_datetime: at(1, '09'), appointment_timezone: 'UTC' }));
        // A writer that crashed after writing its entries but before its state.
        await store.putListing(listedOf(stateFor('A', { appointment_datetime: at(4, '09'), appointment_timezone: 'UTC' })), null);
        // A writer that crashed after its state but before dropping the old entries.
        const b1 = stateFor('B', { appointment_datetime: at(2, '09'), appointment_timezone: 'UTC' });
        await save(b1);
        const b2 = stateFor('B', { appointment_datetime: at(5, '09'), appointment_timezone: 'UTC' });
        await store.putListing(listedOf(b2), listedOf(b1));
        await store.writeState(b2, (await store.getState('B'))!.etag);
        const page = await store.listIndexed({ order: 'time', filter: {}, limit: 10 });
        expect(ids(page)).toEqual(['A', 'B']);
        expect(page.appointments[1]?.facts.appointment_datetime_utc).toBe(b2.facts.appointment_datetime_utc);
        expect(page.stale).toBe(2);
      });

      it('stops after maxScan entries with a cursor, so a rare filter costs a bounded request', async () => {
        for (let d = 1; d <= 6; d += 1) await save(stateFor(`X${d}`, { appointment_datetime: at(d, '09'), appointment_timezone: 'UTC' }));
        const page = await store.listIndexed({ order: 'time', filter: { dispositions: ['CANCELED'] }, limit: 1, maxScan: 3 });
        expect(page.appointments).toEqual([]);
        expect(page.scanned).toBe(3);
        const rest = await store.listIndexed({
          order: 'time',
          filter: { dispositions: ['CANCELED'] },
          limit: 1,
          maxScan: 3,
          cursor: page.cursor,
        });
        expect(rest.scanned).toBe(3);
        expect(rest.cursor).toBeUndefined();
      });

      it('finds appointments by the start of any word of the name, ignoring case and accents', async () => {
        await save(stateFor('A', { patient_first_name: 'Zoë', patient_last_name: "O'Connor-Nuñez" }));
        await save(stateFor('B', { patient_first_name: 'Zoltan', patient_last_name: 'Kis' }));
        const find = async (words: string[], limit = 10) => (await store.findByName(words, limit)).ids.sort();
        expect(await find(['zo'])).toEqual(['A', 'B']);
        expect(await find(['ZOE'])).toEqual(['A']);
        expect(await find(['nunez'])).toEqual(['A']);
        expect(await find(['connor'])).toEqual(['A']);
        // Every word must start a word of the name, decided from the keys.
        expect(await find(['zo', 'kis'])).toEqual(['B']);
        expect(await find(['zo', 'o', 'nu'])).toEqual(['A']);
        expect(await find(['zoltan', 'nunez'])).toEqual([]);
        expect(await find(['  '])).toEqual([]);
        expect(await store.findByName(['zo'], 1)).toEqual({ ids: [expect.any(String)], truncated: true });
      });
    });

    describe('appointment records', () => {
      it('creates a state only where none exists, and answers it with the ETag the write returned', async () => {
        expect(await store.getState('APT-1')).toBeNull();
        const etag = await store.writeState(stateFor('APT-1'), null);
        expect(etag).toEqual(expect.any(String));
        expect(await store.getState('APT-1')).toEqual({ value: stateFor('APT-1'), etag });
        expect(await store.writeState(stateFor('APT-1', { patient_first_name: 'Other' }), null)).toBeNull();
        expect(await store.putState(stateFor('APT-1', { patient_first_name: 'Other' }), null)).toBe('conflict');
        expect((await store.getState('APT-1'))?.value.facts.patient_first_name).toBe('Zoë');
      });

      it('replaces a state only at the version read; every write makes a new ETag', async () => {
        const first = await store.writeState(stateFor('APT-1'), null);
        const second = await store.writeState(stateFor('APT-1', { patient_first_name: 'Bea' }), first);
        expect(second).not.toBeNull();
        expect(second).not.toBe(first);
        expect(await store.writeState(stateFor('APT-1', { patient_first_name: 'Cy' }), first)).toBeNull();
        expect(await store.putState(stateFor('APT-1', { patient_first_name: 'Cy' }), second)).toBe('ok');
        const now = await store.getState('APT-1');
        expect(now?.value.facts.patient_first_name).toBe('Cy');
        expect([first, second]).not.toContain(now?.etag);
      });

      it('lets exactly one of two writers holding the same ETag win', async () => {
        const etag = await store.writeState(stateFor('APT-1'), null);
        const names = ['Ann', 'Bob', 'Cat', 'Dan'];
        const results = await Promise.all(names.map((n) => store.writeState(stateFor('APT-1', { patient_first_name: n }), etag)));
        const winners = results.flatMap((r, i) => (r === null ? [] : [names[i]]));
        expect(winners).toHaveLength(1);
        const now = await store.getState('APT-1');
        expect(now?.value.facts.patient_first_name).toBe(winners[0]);
        expect(now?.etag).toBe(results.find((r) => r !== null));
      });

      it('lets exactly one of two creators win', async () => {
        const results = await Promise.all(['Ann', 'Bob'].map((n) => store.putState(stateFor('APT-1', { patient_first_name: n }), null)));
        expect(results.sort()).toEqual(['conflict', 'ok']);
      });

      it('rejects a replacement of a state that does not exist', async () => {
        await expect(store.writeState(stateFor('APT-none'), '"not-there"')).rejects.toThrow();
        expect(await store.getState('APT-none')).toBeNull();
      });

      it('keeps its own copy of what was written and hands out copies', async () => {
        const state = stateFor('APT-1');
        await store.writeState(state, null);
        state.facts.patient_first_name = 'Changed after the write';
        const read = await store.getState('APT-1');
        if (!read) throw new Error('no state');
        read.value.facts.patient_first_name = 'Changed after the read';
        expect((await store.getState('APT-1'))?.value.facts.patient_first_name).toBe('Zoë');
      });

      it('pages through every appointment exactly once, whatever the page size', async () => {
        const ids = Array.from({ length: 11 }, (_, i) => `APT-page-${i}`);
        for (const id of ids) await store.writeState(stateFor(id), null);
        // An appointment whose history was written but whose state was not (a crash in between).
        await store.appendHistory(historyRecord('APT-page-orphan', '2026-11-20T10:00:00Z', 'e1'));
        for (const size of [1, 3, 4, 11, 50]) {
          const seen: string[] = [];
          let cursor: string | undefined;
          let pages = 0;
          do {
            const page = await store.listAppointments(size, cursor);
            expect(page.appointments.length).toBeLessThanOrEqual(size);
            seen.push(...page.appointments.map((s) => s.facts.appointment_id));
            cursor = page.cursor;
            pages += 1;
          } while (cursor && pages < 100);
          expect(seen.sort()).toEqual([...ids].sort());
        }
        const one = await store.listAppointments(1);
        const again = await store.listAppointments(1);
        expect(again).toEqual(one);
      });
    });

    describe('event history', () => {
      it('writes a record once per event and keeps the first', async () => {
        const record = historyRecord('APT-1', '2026-11-20T10:00:00Z', 'e1');
        expect(await store.appendHistory(record)).toBe('created');
        expect(await store.appendHistory({ ...record, received_at: '2026-11-21T00:00:00.000Z' })).toBe('exists');
        expect(await store.listHistory('APT-1')).toEqual([record]);
      });

      it('lets exactly one of concurrent writers of the same event create it', async () => {
        const record = historyRecord('APT-1', '2026-11-20T10:00:00Z', 'e1');
        const results = await Promise.all([store.appendHistory(record), store.appendHistory(record), store.appendHistory(record)]);
        expect(results.sort()).toEqual(['created', 'exists', 'exists']);
      });

      it('lists by event time, then event id, whatever the order of arrival', async () => {
        const late = historyRecord('APT-1', '2026-11-20T12:00:00Z', 'a-late');
        const b = historyRecord('APT-1', '2026-11-20T10:00:00Z', 'b');
        const a = historyRecord('APT-1', '2026-11-20T10:00:00Z', 'a');
        const early = historyRecord('APT-1', '2026-11-19T23:59:59Z', 'z-early');
        for (const r of [late, b, early, a]) await store.appendHistory(r);
        await store.appendHistory(historyRecord('APT-2', '2026-11-20T11:00:00Z', 'other'));
        expect((await store.listHistory('APT-1')).map((r) => r.event.event_id)).toEqual(['z-early', 'a', 'b', 'a-late']);
        expect(await store.listHistory('APT-none')).toEqual([]);
      });
    });

    describe('due index', () => {
      const list = async (until: string, limit?: number) => {
        const refs: DueRef[] = [];
        for await (const ref of store.listDueEntries(until, limit)) refs.push(ref);
        return refs;
      };

      it('lists slots up to and including the slot of `until`, oldest first, then by appointment', async () => {
        await store.putDueEntry({ appointment_id: 'apt-2', due_at: '2026-11-25T08:10:00.000Z', schedule_version: 1 });
        await store.putDueEntry({ appointment_id: 'apt-3', due_at: '2026-11-25T09:00:00.000Z', schedule_version: 1 });
        await store.putDueEntry({ appointment_id: 'apt-1', due_at: '2026-11-25T08:55:00.000Z', schedule_version: 1 });
        await store.putDueEntry({ appointment_id: 'apt-4', due_at: '2026-11-24T23:00:00.000Z', schedule_version: 1 });
        const slot8 = store.slotOf('2026-11-25T08:00:00.000Z');
        const slot23 = store.slotOf('2026-11-24T23:00:00.000Z');
        expect(await list('2026-11-25T08:30:00.000Z')).toEqual([
          { appointment_id: 'apt-4', slot: slot23 },
          { appointment_id: 'apt-1', slot: slot8 },
          { appointment_id: 'apt-2', slot: slot8 },
        ]);
        expect((await list('2026-11-25T09:00:00.000Z')).map((r) => r.appointment_id)).toEqual(['apt-4', 'apt-1', 'apt-2', 'apt-3']);
        expect((await list('2026-11-25T09:00:00.000Z', 2)).map((r) => r.appointment_id)).toEqual(['apt-4', 'apt-1']);
        expect(await list('2026-11-24T22:59:59.999Z')).toEqual([]);
      });

      it('files one entry per appointment and slot, and deletes it by slot or by an instant in it', async () => {
        await store.putDueEntry({ appointment_id: 'apt-1', due_at: '2026-11-25T08:10:00.000Z', schedule_version: 1 });
        await store.putDueEntry({ appointment_id: 'apt-1', due_at: '2026-11-25T08:40:00.000Z', schedule_version: 2 });
        await store.putDueEntry({ appointment_id: 'apt-1', due_at: '2026-11-26T08:40:00.000Z', schedule_version: 2 });
        const refs = await list('2026-11-30T00:00:00.000Z');
        expect(refs.map((r) => r.slot)).toEqual([store.slotOf('2026-11-25T08:00:00.000Z'), store.slotOf('2026-11-26T08:40:00.000Z')]);
        await store.deleteDueEntry(refs[0]?.slot ?? '', 'apt-1');
        await store.deleteDueEntry('2026-11-26T08:59:00.000Z', 'apt-1');
        await store.deleteDueEntry('2026-11-26T08:59:00.000Z', 'apt-never');
        expect(await list('2026-11-30T00:00:00.000Z')).toEqual([]);
      });

      it('says which instants share a slot', () => {
        expect(store.slotOf('2026-11-25T08:00:00.000Z')).toBe(store.slotOf('2026-11-25T08:59:59.999Z'));
        expect(store.slotOf('2026-11-25T08:59:59.999Z')).not.toBe(store.slotOf('2026-11-25T09:00:00.000Z'));
        expect(store.slotOf('2026-11-25T08:00:00.000Z')).not.toBe(store.slotOf('2026-11-26T08:00:00.000Z'));
      });
    });

    it('phone directory: lists the appointments indexed for a phone, each once', async () => {
      await store.putPhoneIndex('+14155550134', 'apt-2');
      await store.putPhoneIndex('+14155550134', 'apt-1');
      await store.putPhoneIndex('+14155550134', 'apt-1');
      await store.putPhoneIndex('+14155550999', 'apt-3');
      expect(await store.listAppointmentIdsForPhone('+14155550134')).toEqual(['apt-1', 'apt-2']);
      expect(await store.listAppointmentIdsForPhone('+14155550999')).toEqual(['apt-3']);
      expect(await store.listAppointmentIdsForPhone('+1415555')).toEqual([]);
    });

    describe('delivery receipts', () => {
      it('files a message under the first appointment linked to it, whoever links it later', async () => {
        expect(await store.findMessageLink('SM1')).toBeNull();
        expect(await store.linkMessage('SM1', 'apt-1')).toBe('apt-1');
        expect(await store.linkMessage('SM1', 'apt-2')).toBe('apt-1');
        expect(await store.findMessageLink('SM1')).toBe('apt-1');
        const both = await Promise.all([store.linkMessage('SM2', 'apt-a'), store.linkMessage('SM2', 'apt-b')]);
        expect(both[0]).toBe(both[1]);
      });

      it('keeps one receipt per message and status, listed oldest first, per appointment', async () => {
        const r = (sid: string, status: string, at: string, error_code?: string) => ({
          message_sid: sid,
          status,
          at,
          ...(error_code ? { error_code } : {}),
        });
        expect(await store.putDeliveryReceipt('apt-1', r('SMb', 'undelivered', '2026-11-25T08:00:02.000Z', '30006'))).toBe('created');
        expect(await store.putDeliveryReceipt('apt-1', r('SMb', 'sent', '2026-11-25T08:00:01.000Z'))).toBe('created');
        expect(await store.putDeliveryReceipt('apt-1', r('SMb', 'sent', '2026-11-25T08:09:00.000Z'))).toBe('exists');
        await store.putDeliveryReceipt('apt-2', r('SMc', 'delivered', '2026-11-25T08:00:00.000Z'));
        expect(await store.listDeliveryReceipts('apt-1')).toEqual([
          r('SMb', 'sent', '2026-11-25T08:00:01.000Z'),
          r('SMb', 'undelivered', '2026-11-25T08:00:02.000Z', '30006'),
        ]);
        expect(await store.listDeliveryReceipts('apt-3')).toEqual([]);
      });
    });

    it('opt-out ledger: answers the last record written for the phone', async () => {
      expect(await store.getOptOut('+14155550134')).toBeNull();
      await store.putOptOut({ phone: '+14155550134', opted_out: true, at: '2026-11-25T08:00:00.000Z', message_sid: 'SM1' });
      await store.putOptOut({ phone: '+14155550999', opted_out: true, at: '2026-11-25T08:00:00.000Z' });
      await store.putOptOut({ phone: '+14155550134', opted_out: false, at: '2026-11-25T09:00:00.000Z', message_sid: 'SM2' });
      expect(await store.getOptOut('+14155550134')).toEqual({
        phone: '+14155550134',
        opted_out: false,
        at: '2026-11-25T09:00:00.000Z',
        message_sid: 'SM2',
      });
    });

    describe('opt-out listing', () => {
      const at = '2026-11-25T08:00:00.000Z';
      it('lists only phones still opted out, with how, and pages through every one exactly once', async () => {
        const phones = Array.from({ length: 7 }, (_, i) => `+1415555${String(1000 + i)}`);
        for (const phone of phones) await store.putOptOut({ phone, opted_out: true, at, how: 'keyword' });
        await store.putOptOut({ phone: '+14155551003', opted_out: false, at, how: 'keyword' });
        const seen: string[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < 10; page += 1) {
          const got = await store.listOptOuts({ limit: 2, ...(cursor ? { cursor } : {}) });
          expect(got.records.length).toBeLessThanOrEqual(2);
          seen.push(...got.records.map((r) => r.phone));
          cursor = got.cursor;
          if (!cursor) break;
        }
        expect(seen.sort()).toEqual(phones.filter((p) => p !== '+14155551003').sort());
        expect((await store.listOptOuts({ limit: 10 })).records.find((r) => r.phone === '+14155551000')?.how).toBe('keyword');
      });

      it('finds numbers by a fragment of their digits, whatever punctuation the fragment has', async () => {
        await store.putOptOut({ phone: '+14155550134', opted_out: true, at, how: 'revocation' });
        await store.putOptOut({ phone: '+447700900123', opted_out: true, at });
        const found = await store.listOptOuts({ limit: 10, fragment: '(555) 013' });
        expect(found.records.map((r) => r.phone)).toEqual(['+14155550134']);
        expect((await store.listOptOuts({ limit: 10, fragment: '44 7700' })).records.map((r) => r.phone)).toEqual(['+447700900123']);
        expect((await store.listOptOuts({ limit: 10, fragment: '999' })).records).toEqual([]);
      });
    });

    describe('daily figures', () => {
      it('counts a fact once per figure, however often it is counted, and answers zeros for quiet days', async () => {
        expect(await store.countFact('sent', 'evt-1', '2026-11-25')).toBe('counted');
        expect(await store.countFact('sent', 'evt-1', '2026-11-25')).toBe('exists');
        // The same fact reported on another day is still the same fact.
        expect(await store.countFact('sent', 'evt-1', '2026-11-26')).toBe('exists');
        expect(await store.countFact('delivered', 'evt-1', '2026-11-25')).toBe('counted');
        expect(await store.countFact('sent', 'evt-2', '2026-11-26')).toBe('counted');
        const days = await store.readFigures(['2026-11-24', '2026-11-25', '2026-11-26']);
        expect(days.map((d) => d.day)).toEqual(['2026-11-24', '2026-11-25', '2026-11-26']);
        expect(days.map((d) => d.counts.sent)).toEqual([0, 1, 1]);
        expect(days.map((d) => d.counts.delivered)).toEqual([0, 1, 0]);
        expect(days[0]?.counts.opt_outs).toBe(0);
      });

      it('counts one fact under several figures with one marker, once', async () => {
        expect(await store.countFact(['sent', 'confirmation_asks'], 'evt-9', '2026-11-25')).toBe('counted');
        expect(await store.countFact(['sent', 'confirmation_asks'], 'evt-9', '2026-11-25')).toBe('exists');
        const [day] = await store.readFigures(['2026-11-25']);
        expect([day?.counts.sent, day?.counts.confirmation_asks, day?.counts.delivered]).toEqual([1, 1, 0]);
      });

      it('loses no increment when many facts of one day are counted at once, and counts a raced fact once', async () => {
        const ids = Array.from({ length: 30 }, (_, i) => `fact-${i}`);
        const results = await Promise.all([...ids, ...ids].map((id) => store.countFact('confirmed_by_text', id, '2026-11-27')));
        expect(results.filter((r) => r === 'counted')).toHaveLength(ids.length);
        const [day] = await store.readFigures(['2026-11-27']);
        expect(day?.counts.confirmed_by_text).toBe(ids.length);
      });

      it('reads a period across a month end, each day summed over its shards', async () => {
        await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map((id) => store.countFact('no_shows', id, '2026-11-30')));
        await store.countFact('no_shows', 'g', '2026-12-01');
        await store.countFact('no_shows', 'h', '2026-12-03');
        const days = await store.readFigures(['2026-11-30', '2026-12-01', '2026-12-02']);
        expect(days.map((d) => [d.day, d.counts.no_shows])).toEqual([
          ['2026-11-30', 6],
          ['2026-12-01', 1],
          ['2026-12-02', 0],
        ]);
      });
    });

    it('retry outbox: puts, replaces, lists per kind up to the limit, deletes', async () => {
      const entry = (id: string, attempts = 0): OutboxEntry<{ n: string }> => ({
        kind: 'ehr',
        id,
        created_at: '2026-11-25T08:00:00.000Z',
        attempts,
        next_attempt_at: '2026-11-25T08:01:00.000Z',
        payload: { n: id },
      });
      for (const id of ['ev-c', 'ev-a', 'ev-b']) await store.putOutbox(entry(id));
      await store.putOutbox(entry('ev-a', 2));
      await store.putOutbox({ ...entry('ev-flow'), kind: 'flow' });
      const listed = await store.listOutbox<{ n: string }>('ehr');
      expect(listed.map((e) => [e.id, e.attempts])).toEqual([
        ['ev-a', 2],
        ['ev-b', 0],
        ['ev-c', 0],
      ]);
      expect(listed[0]).toEqual(entry('ev-a', 2));
      expect((await store.listOutbox('ehr', 2)).map((e) => e.id)).toEqual(['ev-a', 'ev-b']);
      expect((await store.listOutbox('flow')).map((e) => e.id)).toEqual(['ev-flow']);
      await store.deleteOutbox('ehr', 'ev-b');
      await store.deleteOutbox('ehr', 'ev-never');
      expect((await store.listOutbox('ehr')).map((e) => e.id)).toEqual(['ev-a', 'ev-c']);
    });

    it('EHR receipts: created once, the first one kept', async () => {
      expect(await store.getReceipt('APT-1', 'ev-1')).toBeNull();
      const results = await Promise.all([store.putReceipt('APT-1', 'ev-1', { n: 1 }), store.putReceipt('APT-1', 'ev-1', { n: 1 })]);
      expect(results.sort()).toEqual(['created', 'exists']);
      expect(await store.putReceipt('APT-1', 'ev-1', { n: 2 })).toBe('exists');
      expect(await store.getReceipt('APT-1', 'ev-1')).toEqual({ n: 1 });
      expect(await store.getReceipt('APT-1', 'ev-2')).toBeNull();
    });

    describe('reminder claims', () => {
      it('creates a claim once, and answers it with the ETag of its creation', async () => {
        const results = await Promise.all([store.createClaim(claim('sweep-a')), store.createClaim(claim('sweep-b'))]);
        const created = results.filter((r) => r.kind === 'created');
        expect(created).toHaveLength(1);
        const got = await store.getClaim('APT-1', 3, 1);
        expect(got?.etag).toBe(created[0]?.kind === 'created' ? created[0].etag : undefined);
        expect(await store.getClaim('APT-1', 3, 2)).toBeNull();
        expect(await store.getClaim('APT-1', 4, 1)).toBeNull();
      });

      it('replaces a claim only at the version read, one winner among racers', async () => {
        const created = await store.createClaim(claim('sweep-a'));
        if (created.kind !== 'created') throw new Error('not created');
        const racers = ['sweep-b', 'sweep-c', 'sweep-d'];
        const results = await Promise.all(racers.map((s) => store.replaceClaim(claim(s), created.etag)));
        expect(results.filter((r) => r === 'ok')).toHaveLength(1);
        const got = await store.getClaim('APT-1', 3, 1);
        expect(got?.value.sweep_id).toBe(racers[results.indexOf('ok')]);
        expect(got?.etag).not.toBe(created.etag);
        expect(await store.replaceClaim({ ...claim('sweep-e'), status: 'sent' }, created.etag)).toBe('conflict');
        expect(await store.replaceClaim({ ...claim('sweep-e'), status: 'sent' }, got?.etag ?? '')).toBe('ok');
        expect((await store.getClaim('APT-1', 3, 1))?.value).toEqual({ ...claim('sweep-e'), status: 'sent' });
      });

      it('deletes a claim, after which it can be created again; a deleted claim cannot be replaced', async () => {
        const created = await store.createClaim(claim('sweep-a'));
        if (created.kind !== 'created') throw new Error('not created');
        await store.deleteClaim('APT-1', 3, 1);
        expect(await store.getClaim('APT-1', 3, 1)).toBeNull();
        expect(await store.replaceClaim(claim('sweep-b'), created.etag)).toBe('conflict');
        expect(await store.getClaim('APT-1', 3, 1)).toBeNull();
        expect((await store.createClaim(claim('sweep-c'))).kind).toBe('created');
      });
    });

    it('inbound sightings: the first time a message was seen, for every later and concurrent look', async () => {
      const first = await Promise.all([
        store.firstSeen('SM1', '2026-11-25T08:00:00.000Z'),
        store.firstSeen('SM1', '2026-11-25T08:00:01.000Z'),
      ]);
      expect(new Set(first).size).toBe(1);
      expect(await store.firstSeen('SM1', '2026-11-25T09:00:00.000Z')).toBe(first[0]);
      expect(await store.firstSeen('SM2', '2026-11-25T09:00:00.000Z')).toBe('2026-11-25T09:00:00.000Z');
    });

    it('sweep heartbeat: answers the last status written', async () => {
      expect(await store.getSweepStatus()).toBeNull();
      await store.putSweepStatus({ at: '2026-11-25T08:00:00.000Z', counts: { sent: 1 } });
      await store.putSweepStatus({ at: '2026-11-25T08:15:00.000Z', counts: { sent: 2 } });
      expect(await store.getSweepStatus()).toEqual({ at: '2026-11-25T08:15:00.000Z', counts: { sent: 2 } });
    });

    it('rejected events: newest first, at most the limit asked for', async () => {
      const rejected = (id: string, at: string) => ({
        id,
        at,
        source: 'studio-execution' as const,
        problems: [{ field: 'appointment_datetime', message: 'is missing' }],
      });
      await store.putRejected(rejected('r1', '2026-11-25T08:00:00.000Z'));
      await store.putRejected(rejected('r3', '2026-11-25T10:00:00.000Z'));
      await store.putRejected(rejected('r2', '2026-11-25T09:00:00.000Z'));
      expect((await store.listRejected(10)).map((r) => r.id)).toEqual(['r3', 'r2', 'r1']);
      expect((await store.listRejected(2)).map((r) => r.id)).toEqual(['r3', 'r2']);
      expect(await store.listRejected(10)).toContainEqual(rejected('r1', '2026-11-25T08:00:00.000Z'));
    });

    describe('clinic inbox', () => {
      const item = (sid: string, at: string) => ({
        message_sid: sid,
        phone: '+14155550100',
        appointment_id: 'APT-1',
        body: 'can we do thursday instead?',
        intent: 'unclear' as const,
        at,
      });

      it('keeps one item per message: a replay with its first-seen time finds it there', async () => {
        expect(await store.putInboxItem(item('SM1', '2026-11-25T08:00:00.000Z'))).toBe('created');
        expect(await store.putInboxItem({ ...item('SM1', '2026-11-25T08:00:00.000Z'), body: 'other' })).toBe('exists');
        const listed = await store.listInbox(10);
        expect(listed).toEqual([{ ...item('SM1', '2026-11-25T08:00:00.000Z'), id: expect.any(String) }]);
      });

      it('lists newest first, at most the limit asked for, with ids that differ', async () => {
        await store.putInboxItem(item('SM1', '2026-11-25T08:00:00.000Z'));
        await store.putInboxItem(item('SM3', '2026-11-25T10:00:00.000Z'));
        await store.putInboxItem(item('SM2', '2026-11-25T09:00:00.000Z'));
        expect((await store.listInbox(10)).map((i) => i.message_sid)).toEqual(['SM3', 'SM2', 'SM1']);
        expect((await store.listInbox(2)).map((i) => i.message_sid)).toEqual(['SM3', 'SM2']);
        expect(new Set((await store.listInbox(10)).map((i) => i.id)).size).toBe(3);
      });

      it('marks an item done once (the first time stays) and answers not-found for an id no item has', async () => {
        await store.putInboxItem(item('SM1', '2026-11-25T08:00:00.000Z'));
        const [listed] = await store.listInbox(1);
        expect(await store.markInboxDone(listed?.id ?? '', '2026-11-25T09:00:00.000Z')).toBe('ok');
        expect(await store.markInboxDone(listed?.id ?? '', '2026-11-25T10:00:00.000Z')).toBe('ok');
        expect((await store.listInbox(1))[0]?.done_at).toBe('2026-11-25T09:00:00.000Z');
        for (const id of ['0000000000000_U00x', '../state', '', 'x'])
          expect(await store.markInboxDone(id, '2026-11-25T09:00:00.000Z')).toBe('not-found');
      });

      it('adds each staff reply once under its id, even when two are added at once, and settles it', async () => {
        await store.putInboxItem(item('SM1', '2026-11-25T08:00:00.000Z'));
        const [listed] = await store.listInbox(1);
        const id = listed?.id ?? '';
        const reply = (rid: string) => ({ id: rid, at: '2026-11-25T09:00:00.000Z', by: 'admin', status: 'sending' as const });
        // Concurrent adds of different replies both land (compare-and-set, not last-writer-wins).
        expect(await Promise.all([store.addInboxReply(id, reply('r-1')), store.addInboxReply(id, reply('r-2'))])).toEqual([
          'added',
          'added',
        ]);
        expect(await store.addInboxReply(id, { ...reply('r-1'), by: 'someone-else' })).toEqual(reply('r-1'));
        await store.settleInboxReply(id, 'r-1', { status: 'sent', execution_sid: 'FN1' }, '2026-11-25T09:00:01.000Z');
        const got = await store.getInboxItem(id);
        expect(got?.done_at).toBe('2026-11-25T09:00:01.000Z');
        // The two concurrent adds land in either order.
        expect(got?.replies?.map((r) => [r.id, r.status, r.execution_sid]).sort()).toEqual([
          ['r-1', 'sent', 'FN1'],
          ['r-2', 'sending', undefined],
        ]);
        expect(await store.addInboxReply('0000000000000_U00x', reply('r-3'))).toBe('not-found');
        expect(await store.getInboxItem('../state')).toBeNull();
      });

      it('files staff texts per appointment once, oldest first', async () => {
        const text = (rid: string, at: string) => ({
          id: rid,
          appointment_id: 'APT-1',
          inbox_item_id: 'i',
          at,
          by: 'admin',
          body: 'Sí, claro 😊',
          status: 'sent' as const,
          execution_sid: 'FN1',
        });
        expect(await store.putStaffMessage(text('r-2', '2026-11-25T10:00:00.000Z'))).toBe('created');
        expect(await store.putStaffMessage(text('r-1', '2026-11-25T09:00:00.000Z'))).toBe('created');
        expect(await store.putStaffMessage({ ...text('r-1', '2026-11-25T09:00:00.000Z'), body: 'other' })).toBe('exists');
        expect(await store.listStaffMessages('APT-1')).toEqual([
          text('r-1', '2026-11-25T09:00:00.000Z'),
          text('r-2', '2026-11-25T10:00:00.000Z'),
        ]);
        expect(await store.listStaffMessages('APT-2')).toEqual([]);
      });

      it('grants the holding reply once per phone and day', async () => {
        expect(await store.claimInboxAck('+14155550100', '2026-11-25')).toBe(true);
        expect(await store.claimInboxAck('+14155550100', '2026-11-25')).toBe(false);
        expect(await store.claimInboxAck('+14155550100', '2026-11-26')).toBe(true);
        expect(await store.claimInboxAck('+14155550101', '2026-11-25')).toBe(true);
      });
    });
  });
}

function bookingEvent(appointmentId: string, facts: Record<string, unknown> = {}): AppointmentEvent {
  const parsed = parseEhrEvent(ehrEvent({ appointment_id: appointmentId, event_datetime_utc: '2026-11-20T10:00:00Z', ...facts }), {
    defaultCountry: 'US',
  });
  if (!parsed.ok) throw new Error('fixture');
  return parsed.event;
}

/** A booked appointment's state; `facts` vary it, so two versions differ in content (S3's ETag is a digest). */
export function stateFor(appointmentId: string, facts: Record<string, unknown> = {}): AppointmentState {
  const outcome = applyEvent(null, bookingEvent(appointmentId, facts), '2026-11-20T10:00:01.000Z');
  if (outcome.kind !== 'applied') throw new Error('fixture');
  return outcome.state;
}

function historyRecord(appointmentId: string, at: string, eventId: string): HistoryRecord {
  return { event: { ...bookingEvent(appointmentId), event_id: eventId, event_datetime_utc: at }, received_at: '2026-11-20T10:00:02.000Z' };
}

function claim(sweepId: string): ReminderClaim {
  return {
    appointment_id: 'APT-1',
    schedule_version: 3,
    n: 1,
    event_id: 'remind-1',
    status: 'claimed',
    claimed_at: '2026-11-25T08:00:00.000Z',
    lease_until: '2026-11-25T08:05:00.000Z',
    sweep_id: sweepId,
  };
}
