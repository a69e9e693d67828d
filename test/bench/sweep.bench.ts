// npm run bench:sweep — seeds the embedded S3 with N stored appointments of which K are due and
// times the sweep, counting S3 requests; then runs a naive sweep (list every stored appointment
// and read each, as the reference app did) over the same data. N=100000, K=1000 and 10000 by
// default (N, K_SMALL, K_LARGE to change). Flow starts are counted, not sent: this measures the
// sweep and its storage, not the local Studio engine.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { applyEvent, type AppointmentState } from '../../src/domain/appointment';
import { parseEhrEvent } from '../../src/domain/event';
import { nextCheckAt, type ReminderPolicy } from '../../src/domain/reminder-plan';
import { decide } from '../../src/domain/sweep-decision';
import { LOCAL_S3_CREDENTIALS, startEmbeddedS3 } from '../../src/local/s3/embedded-s3';
import { setLogSink } from '../../src/log';
import type { FlowStarter } from '../../src/messaging/flow-starter';
import { dueKey, stateKey } from '../../src/storage/keys';
import { S3AppointmentStore } from '../../src/storage/s3-appointment-store';
import { createS3Client } from '../../src/storage/s3-client';
import { runSweep } from '../../src/use-cases/sweep';
import { ehrEvent } from '../fixtures/events';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
setLogSink(() => undefined, 'error');

const N = Number(process.env.N ?? 100_000);
const K_SMALL = Number(process.env.K_SMALL ?? 1_000);
const K_LARGE = Number(process.env.K_LARGE ?? 10_000);
const BUCKET = 'bench';
const HOUR = 3_600_000;
const T0 = Date.parse('2026-12-01T12:00:00Z');
const T1 = T0 + 3 * 24 * HOUR; // group A's first reminders fall due just before T1
const T2 = T1 + 2 * HOUR; // group B's just before T2
const policy: ReminderPolicy = {
  firstLeadMinutes: 48 * 60,
  secondLeadMinutes: 24 * 60,
  outreachStartMinutes: 0,
  outreachFinishMinutes: 24 * 60,
};

function counted(client: S3Client): { client: S3Client; count: () => number; reset: () => void } {
  let n = 0;
  client.middlewareStack.add(
    (next) => async (args) => {
      n += 1;
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  return { client, count: () => n, reset: () => (n = 0) };
}

function appointment(i: number, startsAt: number): AppointmentState {
  const local = new Date(startsAt - 8 * HOUR).toISOString().slice(0, 19); // Los Angeles wall time (PST)
  const r = parseEhrEvent(
    ehrEvent({
      appointment_id: `APT-${i}`,
      patient_phone: `+1415${String(2000000 + i).padStart(7, '0')}`,
      appointment_datetime: local,
      event_datetime_utc: new Date(T0).toISOString(),
    }),
    { defaultCountry: 'US' },
  );
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  const o = applyEvent(null, r.event, new Date(T0).toISOString());
  if (!o.state) throw new Error('seed');
  return o.state;
}

async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < items.length; i = next++) await fn(items[i] as T);
    }),
  );
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pam-sweep-bench-'));
  const s3 = await startEmbeddedS3({ directory: dir, buckets: [BUCKET] });
  try {
    const raw = createS3Client({ region: 'us-east-1', endpoint: s3.endpoint, credentials: LOCAL_S3_CREDENTIALS, maxSockets: 64 });
    const { client, count, reset } = counted(raw);
    const store = new S3AppointmentStore(client, BUCKET);
    console.log(
      `sweep benchmark: N=${N} stored appointments, K=${K_SMALL} and K=${K_LARGE} due; ${os.cpus().length} CPUs, node ${process.version}`,
    );

    const seedStarted = Date.now();
    const ids = Array.from({ length: N }, (_, i) => i);
    await pool(ids, 64, async (i) => {
      // Group A: first reminder due 1 min before T1; group B: 1 min before T2; the rest weeks away.
      const startsAt =
        i < K_SMALL ? T1 + 48 * HOUR - 60_000 : i < K_SMALL + K_LARGE ? T2 + 48 * HOUR - 60_000 : T2 + (10 + (i % 50)) * 24 * HOUR;
      const state = appointment(i, startsAt);
      const due = nextCheckAt(state, policy, new Date(T0).toISOString());
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: stateKey(state.facts.appointment_id), Body: JSON.stringify(state) }));
      if (due)
        await client.send(
          new PutObjectCommand({
            Bucket: BUCKET,
            Key: dueKey(due, state.facts.appointment_id),
            Body: JSON.stringify({ appointment_id: state.facts.appointment_id, due_at: due, schedule_version: 1 }),
          }),
        );
    });
    console.log(`seeded ${N} appointments (state + due-index entry each) in ${((Date.now() - seedStarted) / 1000).toFixed(0)} s`);

    // The reference app's way: list everything stored, read every appointment, decide for each.
    // Run first, on the untouched data, deciding at both sweep times.
    reset();
    const t = Date.now();
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'appointments/', ContinuationToken: token }));
      for (const o of page.Contents ?? []) if (o.Key?.endsWith('/state.json')) keys.push(o.Key);
      token = page.NextContinuationToken;
    } while (token);
    const wouldSend = [0, 0];
    await pool(keys, 32, async (key) => {
      const res = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      const state = JSON.parse((await res.Body?.transformToString()) ?? '{}') as AppointmentState;
      [T1, T2].forEach((at, i) => {
        if (decide(state, policy, new Date(at + 60_000).toISOString(), { remindersSentToday: 0 }).action === 'send')
          wouldSend[i] = (wouldSend[i] ?? 0) + 1;
      });
    });
    const naiveMs = Date.now() - t;
    const naiveRequests = count();
    console.log(
      `naive sweep (list + read all ${keys.length}):  ${(naiveMs / 1000).toFixed(1).padStart(6)} s, ${String(naiveRequests).padStart(7)} S3 requests, finds ${wouldSend.join(' / ')} due at the two sweep times`,
    );

    let started = 0;
    const flows: FlowStarter = {
      start: async () => ({ kind: 'started' as const, executionSid: `FN${String(++started).padStart(32, '0')}` }),
      wasStarted: async () => false,
    };
    const results: { k: number; ms: number; requests: number; sent: number }[] = [];
    for (const [k, at] of [
      [K_SMALL, T1 + 60_000],
      [K_LARGE, T2 + 60_000],
    ] as const) {
      reset();
      const t = Date.now();
      const counts = await runSweep({ store, flows, policy, now: () => new Date(at), ratePerSecond: 100_000, concurrency: 32 });
      const ms = Date.now() - t;
      results.push({ k, ms, requests: count(), sent: counts.sent });
      console.log(
        `indexed sweep, K=${String(k).padStart(6)}: ${(ms / 1000).toFixed(1).padStart(6)} s, ${String(count()).padStart(7)} S3 requests (${(count() / Math.max(1, counts.sent)).toFixed(1)} per reminder), sent ${counts.sent}, failed ${counts.failed}`,
      );
    }

    for (const r of results) {
      console.log(
        `  K=${r.k}: the naive sweep takes ${(naiveMs / r.ms).toFixed(1)}x the time and ${(naiveRequests / r.requests).toFixed(1)}x the S3 requests of the indexed one`,
      );
    }
  } finally {
    await s3.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
