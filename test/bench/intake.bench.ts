// npm run bench — drives the local intake endpoint with concurrent clients and prints events/s
// and latency percentiles; then replays the same use case without the Functions (storage only) to
// show how much of the cost is the embedded S3 server, and times late (out-of-order) events against
// in-order ones. S3 requests are counted, not estimated: at the embedded S3 server for the HTTP
// runs (EMBEDDED_S3_COUNT_REQUESTS, read through the server's control channel) and by a middleware
// on the bench's own S3 client for the storage-only runs. Texts left for the sweep and Studio 409s
// are counted after the HTTP runs.
// Options: EVENTS=5000 CONCURRENCY=32 LIGHT_CONCURRENCY=4 APPOINTMENTS=1000, COUNT_APPOINTMENTS=200
// (the HTTP requests-per-event pass), LATE_EVENTS=500 (the out-of-order lines). The storage-only line
// is repeated against the other embedded S3 server (EMBEDDED_S3_IMPL picks the stack's: ours by
// default, or s3rver) and against ours with fsync on, each in a fresh process and folder, so one
// run compares them; COMPARE_S3=0 skips that.
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { AppointmentState } from '../../src/domain/appointment';
import { parseEhrEvent, type AppointmentEvent } from '../../src/domain/event';
import { COUNT_REQUESTS_ENV, LOCAL_S3_CREDENTIALS, startEmbeddedS3, type EmbeddedS3Impl } from '../../src/local/s3/embedded-s3';
import { requestLabel } from '../../src/local/s3/request-label';
import { startLocalStack, type LocalStack } from '../../src/local/stack';
import { S3AppointmentStore } from '../../src/storage/s3-appointment-store';
import { createS3Client } from '../../src/storage/s3-client';
import { recordEvent, type RecordResult } from '../../src/use-cases/record-event';
import { fileChanges } from '../../src/use-cases/file-changes';
import { buildService, ROOT } from '../../scripts/lib/build-service';
import { ehrEvent } from '../fixtures/events';
import { setLogSink } from '../../src/log';
import { FIXTURE_NOW, HOUR, MINUTE, localTime, utcAt } from '../fixtures/time';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.LOG_LEVEL ??= 'warn';
// The embedded S3 child inherits the environment: it counts every request it answers.
process.env[COUNT_REQUESTS_ENV] = '1';

const EVENTS = Number(process.env.EVENTS ?? 5000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 32);
/** A second, lighter load, to show latency when the machine is not saturated. */
const LIGHT = Number(process.env.LIGHT_CONCURRENCY ?? 4);
const APPOINTMENTS = Number(process.env.APPOINTMENTS ?? 1000);
const COUNT_APPOINTMENTS = Math.min(APPOINTMENTS, Number(process.env.COUNT_APPOINTMENTS ?? 200));
const LATE_EVENTS = Math.min(APPOINTMENTS, Number(process.env.LATE_EVENTS ?? 500));
const policy = { firstLeadMinutes: 2880, secondLeadMinutes: 1440, outreachStartMinutes: 0, outreachFinishMinutes: 1440 };

// Log lines (ours and the Functions', which write warn and error lines to console.error) are
// tallied by level and message instead of printed, and summarised at the end.
const logTally = new Map<string, number>();
function tallyLogLine(line: string): boolean {
  try {
    const o = JSON.parse(line) as { level?: unknown; msg?: unknown; code?: unknown };
    if (typeof o.level !== 'string' || typeof o.msg !== 'string') return false;
    const key = `${o.level}: ${o.msg}${typeof o.code === 'string' ? ` (${o.code})` : ''}`;
    logTally.set(key, (logTally.get(key) ?? 0) + 1);
    return true;
  } catch {
    return false;
  }
}
setLogSink((line) => void tallyLogLine(line), 'warn');
const consoleError = console.error.bind(console);
console.error = (...args: unknown[]) => {
  if (args.length === 1 && typeof args[0] === 'string' && tallyLogLine(args[0])) return;
  consoleError(...args);
};

