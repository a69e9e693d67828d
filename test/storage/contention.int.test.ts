import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttemptLimiter } from '../../src/admin/rate-limit';
import { addStaffUser, changeOwnPassword, updateStaffUser } from '../../src/admin/staff-users';
import { hashPassword } from '../../src/admin/passwords';
import { parseEhrEvent, type AppointmentEvent } from '../../src/domain/event';
import { BusyError } from '../../src/domain/errors';
import { handleIntake } from '../../src/http/intake';
import { LOCAL_S3_CREDENTIALS } from '../../src/local/s3/embedded-s3';
import { startS3Server, type S3Server } from '../../src/local/s3/s3-server';
import type { AppointmentStore } from '../../src/storage/appointment-store';
import { DAILY_FIGURES_PREFIX, INBOX_ITEMS_PREFIX, STAFF_USERS_PREFIX, stateKey, staffUserKey } from '../../src/storage/keys';
import { MemoryStaffRecords } from '../../src/storage/memory-staff-records';
import { S3StaffRecords } from '../../src/storage/s3-staff-records';
import type { StaffRecords } from '../../src/admin/staff-records';
import { MemoryAppointmentStore } from '../../src/storage/memory-appointment-store';
import { S3AdminStore } from '../../src/storage/s3-admin-store';
import { S3AppointmentStore } from '../../src/storage/s3-appointment-store';
import { createS3Client } from '../../src/storage/s3-client';
import { recordEvent } from '../../src/use-cases/record-event';
import { commitState } from '../../src/use-cases/update-state';
import { ehrEvent } from '../fixtures/events';
import { FIXTURE_NOW } from '../fixtures/time';

/*
 * Every compare-and-set loop, made to lose every round for real: another writer rewrites the
 * object between the loop's read and its conditional write (a new ETag, the same content), so
 * the loop runs out of attempts. The outcome must be the one `busy` error (503, Retry-After,
 * retryable), never a plain Error that would answer 500 and tell an engine not to resend.
 */

type Contended = ((key: string) => boolean) | null;

interface Rig {
  store: AppointmentStore;
  /** Staff users, in their own store, contended by the same switch. */
  users: StaffRecords;
  /** From now on, writes to the keys `which` accepts always lose; null: no contention. */
  contend(which: Contended): void;
}

const policy = { firstLeadMinutes: 2880, secondLeadMinutes: 1440, outreachStartMinutes: 0, outreachFinishMinutes: 1440 };
const noSleep = () => Promise.resolve();
const FAST = (password: string) => hashPassword(password, { N: 1024, r: 8, p: 1, keylen: 32 });
const ADMIN = { user_id: 'admin', role: 'admin' as const };
const PRIVATE = ['0134', 'Zoë', 'Connor', 'APT-', 'Ann Example', '555'];

let server: S3Server;
let dir: string;
let plain: S3Client;
let buckets = 0;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pam-contention-'));
  server = await startS3Server({ directory: dir, credentials: LOCAL_S3_CREDENTIALS });
  plain = s3Client();
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function s3Client(): S3Client {
  return createS3Client({ region: 'us-east-1', endpoint: server.endpoint, credentials: LOCAL_S3_CREDENTIALS });
}

async function freshBucket(): Promise<string> {
  buckets += 1;
  const bucket = `contention-${buckets}`;
  await plain.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

/**
 * A client whose conditional PUTs to contended keys are each preceded by another writer's PUT to
 * the same key, through a second client: the object as stored plus a trailing space (the same JSON,
 * another ETag), or the value about to be written when there is none yet.
 */
function contendedClient(which: () => Contended): S3Client {
  const client = s3Client();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Bucket?: string; Key?: string; Body?: unknown; IfMatch?: string; IfNoneMatch?: string };
      const conditional = input.IfMatch !== undefined || input.IfNoneMatch !== undefined;
      if (context.commandName === 'PutObjectCommand' && conditional && input.Key && which()?.(input.Key)) {
        const rival = await plain
          .send(new GetObjectCommand({ Bucket: input.Bucket, Key: input.Key }))
          .then(async (res) => `${(await res.Body?.transformToString('utf-8')) ?? ''} `)
          .catch((err: { name?: string }) => {
            if (err.name !== 'NoSuchKey') throw err;
            return String(input.Body);
          });
        await plain.send(new PutObjectCommand({ Bucket: input.Bucket, Key: input.Key, Body: rival, ContentType: 'application/json' }));
      }
      return next(args);
    },
    { step: 'initialize' },
  );
  return client;
}

