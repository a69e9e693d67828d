import { createHash } from 'node:crypto';
import { truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { objectFile } from '../src/local/s3/object-files';
import { historyPrefix, stateKey } from '../src/storage/keys';
import { ehrEvent } from './fixtures/events';
import { HOUR, utcAt } from './fixtures/time';
import { adminApi } from './support/admin';
import { startTestStack, type TestStack } from './support/local-stack';
import { started } from './support/started';

/**
 * A record damaged on disk (however it got there) fails for that record only: the admin table,
 * the CSV export and intake for every other appointment go on working, and the logs name the
 * record by id, never by what it holds.
 */
let t: TestStack;
let token: string;
const logged: string[] = [];
const ids = ['APT-dmg-1', 'APT-dmg-2', 'APT-dmg-3', 'APT-dmg-4'];

beforeAll(async () => {
  t = await startTestStack();
  token = await adminApi(t).login();
  for (const [i, id] of ids.entries()) await t.postEvents(ehrEvent({ appointment_id: id, patient_phone: `(415) 555-01${40 + i}` }));
  // The records are damaged once they are filed (the list files what the intake left): as one
  // damaged on disk long after it was written.
  expect((await adminApi(t).call('appointments', { token, query: { limit: '50' } })).json.appointments).toHaveLength(4);
  const s3Dir = path.join(t.dataDir, 's3');
  truncateSync(objectFile(s3Dir, t.stack.bucket, stateKey('APT-dmg-2')), 0);
  // A well-formed object whose content is not an appointment state (the store cannot parse it).
  const history = (await t.listKeys(historyPrefix('APT-dmg-3')))[0] as string;
  writeFileSync(
    objectFile(s3Dir, t.stack.bucket, stateKey('APT-dmg-3')),
    `${JSON.stringify({ key: stateKey('APT-dmg-3'), etag: createHash('md5').update('{}').digest('hex'), size: 2, contentType: 'application/json', modified: new Date().toISOString(), meta: {} })}\n{}`,
  );
  truncateSync(objectFile(s3Dir, t.stack.bucket, history), 10);
  const original = console.error.bind(console);
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    logged.push(args.map(String).join(' '));
    original(...args);
  });
});
afterAll(async () => {
  vi.restoreAllMocks();
  await started(t)?.stop();
});

describe('a damaged record', () => {
  it('is left out of the admin table, which lists the others and names it unreadable', async () => {
    const page = await adminApi(t).call('appointments', { token, query: { limit: '50' } });
    expect(page.status).toBe(200);
    expect(page.json.appointments.map((a: { appointment_id: string }) => a.appointment_id).sort()).toEqual(['APT-dmg-1', 'APT-dmg-4']);
    expect(page.json.unreadable).toEqual(['APT-dmg-2', 'APT-dmg-3']);
  });

  it('does not stop the CSV export of appointments or of history', async () => {
    const appointments = await adminApi(t).call('export', { token, query: { table: 'appointments' } });
    expect(appointments.status).toBe(200);
    expect(appointments.json.rows).toBe(2);
    expect(appointments.json.unreadable).toEqual(['APT-dmg-2', 'APT-dmg-3']);
    const history = await adminApi(t).call('export', { token, query: { table: 'history' } });
    expect(history.status).toBe(200);
    expect(history.json.csv).toContain('APT-dmg-1');
    expect(history.json.csv).toContain('APT-dmg-4');
  });

  it('fails intake for its own appointment only', async () => {
    const hit = await t.postEvents(
      ehrEvent({ appointment_id: 'APT-dmg-2', event_type: 'CONFIRMED', event_datetime_utc: utcAt(-7 * HOUR) }),
    );
    expect(hit.status).toBe(503);
    const other = await t.postEvents(
      ehrEvent({ appointment_id: 'APT-dmg-1', event_type: 'CONFIRMED', event_datetime_utc: utcAt(-7 * HOUR) }),
    );
    expect(other.status).toBe(202);
    expect(other.json.results[0]).toMatchObject({ outcome: 'applied', disposition: 'CONFIRMED' });
  });

  it('answers intake for a state that is not what we wrote 500 damaged-record (not retryable), with a request id and no stack', async () => {
    const hit = await t.postEvents(
      ehrEvent({ appointment_id: 'APT-dmg-3', event_type: 'CONFIRMED', event_datetime_utc: utcAt(-7 * HOUR) }),
    );
    expect(hit.status).toBe(500);
    expect(hit.json.error).toMatchObject({ code: 'damaged-record', retryable: false, request_id: expect.any(String) });
    expect(JSON.stringify(hit.json)).not.toMatch(/\bat \S+ \(|\.ts:\d+|Zoë|\+1415555|\(415\) 555/);
  });

  it('is logged by appointment id, without patient data', () => {
    const lines = logged.filter((l) => l.includes('unreadable'));
    for (const id of ['APT-dmg-2', 'APT-dmg-3']) expect(lines.some((l) => l.includes(`"appointment_id":"${id}"`))).toBe(true);
    for (const l of lines) expect(l).not.toMatch(/Zoë|O'Connor|\+1415555|\(415\) 555/);
  });
});