/** Each run's appointments get their own phones; every 10th appointment shares the previous one's (a family). */
const RUNS = ['warm', 'http', 'light', 'count', 'direct', 'late', 'inorder', 'compare-a', 'compare-b'];
function phoneOf(run: string, appointment: number): string {
  const family = appointment % 10 === 9 ? appointment - 1 : appointment;
  const digits = String(2_000_000 + RUNS.indexOf(run) * APPOINTMENTS + family);
  return `(415) ${digits.slice(0, 3)}-${digits.slice(3)}`;
}

const TYPES = ['BOOKED', 'MODIFIED', 'CONFIRMED', 'RESCHEDULED', 'CANCELED'];

/** `count` events over `appointments` appointments, round by round: event i is the (i / appointments)th of its appointment. */
function makeEvents(run: string, count = EVENTS, appointments = APPOINTMENTS): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => {
    const round = Math.floor(i / appointments);
    const a = i % appointments;
    return ehrEvent({
      appointment_id: `${run}-${a}`,
      patient_phone: phoneOf(run, a),
      event_type: TYPES[round % TYPES.length],
      event_datetime_utc: utcAt(-8 * HOUR + i * 1000),
      appointment_datetime: localTime(6 + (i % 27), '09:30'),
    });
  });
}

function parsed(raw: Record<string, unknown>): AppointmentEvent {
  const r = parseEhrEvent(raw, { defaultCountry: 'US' });
  if (!r.ok) throw new Error(`fixture: ${JSON.stringify(r.problems)}`);
  return r.event;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function drive(n: number, concurrency: number, one: (i: number) => Promise<void>) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) {
        const t0 = performance.now();
        await one(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { perSecond: n / seconds, seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? NaN };
}

function show(label: string, r: Awaited<ReturnType<typeof drive>>) {
  console.log(
    `${label.padEnd(40)} ${r.perSecond.toFixed(0).padStart(6)} events/s   p50 ${r.p50.toFixed(1).padStart(6)} ms   p99 ${r.p99.toFixed(1).padStart(6)} ms   max ${r.max.toFixed(0)} ms   (${r.seconds.toFixed(1)} s)`,
  );
}

const IMPL_NAMES: Record<EmbeddedS3Impl, string> = { builtin: 'ours', s3rver: 's3rver + guard' };

/** The storage-only run against a fresh embedded S3 server of the given kind. */
async function storageOnlyAgainst(
  impl: EmbeddedS3Impl,
  fsync: boolean,
  run: string,
  now: () => Date,
): Promise<Awaited<ReturnType<typeof drive>>> {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'pam-bench-s3-'));
  const server = await startEmbeddedS3({ directory, buckets: ['bench'], impl, fsync, supervise: false });
  try {
    const store = new S3AppointmentStore(
      createS3Client({ region: 'us-east-1', endpoint: server.endpoint, credentials: LOCAL_S3_CREDENTIALS }),
      'bench',
    );
    const events = makeEvents(run).map(parsed);
    return await drive(EVENTS, CONCURRENCY, (i) =>
      recordEvent({ store, policy, now, defer: true }, events[i] as AppointmentEvent).then(() => undefined),
    );
  } finally {
    await server.stop();
    rmSync(directory, { recursive: true, force: true });
  }
}

type Counts = Map<string, number>;

function add(counts: Counts, key: string, n = 1): void {
  counts.set(key, (counts.get(key) ?? 0) + n);
}

function total(counts: Counts): number {
  return [...counts.values()].reduce((a, b) => a + b, 0);
}

function diff(after: Record<string, number>, before: Record<string, number>): Counts {
  const d = new Map<string, number>();
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) d.set(k, v - (before[k] ?? 0));
  return d;
}

/** `X.XX per event` and the breakdown by request kind, most frequent first. */
function perEvent(label: string, counts: Counts, events: number): void {
  const n = total(counts);
  console.log(`  ${label.padEnd(62)} ${(n / events).toFixed(2).padStart(6)} per event   (${n} requests / ${events} events)`);
  const parts = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  for (const [k, v] of parts) console.log(`      ${(v / events).toFixed(2).padStart(6)}  ${k}`);
}

