import { describe, expect, it } from 'vitest';
import { BusyError } from '../../src/domain/errors';
import { parseEhrEvent } from '../../src/domain/event';
import { handleIntake } from '../../src/http/intake';
import { failureReply } from '../../src/runtime/functions';
import { MemoryAppointmentStore } from '../../src/storage/memory-appointment-store';
import { MemoryStaffRecords } from '../../src/storage/memory-staff-records';
import { changeInboxItem, type ObjectIo } from '../../src/storage/inbox-records';
import { countFactsWith, type FigureIo } from '../../src/storage/figure-counting';
import type { AppointmentState } from '../../src/domain/appointment';
import { recordEvent } from '../../src/use-cases/record-event';
import { commitState } from '../../src/use-cases/update-state';
import { addStaffUser, updateStaffUser } from '../../src/admin/staff-users';
import { hashPassword } from '../../src/admin/passwords';
import { ehrEvent } from '../fixtures/events';

/*
 * Every compare-and-set loop, forced to run out: before each of its conditional writes another
 * writer changes the record (a real write that makes a new version), so the loop's write always
 * finds a version it did not read. Each must answer the one `busy` error (503, Retry-After,
 * retryable), never a plain Error that maps to a 500 "do not retry".
 */

const NOW = new Date('2026-11-25T16:00:00Z');
const policy = { firstLeadMinutes: 2880, secondLeadMinutes: 1440, outreachStartMinutes: 0, outreachFinishMinutes: 1440 };
const noWait = () => Promise.resolve();

/**
 * A memory store holding `seed`'s appointments, whose every later state write loses to another
 * writer that rewrote the state just before (a new version of the same content).
 */
async function contendedStore(seed: (store: MemoryAppointmentStore) => Promise<unknown>) {
  const store = new MemoryAppointmentStore();
  await seed(store);
  const write = store.writeState.bind(store);
  let interfered = 0;
  store.writeState = async (state: AppointmentState, expectedEtag: string | null) => {
    const other = await store.getState(state.facts.appointment_id);
    if (other) {
      interfered += 1;
      await write(other.value, other.etag);
    }
    return write(state, expectedEtag);
  };
  return { store, interference: () => interfered };
}

/** The appointment as booked by an earlier event, so the one under test has something to contend with. */
const booked = (id: string) => (store: MemoryAppointmentStore) =>
  recordEvent({ store, policy, now: () => NOW }, booking(id, '2026-11-25T07:00:00Z'));

function booking(id = 'APT-1', at = '2026-11-25T08:00:00Z') {
  const parsed = parseEhrEvent(ehrEvent({ appointment_id: id, event_datetime_utc: at }), { defaultCountry: 'US' });
  if (!parsed.ok) throw new Error('fixture');
  return parsed.event;
}

function expectBusyReply(err: unknown) {
  expect(err).toBeInstanceOf(BusyError);
  const reply = failureReply(err, 'req-1', 'test');
  expect(reply.status).toBe(503);
  expect(reply.headers?.['Retry-After']).toBe('2');
  expect(reply.body).toMatchObject({ error: { code: 'busy', retryable: true } });
  expect(JSON.stringify(reply.body)).not.toContain('    at ');
}

async function failureOf(work: Promise<unknown>): Promise<unknown> {
  try {
    await work;
  } catch (err) {
    return err;
  }
  throw new Error('expected the loop to give up');
}