/**
 * Memory staff records whose every replace of a contended user's record is preceded by another
 * admin's write of that user (the same record, a new version), so it always loses.
 */
function contendedUsers(which: () => Contended): StaffRecords {
  const users = new MemoryStaffRecords();
  const replace = users.replaceUser.bind(users);
  users.replaceUser = async (user, etag) => {
    const other = await users.getUser(user.id);
    if (other && which()?.(staffUserKey(user.id))) await replace(other.value, other.etag);
    return replace(user, etag);
  };
  return users;
}

const adapters: [string, () => Promise<Rig>][] = [
  [
    'MemoryAppointmentStore',
    () => {
      let which: Contended = null;
      const store = new MemoryAppointmentStore({ contended: (key) => which?.(key) ?? false });
      return Promise.resolve({ store, users: contendedUsers(() => which), contend: (w: Contended) => (which = w) });
    },
  ],
  [
    'S3AppointmentStore',
    async () => {
      let which: Contended = null;
      const client = contendedClient(() => which);
      const bucket = await freshBucket();
      return {
        store: new S3AppointmentStore(client, bucket),
        users: new S3StaffRecords(client, bucket),
        contend: (w: Contended) => (which = w),
      };
    },
  ],
];

function event(overrides: Record<string, unknown> = {}): AppointmentEvent {
  const parsed = parseEhrEvent(ehrEvent(overrides), { defaultCountry: 'US' });
  if (!parsed.ok) throw new Error('fixture');
  return parsed.event;
}

const confirmed = (id: string) => event({ appointment_id: id, event_type: 'CONFIRMED', event_datetime_utc: '2026-11-25T10:00:00Z' });

function deps(store: AppointmentStore) {
  return { store, policy, now: () => new Date(FIXTURE_NOW), sleep: noSleep };
}

async function rejection(task: Promise<unknown>): Promise<unknown> {
  return task.then(
    () => {
      throw new Error('expected the call to give up');
    },
    (err: unknown) => err,
  );
}

function expectBusy(err: unknown, attempts: number): void {
  expect(err).toBeInstanceOf(BusyError);
  expect(err).toMatchObject({ code: 'busy', retryable: true, attempts });
  for (const value of PRIVATE) expect((err as Error).message).not.toContain(value);
}

/** The reply an integration engine or the admin page gets: 503, Retry-After and retryable, no stack. */
function expectBusyReply(reply: { status: number; headers?: Record<string, string>; body: unknown }): void {
  expect(reply.status).toBe(503);
  expect(reply.headers?.['Retry-After']).toMatch(/^[1-9]\d*$/);
  expect(reply.body).toMatchObject({ error: { code: 'busy', retryable: true } });
  const text = JSON.stringify(reply.body);
  expect(text).not.toMatch(/\n\s+at |\.ts:\d+/);
  for (const value of PRIVATE) expect(text).not.toContain(value);
}