async function serverCounts(stack: LocalStack): Promise<Record<string, number>> {
  const counts = await stack.s3.requestCounts();
  if (!counts) throw new Error(`the embedded S3 does not count requests (${COUNT_REQUESTS_ENV}=1 was not seen)`);
  return counts;
}

/**
 * Counts every HTTP request the client sends (each attempt, retries included), by the same labels
 * as the server, under the tag of the async context that sent it (which kind of event it was for).
 */
function countRequests(client: S3Client, tag: AsyncLocalStorage<string>): Map<string, Counts> {
  const byTag = new Map<string, Counts>();
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { method?: string; path?: string; query?: Record<string, string | string[] | null> };
      const [, bucket = '', ...rest] = (request.path ?? '/').split('/');
      const query = new URLSearchParams();
      for (const [k, v] of Object.entries(request.query ?? {})) for (const x of [v ?? ''].flat()) query.append(k, x);
      let status: number | string = 'error';
      try {
        const result = await next(args);
        status = (result.response as { statusCode?: number }).statusCode ?? 'none';
        return result;
      } finally {
        const key = decodeURIComponent(rest.join('/'));
        const t = tag.getStore() ?? 'untagged';
        if (!byTag.has(t)) byTag.set(t, new Map());
        add(byTag.get(t) as Counts, requestLabel({ method: request.method ?? '?', bucket, key, query, status }));
      }
    },
    // Innermost: below the retry middleware, so each attempt is one request.
    { step: 'deserialize', priority: 'low', name: 'benchCountRequests' },
  );
  return byTag;
}

interface Intake {
  outcomes: Counts;
  messages: Counts;
}

/**
 * Delivery receipts (three signed status callbacks per text, each a Function call with its own S3
 * work) are off by default: deployed, Twilio calls them on Twilio's side, while here they would share
 * the two cores with the intake being measured. `BENCH_RECEIPTS=on` measures with them.
 */
const receipts = process.env.BENCH_RECEIPTS === 'on';