describe('every compare-and-set loop that runs out answers busy', () => {
  it('recording an event (recordEvent)', async () => {
    const { store, interference } = await contendedStore(booked('APT-1'));
    const err = await failureOf(recordEvent({ store, policy, now: () => NOW, sleep: noWait }, booking()));
    expect(interference()).toBeGreaterThan(1);
    expectBusyReply(err);
  });

  it('a change that is not an event (commitState)', async () => {
    const { store, interference } = await contendedStore(booked('APT-1'));
    const err = await failureOf(
      commitState(
        store,
        'APT-1',
        (s) => ({ ...s, facts: { ...s.facts, appointment_location: 'Room 2' } }),
        { policy, now: () => NOW },
        {
          attempts: 4,
        },
      ),
    );
    expect(interference()).toBe(4);
    expectBusyReply(err);
  });

  it('the EHR intake answers 503 with Retry-After when the appointment stays contended', async () => {
    const { store } = await contendedStore(booked('APT-9'));
    const key = 'k'.repeat(32);
    const reply = await handleIntake(
      {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: ehrEvent({ appointment_id: 'APT-9', event_datetime_utc: '2026-11-25T08:00:00Z' }),
      },
      { apiKey: key, defaultCountry: 'US', record: { store, policy, now: () => NOW, sleep: noWait } },
      'req-2',
    );
    expect(reply.status).toBe(503);
    expect(reply.headers?.['Retry-After']).toBe('2');
    expect(reply.body).toMatchObject({ error: { code: 'busy', retryable: true } });
  });

  it('an inbox item (changeInboxItem, both adapters)', async () => {
    const seed = new MemoryAppointmentStore();
    await seed.putInboxItem({
      message_sid: 'SM1',
      phone: '+14155550100',
      appointment_id: 'APT-1',
      body: 'can we do thursday instead?',
      intent: 'unclear',
      at: '2026-11-25T08:00:00.000Z',
    });
    const [item] = await seed.listInbox(1);
    const objects = new Map<string, { value: unknown; version: number }>();
    let versions = 0;
    const io: ObjectIo = {
      read: (key) => {
        const got = objects.get(key);
        return Promise.resolve(got ? { value: got.value, etag: String(got.version) } : null);
      },
      replace: (key, value, etag) => {
        const held = objects.get(key);
        // Another staff member's write lands first.
        if (held) objects.set(key, { value: held.value, version: ++versions });
        const now = objects.get(key);
        if (!now || String(now.version) !== etag) return Promise.resolve(false);
        objects.set(key, { value, version: ++versions });
        return Promise.resolve(true);
      },
    };
    objects.set(`inbox/items/${item?.id ?? ''}.json`, { value: item, version: ++versions });
    const err = await failureOf(
      changeInboxItem(io, item?.id ?? '', (i) => ({ next: { ...i, done_at: NOW.toISOString() }, result: 'ok' }), 'missing'),
    );
    expectBusyReply(err);
  });

  it("a day's dashboard counters (countFactsWith, both adapters), leaving the facts countable again", async () => {
    const objects = new Map<string, { value: unknown; version: number }>();
    let versions = 0;
    const io: FigureIo = {
      create: (key, value) => {
        if (objects.has(key)) return Promise.resolve(false);
        objects.set(key, { value, version: ++versions });
        return Promise.resolve(true);
      },
      read: (key) => {
        const got = objects.get(key);
        return Promise.resolve(got ? { value: got.value, etag: String(got.version) } : null);
      },
      replace: (key, value, etag) => {
        if (key.startsWith('stats/daily/')) {
          // Another counter's increment lands first, whatever version this writer read.
          const held = objects.get(key);
          objects.set(key, { value: held?.value ?? {}, version: ++versions });
        }
        const now = objects.get(key);
        if (etag === null ? now !== undefined : String(now?.version) !== etag) return Promise.resolve(false);
        objects.set(key, { value, version: ++versions });
        return Promise.resolve(true);
      },
      remove: (key) => {
        objects.delete(key);
        return Promise.resolve();
      },
    };
    const err = await failureOf(countFactsWith(io, [{ figures: 'sent', id: 'F-1', day: '2026-11-25' }]));
    expectBusyReply(err);
    expect([...objects.keys()].filter((k) => k.startsWith('stats/facts/'))).toEqual([]);
  });

  it('a staff user changed by another admin at every attempt (updateStaffUser)', async () => {
    const users = new MemoryStaffRecords();
    const deps = {
      users,
      country: 'US' as const,
      now: () => NOW.getTime(),
      hash: (p: string) => hashPassword(p, { N: 1024, r: 8, p: 1, keylen: 32 }),
    };
    const admin = { user_id: 'admin', role: 'admin' as const };
    await addStaffUser(
      deps,
      { id: 'ann', name: 'Ann', phone: '415 555 0111', role: 'staff', password: 'ann-first-passphrase' },
      admin,
      'r',
    );
    const replace = users.replaceUser.bind(users);
    let interfered = 0;
    users.replaceUser = async (user, etag) => {
      const other = await users.getUser(user.id);
      if (other) {
        interfered += 1;
        await replace({ ...other.value, name: `${other.value.name}.` }, other.etag);
      }
      return replace(user, etag);
    };
    const err = await failureOf(updateStaffUser(deps, { id: 'ann', disabled: true }, admin, 'r'));
    expect(interfered).toBe(10);
    expectBusyReply(err);
  });
});
