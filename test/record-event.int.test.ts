import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppointmentState } from '../src/domain/appointment';
import { parseEhrEvent, type AppointmentEvent } from '../src/domain/event';
import { LOCAL_S3_CREDENTIALS, startEmbeddedS3, type EmbeddedS3 } from '../src/local/s3/embedded-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { S3AppointmentStore } from '../src/storage/s3-appointment-store';
import { createS3Client } from '../src/storage/s3-client';
import { recordEvent } from '../src/use-cases/record-event';
import { ehrEvent } from './fixtures/events';
import { started } from './support/started';

let s3: EmbeddedS3;
let store: S3AppointmentStore;
let client: S3Client;
let dir: string;
const policy = { firstLeadMinutes: 2880, secondLeadMinutes: 1440, outreachStartMinutes: 0, outreachFinishMinutes: 1440 };

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pam-rec-'));
  s3 = await startEmbeddedS3({ directory: dir, buckets: ['rec'] });
  client = createS3Client({ region: 'us-east-1', endpoint: s3.endpoint, credentials: LOCAL_S3_CREDENTIALS });
  store = new S3AppointmentStore(client, 'rec');
});
afterAll(async () => {
  await started(s3)?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function event(overrides: Record<string, unknown>): AppointmentEvent {
  const r = parseEhrEvent(ehrEvent(overrides), { defaultCountry: 'US' });
  if (!r.ok) throw new Error('fixture');
  return r.event;
}

/** The real store, made to fail the next state write: a crash between history and state. */
class FailingStateWrites extends S3AppointmentStore {
  failures = 1;
  override writeState(state: AppointmentState, etag: string | null) {
    if (this.failures > 0) {
      this.failures -= 1;
      return Promise.reject(new Error('simulated crash'));
    }
    return super.writeState(state, etag);
  }
}

/** The real store, noting when a due-index write has finished and when a state write begins. */
class RecordingWrites extends S3AppointmentStore {
  writes: string[] = [];
  override async putDueEntry(entry: Parameters<S3AppointmentStore['putDueEntry']>[0]) {
    await super.putDueEntry(entry);
    this.writes.push(`due ${entry.appointment_id}`);
  }
  override writeState(state: AppointmentState, etag: string | null) {
    this.writes.push(`state ${state.facts.appointment_id}`);
    return super.writeState(state, etag);
  }
}

describe('recordEvent', () => {
  it('keeps the previous state when the state write fails, and applies the event on redelivery', async () => {
    const deps = { store, policy, now: () => new Date('2026-11-25T08:30:00Z') };
    await recordEvent(deps, event({ appointment_id: 'APT-crash' }));
    const faulty = new FailingStateWrites(client, 'rec');
    const cancel = event({ appointment_id: 'APT-crash', event_type: 'CANCELED', event_datetime_utc: '2026-11-25T09:00:00Z' });
    await expect(recordEvent({ ...deps, store: faulty }, cancel)).rejects.toThrow('simulated crash');
    expect((await store.getState('APT-crash'))?.value.disposition).toBe('QUEUED');
    expect(await store.listHistory('APT-crash')).toHaveLength(2);
    const again = await recordEvent({ ...deps, store: faulty }, cancel);
    expect(again).toMatchObject({ outcome: 'applied', duplicate: false, disposition: 'CANCELED' });
  });

  it('writes the due-index entry before the state, so a crash between them cannot lose the appointment', async () => {
    const now = () => new Date('2026-11-25T08:30:00Z');
    const recording = new RecordingWrites(client, 'rec');
    await recordEvent(
      { store: recording, policy, now },
      event({ appointment_id: 'APT-order', appointment_datetime: '2026-12-10T09:30:00' }),
    );
    expect(recording.writes.filter((w) => w.endsWith(' APT-order'))).toEqual(['due APT-order', 'state APT-order']);

    // A crash at the state write finds the entry already written. An entry without a state is
    // harmless (the sweep drops it); the other order could leave a state no sweep ever looks at.
    const crashing = new FailingStateWrites(client, 'rec');
    await expect(
      recordEvent(
        { store: crashing, policy, now },
        event({ appointment_id: 'APT-crash-due', appointment_datetime: '2026-12-10T09:30:00' }),
      ),
    ).rejects.toThrow('simulated crash');
    expect(await store.getState('APT-crash-due')).toBeNull();
    const left = [];
    for await (const e of store.listDueEntries('2026-12-31T00:00:00.000Z'))
      if (e.appointment_id === 'APT-crash-due') left.push(e.appointment_id);
    expect(left).toEqual(['APT-crash-due']);
  });

  it("leaves one due-index entry, for the booking text's lease, after recording a booking", async () => {
    const deps = { store, policy, now: () => new Date('2026-11-25T08:30:00Z') };
    await recordEvent(deps, event({ appointment_id: 'APT-due', appointment_datetime: '2026-12-10T09:30:00' }));
    const due = [];
    for await (const e of store.listDueEntries('2026-12-31T00:00:00.000Z')) if (e.appointment_id === 'APT-due') due.push(e);
    expect(due).toHaveLength(1);
    // The booking text is claimed with the state but not sent here: the entry is for when its lease
    // runs out, so a sweep finishes the text if the dispatcher died; then it moves to the reminder.
    expect(due[0]?.slot).toBe('2026-11-25T08');
    expect((await store.getState('APT-due'))?.value.outbox?.sending?.lease_until).toBe('2026-11-25T08:32:00.000Z');
  });
});
