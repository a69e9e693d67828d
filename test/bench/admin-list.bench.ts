// npm run bench:admin — seeds the local stack's embedded S3 with N stored appointments (state and
// listing-index entries written through the S3 adapter, in bounded parallel batches) and times
// filtered pages of GET /admin/appointments through the real admin HTTP API, printing p50/p95 per
// query. N=100000 by default (N, RUNS to change). Nothing is texted: the seeding bypasses the intake.
import { listedOf } from '../../src/domain/filing';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { issueToken } from '../../src/admin/tokens';
import { applyEvent, type AppointmentState } from '../../src/domain/appointment';
import { parseEhrEvent } from '../../src/domain/event';
import { LOCAL_S3_CREDENTIALS } from '../../src/local/s3/embedded-s3';
import { startLocalStack } from '../../src/local/stack';
import { setLogSink } from '../../src/log';
import { S3AppointmentStore } from '../../src/storage/s3-appointment-store';
import { createS3Client } from '../../src/storage/s3-client';
import { buildService, ROOT } from '../../scripts/lib/build-service';
import { ehrEvent } from '../fixtures/events';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
setLogSink(() => undefined, 'error');

const N = Number(process.env.N ?? 100_000);
const RUNS = Number(process.env.RUNS ?? 30);
const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-25T16:00:00Z');
const FIRST = ['Ana', 'Zoë', 'Omar', 'Mei', 'Lars', 'Priya', 'Kofi', 'Sven', 'Aiko', 'Diego', 'Fatima', 'Noah'];
const LAST = ['Lee', 'Nuñez', 'Haddad', 'Chen', 'Berg', 'Rao', 'Mensah', 'Olsen', 'Sato', 'Ruiz', 'Khan', 'Smith'];
const LOCATIONS = ['North Clinic', 'South Clinic', 'East Wing', 'West Annex', 'Downtown'];

/** A well-mixed 32-bit hash (murmur3's finaliser), so the attributes below are independent of each other. */
function mix(i: number, salt: number): number {
  let x = (i * 8 + salt + 0x9e3779b9) >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

function appointment(i: number): AppointmentState {
  // Spread over 60 days from tomorrow, at quarter hours between 08:00 and 17:45 Los Angeles time.
  const day = 1 + (mix(i, 1) % 60);
  const minutes = 8 * 60 + (mix(i, 2) % 40) * 15;
  const at = new Date(T0 + day * 24 * HOUR);
  const local = `${at.toISOString().slice(0, 10)}T${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}:00`;
  const facts = {
    appointment_id: `BENCH-${String(i).padStart(6, '0')}`,
    patient_id: `P-${i}`,
    patient_first_name: FIRST[mix(i, 7) % FIRST.length],
    patient_last_name: `${LAST[mix(i, 0) % LAST.length]}${i % 97}`,
    patient_phone: `+1415${String(2000000 + i).padStart(7, '0')}`,
    appointment_location: LOCATIONS[mix(i, 3) % LOCATIONS.length],
    provider_id: `D-${mix(i, 4) % 10}`,
    appointment_datetime: local,
    appointment_timezone: 'America/Los_Angeles',
    event_datetime_utc: new Date(T0 - 24 * HOUR + i).toISOString(),
  };
  const r = parseEhrEvent(ehrEvent(facts), { defaultCountry: 'US' });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  let o = applyEvent(null, r.event, new Date(T0).toISOString());
  if (o.kind !== 'applied') throw new Error('seed');
  // One in ten confirmed by the EHR; one in two hundred at a number that cannot take texts.
  if (mix(i, 5) % 10 === 3) {
    const c = parseEhrEvent(ehrEvent({ ...facts, event_type: 'CONFIRMED', event_datetime_utc: new Date(T0 - HOUR + i).toISOString() }), {
      defaultCountry: 'US',
    });
    if (!c.ok) throw new Error('seed');
    o = applyEvent(o.state, c.event, new Date(T0).toISOString());
    if (o.kind !== 'applied') throw new Error('seed');
  }
  const state = o.state;
  return mix(i, 6) % 200 === 7
    ? {
        ...state,
        undeliverable: {
          phone: state.facts.patient_phone,
          error_code: '30006',
          at: new Date(T0).toISOString(),
          message_sid: `SM${String(i).padStart(32, '0')}`,
        },
      }
    : state;
}

async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < items.length; i = next++) await fn(items[i] as T);
    }),
  );
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;