async function main() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pam-bench-'));
  mkdirSync(path.join(ROOT, 'build'), { recursive: true });
  const serviceDir = mkdtempSync(path.join(ROOT, 'build', 'bench-service-'));
  await buildService(serviceDir);
  const stack = await startLocalStack({
    dataDir,
    serviceDir,
    port: 0,
    env: { SWEEP_INTERVAL_SECONDS: '0', LOCAL_STATUS_CALLBACKS: receipts ? 'on' : 'off' },
    clockStart: FIXTURE_NOW,
  });
  try {
    console.log(`intake benchmark: ${EVENTS} events over ${APPOINTMENTS} appointments, one event per request`);
    console.log(
      `machine: ${os.cpus().length} CPUs, node ${process.version}; embedded S3 (${IMPL_NAMES[stack.s3.impl]}) in its own process`,
    );
    console.log("each appointment has its own phone, except every 10th, which shares the previous one's (families)");
    console.log(`delivery receipts (status callbacks): ${receipts ? 'on' : 'off (BENCH_RECEIPTS=on to include them)'}`);

    // Studio starts as the stand-in's REST API hands them to the engine: 409 = contact busy.
    const studio = { starts: 0, conflicts: 0, otherErrors: 0 };
    const startExecution = stack.studio.startExecution.bind(stack.studio);
    stack.studio.startExecution = async (req) => {
      try {
        const x = await startExecution(req);
        studio.starts += 1;
        return x;
      } catch (err) {
        if ((err as { status?: number }).status === 409) studio.conflicts += 1;
        else studio.otherErrors += 1;
        throw err;
      }
    };

    const intake: Intake = { outcomes: new Map(), messages: new Map() };
    const post = (body: unknown) =>
      fetch(`${stack.url}/ehr/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.env.EHR_API_KEY}` },
        body: JSON.stringify(body),
      }).then(async (res) => {
        const text = await res.text();
        if (res.status !== 202) throw new Error(`status ${res.status}: ${text}`);
        const reply = JSON.parse(text) as { results?: { outcome?: string; message?: string }[] };
        for (const r of reply.results ?? []) {
          add(intake.outcomes, r.outcome ?? 'none');
          add(intake.messages, r.message ?? '(no text)');
        }
      });

    const warm = makeEvents('warm').slice(0, 200);
    await drive(warm.length, CONCURRENCY, (i) => post(warm[i]));

    const s0 = await serverCounts(stack);
    const events = makeEvents('http');
    show(`HTTP intake, ${CONCURRENCY} clients`, await drive(EVENTS, CONCURRENCY, (i) => post(events[i])));
    await stack.settle();
    const s1 = await serverCounts(stack);
    const studioAfterHeavy = { ...studio };
    const light = makeEvents('light').slice(0, Math.min(EVENTS, 1000));
    show(`HTTP intake, ${LIGHT} clients`, await drive(light.length, LIGHT, (i) => post(light[i])));
    await stack.settle();
    const s2 = await serverCounts(stack);

    // S3 requests per event on the HTTP path: first events of COUNT_APPOINTMENTS appointments,
    // then a second event for each, counted at the server with nothing else running.
    const counting = makeEvents('count', 2 * COUNT_APPOINTMENTS, COUNT_APPOINTMENTS);
    await drive(COUNT_APPOINTMENTS, LIGHT, (i) => post(counting[i]));
    await stack.settle();
    const s3 = await serverCounts(stack);
    await drive(COUNT_APPOINTMENTS, LIGHT, (i) => post(counting[COUNT_APPOINTMENTS + i]));
    await stack.settle();
    const s4 = await serverCounts(stack);

    // The same use case in this process, without HTTP, the Functions or messaging.
    const s3Client = createS3Client({ region: 'us-east-1', endpoint: stack.s3.endpoint, credentials: LOCAL_S3_CREDENTIALS });
    const tag = new AsyncLocalStorage<string>();
    const clientCounts = countRequests(s3Client, tag);
    const store = new S3AppointmentStore(s3Client, stack.bucket);
    // As the intake records events: filing deferred to the filer (src/use-cases/file-changes.ts).
    const deps = { store, policy, now: () => stack.clock.date(), defer: true };

    // Texts the HTTP runs left for the sweep: states still holding an outbox, log entries pending.
    const ids = [...new Set([...warm, ...events, ...light, ...counting].map((e) => String(e.appointment_id)))];
    const left = { appointments: 0, withOutbox: 0, sending: 0, pending: 0, logPending: 0, missing: 0 };
    await tag.run('scan', () =>
      drive(ids.length, CONCURRENCY, async (i) => {
        const s = await store.getState(ids[i] as string);
        left.appointments += 1;
        if (!s) {
          left.missing += 1;
          return;
        }
        const state: AppointmentState = s.value;
        if (state.outbox) left.withOutbox += 1;
        if (state.outbox?.sending) left.sending += 1;
        if (state.outbox?.pending) left.pending += 1;
        left.logPending += (state.log ?? []).filter((e) => e.text === 'pending').length;
      }),
    );

    // The filer's share, off the intake's path: what the sweep (or the admin list) does for the
    // changes the HTTP runs left (their texts all went out), counted the same way.
    let filingRuns = 0;
    const filingTotals = { filed: 0, retired: 0, kept: 0 };
    const filingStarted = Date.now();
    for (let round = 0; round < 50; round += 1) {
      const c = await tag.run('filing', () => fileChanges({ store, policy, now: deps.now }, { limit: 5000 }));
      filingRuns += 1;
      filingTotals.filed += c.filed;
      filingTotals.retired += c.retired;
      filingTotals.kept = c.kept;
      if (c.retired === 0) break;
    }
    const filingMs = Date.now() - filingStarted;
    const direct = makeEvents('direct').map(parsed);
    const s5 = await serverCounts(stack);
    show(
      `storage only (recordEvent), ${CONCURRENCY}, ${IMPL_NAMES[stack.s3.impl]}`,
      await drive(EVENTS, CONCURRENCY, (i) =>
        tag.run(i < APPOINTMENTS ? 'direct-new' : 'direct-existing', () =>
          recordEvent(deps, direct[i] as AppointmentEvent).then(() => undefined),
        ),
      ),
    );
    const s6 = await serverCounts(stack);
    if (process.env.COMPARE_S3 !== '0') {
      const other: EmbeddedS3Impl = stack.s3.impl === 'builtin' ? 's3rver' : 'builtin';
      show(
        `storage only (recordEvent), ${CONCURRENCY}, ${IMPL_NAMES[other]}`,
        await storageOnlyAgainst(other, false, 'compare-a', deps.now),
      );
      show(`storage only (recordEvent), ${CONCURRENCY}, ours + fsync`, await storageOnlyAgainst('builtin', true, 'compare-b', deps.now));
    }

    // Late events: LATE_EVENTS appointments get a booking at t and a change at t+2 min, then a
    // change at t+1 min (older than the newest: inserted, the state folded again); as many others,
    // seeded the same way, get one at t+3 min (in order).
    const at = (a: number, minutes: number) => utcAt(-4 * HOUR + a * 1000 + minutes * MINUTE);
    const seq = (run: string, a: number, minutes: number, type: string) =>
      parsed(
        ehrEvent({
          appointment_id: `${run}-${a}`,
          patient_phone: phoneOf(run, a),
          event_type: type,
          event_datetime_utc: at(a, minutes),
          appointment_datetime: localTime(6 + (a % 27), '09:30'),
          appointment_location: `Suite ${100 + minutes}`,
        }),
      );
    const seeds = ['late', 'inorder'].flatMap((run) =>
      Array.from({ length: LATE_EVENTS }, (_, a) => [seq(run, a, 0, 'BOOKED'), seq(run, a, 2, 'MODIFIED')] as const),
    );
    for (const round of [0, 1] as const) {
      await tag.run('seed', () =>
        drive(seeds.length, CONCURRENCY, (i) =>
          recordEvent(deps, (seeds[i] as readonly AppointmentEvent[])[round] as AppointmentEvent).then(() => undefined),
        ),
      );
    }
    const outcomes = { late: new Map<string, number>(), inorder: new Map<string, number>() };
    const note = (counts: Counts, r: RecordResult) => add(counts, `${r.outcome}${r.late ? ', late' : ''}`);
    const lateEvents = Array.from({ length: LATE_EVENTS }, (_, a) => seq('late', a, 1, 'MODIFIED'));
    const inOrderEvents = Array.from({ length: LATE_EVENTS }, (_, a) => seq('inorder', a, 3, 'MODIFIED'));
    const lateRun = await drive(LATE_EVENTS, CONCURRENCY, (i) =>
      tag.run('late', () => recordEvent(deps, lateEvents[i] as AppointmentEvent).then((r) => note(outcomes.late, r))),
    );
    const inOrderRun = await drive(LATE_EVENTS, CONCURRENCY, (i) =>
      tag.run('inorder', () => recordEvent(deps, inOrderEvents[i] as AppointmentEvent).then((r) => note(outcomes.inorder, r))),
    );
    show(`late event (t+1 after t+2), ${CONCURRENCY}`, lateRun);
    show(`in-order event (t+3 after t+2), ${CONCURRENCY}`, inOrderRun);
    const outcomeText = (c: Counts) => [...c.entries()].map(([k, v]) => `${v} ${k}`).join(', ');
    console.log(
      `  (storage only, ${LATE_EVENTS} each on appointments holding 2 events; outcomes: late ${outcomeText(outcomes.late)}; in order ${outcomeText(outcomes.inorder)})`,
    );

    console.log('Each HTTP event is validated, stored (S3) and starts the Studio Flow, which texts the virtual phone: Functions,');
    console.log('the Twilio stand-in, the Studio engine and the embedded S3 all run on this machine. "storage only" is the same');
    console.log('recordEvent against the embedded S3 without HTTP, Functions or messaging: the S3 share of the cost.');

    console.log('');
    console.log('S3 requests, HTTP path (counted at the embedded S3 server: intake with its opt-out read for a new phone,');
    console.log(`state, outbox dispatch and its markSent write), ${COUNT_APPOINTMENTS} appointments, ${LIGHT} clients:`);
    perEvent('per new event (first event of an appointment, BOOKED)', diff(s3, s2), COUNT_APPOINTMENTS);
    perEvent('per event on an existing appointment (MODIFIED)', diff(s4, s3), COUNT_APPOINTMENTS);
    const mixed = total(diff(s1, s0));
    console.log(
      `  HTTP intake run, ${CONCURRENCY} clients (${Math.min(EVENTS, APPOINTMENTS)} new + ${Math.max(0, EVENTS - APPOINTMENTS)} existing): ${(mixed / EVENTS).toFixed(2)} per event (${mixed} requests)`,
    );
    const lightTotal = total(diff(s2, s1));
    const lightNew = Math.min(light.length, APPOINTMENTS);
    console.log(
      `  HTTP intake run, ${LIGHT} clients (${lightNew} new + ${light.length - lightNew} existing): ${(lightTotal / light.length).toFixed(2)} per event (${lightTotal} requests)`,
    );
    console.log('S3 requests, storage only (recordEvent: no texts sent, so no dispatch or markSent write;');
    console.log("counted by a middleware on the bench's S3 client, each attempt once):");
    const newCount = Math.min(EVENTS, APPOINTMENTS);
    perEvent('per new event (first event of an appointment, BOOKED)', clientCounts.get('direct-new') ?? new Map(), newCount);
    if (EVENTS > APPOINTMENTS)
      perEvent(
        'per event on an existing appointment (MODIFIED, CONFIRMED, …)',
        clientCounts.get('direct-existing') ?? new Map(),
        EVENTS - APPOINTMENTS,
      );
    const clientTotal = total(clientCounts.get('direct-new') ?? new Map()) + total(clientCounts.get('direct-existing') ?? new Map());
    console.log(
      `  cross-check: the server answered ${total(diff(s6, s5))} requests during the storage-only run, the client sent ${clientTotal}`,
    );
    perEvent('per late event', clientCounts.get('late') ?? new Map(), LATE_EVENTS);
    perEvent('per in-order event', clientCounts.get('inorder') ?? new Map(), LATE_EVENTS);
    console.log(
      "S3 requests, filing the HTTP runs' changes (off the intake path: the sweep files what the intake left, before it reads the due index):",
    );
    perEvent(
      `per appointment filed (${filingTotals.filed} appointments, ${filingTotals.retired} markers, ${filingRuns} runs, ${filingMs} ms)`,
      clientCounts.get('filing') ?? new Map(),
      Math.max(1, filingTotals.filed),
    );
    console.log(`  markers still kept after the runs (a text still waiting): ${filingTotals.kept}`);

    console.log('');
    console.log(`texts deferred to the sweep after the HTTP runs (${left.appointments} appointments read back, ${left.missing} missing):`);
    console.log(
      `  appointments whose state still has an outbox: ${left.withOutbox} (in flight: ${left.sending}, waiting: ${left.pending}); log entries with text 'pending': ${left.logPending}`,
    );
    const describe = (c: Counts) =>
      [...c.entries()]
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
    console.log(`  intake replies (all HTTP runs, warm-up included), outcome: ${describe(intake.outcomes)}`);
    console.log(`  intake replies (all HTTP runs, warm-up included), text:    ${describe(intake.messages)}`);
    console.log(
      `  Studio executions started: ${studio.starts}; refused 409 (contact busy): ${studio.conflicts}; other errors: ${studio.otherErrors}`,
    );
    console.log(
      `    of which up to the end of the ${CONCURRENCY}-client run: started ${studioAfterHeavy.starts}, 409 ${studioAfterHeavy.conflicts}, other errors ${studioAfterHeavy.otherErrors}`,
    );
    console.log(`  log lines at warn or above: ${logTally.size === 0 ? 'none' : ''}`);
    for (const [k, v] of [...logTally.entries()].sort((a, b) => b[1] - a[1])) console.log(`    ${String(v).padStart(6)}  ${k}`);
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
