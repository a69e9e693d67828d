import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEhrEvent, type AppointmentEvent } from '../../src/domain/event';
import { LOCAL_S3_CREDENTIALS, startEmbeddedS3, type EmbeddedS3 } from '../../src/local/s3/embedded-s3';
import { S3AppointmentStore } from '../../src/storage/s3-appointment-store';
import { createS3Client } from '../../src/storage/s3-client';
import { fileChanges } from '../../src/use-cases/file-changes';
import type { FlowStarter } from '../../src/messaging/flow-starter';
import { recordEvent, recordEvents } from '../../src/use-cases/record-event';
import { sendMessagesForEvents } from '../../src/use-cases/send-messages';
import { updateState } from '../../src/use-cases/update-state';
import { ehrEvent } from '../fixtures/events';
import { started } from '../support/started';

/*
 * What the admin listing index costs in S3 requests, counted on the wire to the embedded S3
 * server: per event recorded, and per page listed. The figures are in docs/admin-appointments.md.
 */
let s3: EmbeddedS3;
let client: S3Client;
let store: S3AppointmentStore;
let dir: string;
const requests: { command: string; key: string }[] = [];
const policy = { firstLeadMinutes: 2880, secondLeadMinutes: 1440, outreachStartMinutes: 0, outreachFinishMinutes: 1440 };

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pam-cost-'));
  s3 = await startEmbeddedS3({ directory: dir, buckets: ['cost'] });
  client = createS3Client({ region: 'us-east-1', endpoint: s3.endpoint, credentials: LOCAL_S3_CREDENTIALS });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Key?: string; Prefix?: string };
      requests.push({ command: context.commandName ?? '?', key: input.Key ?? input.Prefix ?? '' });
      return next(args);
    },
    { step: 'initialize' },
  );
  store = new S3AppointmentStore(client, 'cost');
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

/** The requests `task` sends: all of them, and those to the listing index. */
async function counted(task: () => Promise<unknown>): Promise<{ total: number; index: string[] }> {
  requests.length = 0;
  await task();
  const index = requests
    .filter((r) => r.key.startsWith('index/by-') || r.key.startsWith('index/name/'))
    .map((r) => `${r.command.replace('ObjectCommand', '').replace('Command', '')} ${r.key.split('/')[1]}`);
  return { total: requests.length, index: index.sort() };
}