async function main() {
  mkdirSync(path.join(ROOT, 'build'), { recursive: true });
  const serviceDir = mkdtempSync(path.join(ROOT, 'build', 'bench-service-'));
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pam-admin-bench-'));
  await buildService(serviceDir);
  const stack = await startLocalStack({ dataDir, serviceDir, port: 0, env: { SWEEP_INTERVAL_SECONDS: '0' }, clockStart: T0 });
  try {
    const client = createS3Client({ region: 'us-east-1', endpoint: stack.s3.endpoint, credentials: LOCAL_S3_CREDENTIALS, maxSockets: 64 });
    const store = new S3AppointmentStore(client, stack.bucket);
    console.log(
      `admin list benchmark: N=${N} stored appointments, ${RUNS} requests per query; ${os.cpus().length} CPUs, node ${process.version}`,
    );
    const seeded = Date.now();
    await pool(
      Array.from({ length: N }, (_, i) => i),
      48,
      async (i) => {
        const state = appointment(i);
        await store.putListing(listedOf(state), null);
        await store.writeState(state, null);
      },
    );
    console.log(`seeded ${N} appointments (state + 2 order entries + name words each) in ${((Date.now() - seeded) / 1000).toFixed(0)} s`);

    const token = issueToken(stack.env.SESSION_SECRET ?? '', 'session', Date.now()).token;
    const get = async (query: Record<string, string>) => {
      const started = performance.now();
      const res = await fetch(`${stack.url}/admin/appointments?${new URLSearchParams(query).toString()}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const json = (await res.json()) as { appointments: unknown[]; cursor?: string; scanned: number };
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      return { ms: performance.now() - started, rows: json.appointments.length, cursor: json.cursor, scanned: json.scanned };
    };
    // Page 5 of the default view: the cursor of page 4, fetched once.
    let cursor: string | undefined;
    for (let p = 1; p < 5; p += 1) cursor = (await get({ limit: '25', ...(cursor ? { cursor } : {}) })).cursor;
    const queries: [string, Record<string, string>][] = [
      ['all, by appointment time (page 1)', {}],
      ['all, page 5 (cursor)', { cursor: cursor ?? '' }],
      ['next 7 days', { range: 'week' }],
      ['custom range, 10 days out', { from: '2026-12-05', to: '2026-12-14' }],
      ['disposition CONFIRMED (10%)', { disposition: 'CONFIRMED' }],
      ['location + provider (2%)', { location: 'North Clinic', provider: 'D-5' }],
      ['tomorrow + provider + QUEUED', { range: 'tomorrow', provider: 'D-1', disposition: 'QUEUED' }],
      ['undeliverable (0.5%)', { attention: 'undeliverable' }],
      ['by last change', { sort: 'change' }],
      ['name search "priya ra"', { q: 'priya ra' }],
      ['appointment id search', { q: `BENCH-${String(Math.floor(N / 2)).padStart(6, '0')}` }],
    ];
    const all: number[] = [];
    console.log(`${'query'.padEnd(34)} ${'rows'.padStart(4)} ${'scanned'.padStart(7)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)}`);
    for (const [name, q] of queries) {
      const times: number[] = [];
      let last = { rows: 0, scanned: 0 };
      await get({ limit: '25', ...q });
      for (let r = 0; r < RUNS; r += 1) {
        const out = await get({ limit: '25', ...q });
        times.push(out.ms);
        last = out;
      }
      times.sort((a, b) => a - b);
      all.push(...times);
      console.log(
        `${name.padEnd(34)} ${String(last.rows).padStart(4)} ${String(last.scanned).padStart(7)} ${percentile(times, 50).toFixed(1).padStart(8)} ${percentile(times, 95).toFixed(1).padStart(8)}`,
      );
    }
    all.sort((a, b) => a - b);
    console.log(
      `all filtered pages (${all.length} requests): p50 ${percentile(all, 50).toFixed(1)} ms, p95 ${percentile(all, 95).toFixed(1)} ms`,
    );
  } finally {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(serviceDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