describe.each(adapters)('contention on %s', (_name, rig) => {
  it('recordEvent gives up with busy when the state keeps changing, and records the event once it stops', async () => {
    const { store, contend } = await rig();
    await recordEvent(deps(store), event({ appointment_id: 'APT-1' }));
    const before = (await store.getState('APT-1'))?.value;
    contend((key) => key === stateKey('APT-1'));
    expectBusy(await rejection(recordEvent(deps(store), confirmed('APT-1'))), 200);
    expect((await store.getState('APT-1'))?.value).toEqual(before);
    contend(null);
    expect(await recordEvent(deps(store), confirmed('APT-1'))).toMatchObject({ outcome: 'applied' });
  });

  it('commitState gives up with busy after its attempts, leaving the state as it was', async () => {
    const { store, contend } = await rig();
    await recordEvent(deps(store), event({ appointment_id: 'APT-2' }));
    const before = (await store.getState('APT-2'))?.value.revision;
    contend((key) => key === stateKey('APT-2'));
    const bump = (s: Parameters<Parameters<typeof commitState>[2]>[0]) => ({ ...s, revision: s.revision + 1 });
    expectBusy(await rejection(commitState(store, 'APT-2', bump, deps(store), { attempts: 4 })), 4);
    expect((await store.getState('APT-2'))?.value.revision).toBe(before);
  });

  it('an inbox item that keeps changing: adding or settling a reply, or marking it done, gives up with busy', async () => {
    const { store, contend } = await rig();
    const at = '2026-11-25T15:00:00.000Z';
    await store.putInboxItem({ message_sid: `SM${'a'.repeat(32)}`, phone: '+14155550134', body: 'Zoë here', intent: 'unclear', at });
    const [item] = await store.listInbox(1);
    const id = item?.id ?? '';
    contend((key) => key.startsWith(INBOX_ITEMS_PREFIX));
    const reply = { id: 'r-1', at, by: 'ann', status: 'sending' as const };
    expectBusy(await rejection(store.addInboxReply(id, reply)), 10);
    expectBusy(await rejection(store.settleInboxReply(id, 'r-1', { status: 'sent' }, at)), 10);
    expectBusy(await rejection(store.markInboxDone(id, at)), 10);
    contend(null);
    expect(await store.addInboxReply(id, reply)).toBe('added');
  });

  it("the day's figures that keep changing give up with busy, and leave the fact to be counted by a retry", async () => {
    const { store, contend } = await rig();
    const fact = { figures: ['sent' as const], id: 'fact-1', day: '2026-11-25' };
    contend((key) => key.startsWith(DAILY_FIGURES_PREFIX));
    expectBusy(await rejection(store.countFacts([fact])), 40);
    contend(null);
    expect(await store.countFacts([fact])).toBe(1);
    expect(await store.countFacts([fact])).toBe(0);
  });

  it('a staff user that keeps changing: the admin gets 503 busy, with Retry-After, retryable', async () => {
    const { users, contend } = await rig();
    const admin = { users, country: 'US' as const, now: () => FIXTURE_NOW, hash: FAST };
    const ann = { id: 'ann', name: 'Ann Example', phone: '415 555 0111', role: 'staff', password: 'ann-first-passphrase' };
    expect((await addStaffUser(admin, ann, ADMIN, 'r')).reply.status).toBe(201);
    contend((key) => key.startsWith(STAFF_USERS_PREFIX));
    const changed = await updateStaffUser(admin, { id: 'ann', role: 'admin' }, ADMIN, 'r');
    expectBusyReply(changed.reply);
    expect(changed.changes).toBeUndefined();
    const own = await changeOwnPassword(
      admin,
      { current_password: 'ann-first-passphrase', new_password: 'ann-second-passphrase' },
      { user_id: 'ann', role: 'staff' },
      'r',
    );
    expectBusyReply(own.reply);
    expect(own.changed).toBe(false);
    expect((await users.getUser('ann'))?.value).toMatchObject({ role: 'staff', session_version: 1 });
  });

  it('POST /ehr/events on an appointment that keeps changing answers 503 busy with Retry-After', async () => {
    const { store, contend } = await rig();
    const KEY = 'k'.repeat(32);
    const intake = { apiKey: KEY, defaultCountry: 'US' as const, record: deps(store) };
    const post = (body: unknown) =>
      handleIntake({ method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body }, intake, 'r');
    expect((await post(ehrEvent({ appointment_id: 'APT-3' }))).status).toBe(202);
    contend((key) => key === stateKey('APT-3'));
    expectBusyReply(await post(ehrEvent({ appointment_id: 'APT-3', event_type: 'CONFIRMED', event_datetime_utc: '2026-11-25T10:00:00Z' })));
  });
});

describe('contention on S3AdminStore (the admin attempt limits)', () => {
  it('an attempt log that keeps changing gives up with busy, and a login attempt is refused as busy, not as a bug', async () => {
    let which: Contended = null;
    const admin = new S3AdminStore(
      contendedClient(() => which),
      await freshBucket(),
      noSleep,
    );
    const limiter = new AttemptLimiter(admin);
    expect(await limiter.reserve('password', 'client-1', FIXTURE_NOW)).toMatchObject({ ok: true });
    which = (key) => key.startsWith('admin/attempts/');
    expectBusy(await rejection(limiter.reserve('password', 'client-1', FIXTURE_NOW)), 30);
    which = null;
    expect(await limiter.reserve('password', 'client-1', FIXTURE_NOW)).toMatchObject({ ok: true });
  });
});