describe('listing index cost in S3 requests', () => {
  const deps = () => ({ store, policy, now: () => new Date('2026-11-25T16:00:00Z') });

  it('a new booking writes one entry per order and one per name word; a change that moves it, 2 PUTs and one DeleteObjects', async () => {
    const booked = await counted(() =>
      recordEvent(deps(), event({ appointment_id: 'COST-1', patient_first_name: 'Ana', patient_last_name: 'Lee' })),
    );
    expect(booked.index).toEqual(['Put by-change', 'Put by-time', 'Put name', 'Put name']);

    const confirm = event({
      appointment_id: 'COST-1',
      patient_first_name: 'Ana',
      patient_last_name: 'Lee',
      event_type: 'CONFIRMED',
      event_datetime_utc: '2026-11-25T10:00:00Z',
    });
    const confirmed = await counted(() => recordEvent(deps(), confirm));
    expect(confirmed.index).toEqual(['Put by-change', 'Put by-time']);
    // Both replaced entries go in one DeleteObjects (its keys are in the body, not counted above).
    expect(requests.filter((r) => r.command === 'DeleteObjectsCommand')).toHaveLength(1);
    const left = await client.send(new ListObjectsV2Command({ Bucket: 'cost', Prefix: 'index/by-' }));
    expect((left.Contents ?? []).map((o) => o.Key?.split('.')[4])).toEqual(['CONFIRMED', 'CONFIRMED']);

    // The same event delivered again.
    const again = await counted(() => recordEvent(deps(), confirm));
    expect(again.index).toEqual([]);
  });

  it('a state write that changes nothing listed (a text marked sent, a skip recorded) costs no index request', async () => {
    const bookkeeping = await counted(() =>
      updateState(store, 'COST-1', (s) => ({ ...s, revision: s.revision + 1, updated_at: '2026-11-25T16:00:05.000Z' }), deps()),
    );
    expect(bookkeeping.index).toEqual([]);
    expect(bookkeeping.total).toBe(2);
  });

  it('a page of n rows is one LIST plus n GETs when every entry matches', async () => {
    for (let i = 2; i <= 6; i += 1) await recordEvent(deps(), event({ appointment_id: `COST-${i}` }));
    const page = await counted(() => store.listIndexed({ order: 'time', filter: {}, limit: 4 }));
    expect(requests.filter((r) => r.command === 'ListObjectsV2Command')).toHaveLength(1);
    expect(requests.filter((r) => r.command === 'GetObjectCommand')).toHaveLength(4);
    expect(page.total).toBe(5);
  });

  // With the text's markSent write, the HTTP path's 5 (npm run bench counts it at the server).
  it('the intake (filing deferred) sends 4 requests for a new booking and 4 for a change, none to an index; the filer files both', async () => {
    const intake = () => ({ ...deps(), defer: true });
    const ops = () =>
      requests.map(
        (r) => `${r.command.replace('ObjectCommand', '').replace('Command', '')} ${r.key.split('/')[0]}/${r.key.split('/')[1] ?? ''}`,
      );
    await counted(() => recordEvent(intake(), event({ appointment_id: 'COST-D', patient_phone: '(415) 555-0199' })));
    expect(ops().sort()).toEqual(
      ['Get optouts/KzE0MTU1NTUwMTk5.json', 'Put appointments/Q09TVC1E', 'Put appointments/Q09TVC1E', 'Put index/changes'].sort(),
    );
    await counted(() =>
      recordEvent(
        intake(),
        event({
          appointment_id: 'COST-D',
          patient_phone: '(415) 555-0199',
          event_type: 'CONFIRMED',
          event_datetime_utc: '2026-11-25T10:00:00Z',
        }),
      ),
    );
    expect(ops().sort()).toEqual(
      ['Get appointments/Q09TVC1E', 'Put appointments/Q09TVC1E', 'Put appointments/Q09TVC1E', 'Put index/changes'].sort(),
    );
    // Not in the admin list yet; the filer (the sweep, or the list itself before it reads) files it.
    const before = await store.listIndexed({ order: 'time', filter: {}, limit: 50 });
    expect(before.appointments.map((a) => a.facts.appointment_id)).not.toContain('COST-D');
    // Its text was claimed and never sent here: the filer waits for the claim's lease to run out.
    const later = () => ({ ...deps(), now: () => new Date('2026-11-25T16:10:00Z') });
    expect(await fileChanges(later())).toMatchObject({ filed: 1, failed: 0 });
    const after = await store.listIndexed({ order: 'time', filter: {}, limit: 50 });
    expect(after.appointments.find((a) => a.facts.appointment_id === 'COST-D')?.disposition).toBe('CONFIRMED');
    expect(await store.listChanges(10)).toEqual([]);
  });

  it('a change that claims a text of its own, sent: 5 requests with the "sent" write, one change marker', async () => {
    const flows: FlowStarter = {
      start: async () => ({ kind: 'started', executionSid: `FN${'1'.repeat(32)}` }),
      wasStarted: async () => false,
    };
    const intake = () => ({ ...deps(), defer: true, flows });
    const send = async (e: AppointmentEvent) => {
      const results = await recordEvents(intake(), [e]);
      await sendMessagesForEvents(intake(), results, [e]);
    };
    await send(event({ appointment_id: 'COST-E', patient_phone: '(415) 555-0198' }));
    const moved = await counted(() =>
      send(
        event({
          appointment_id: 'COST-E',
          patient_phone: '(415) 555-0198',
          event_type: 'MODIFIED',
          appointment_location: 'Suite 300',
          event_datetime_utc: '2026-11-25T10:00:00Z',
        }),
      ),
    );
    expect(moved.total).toBe(5);
    expect(requests.filter((r) => r.key.startsWith('index/'))).toHaveLength(1);
  });
});
