// npm run bench — drives the local intake endpoint with concurrent clients and prints events/s
// and latency percentiles; then replays the same S3 operations without the Functions to show how
// much of the cost is the embedded S3 server. Options: EVENTS=5000 CONCURRENCY=32 APPOINTMENTS=1000.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseEhrEvent, type AppointmentEvent } from '../../src/domain/event';
import { LOCAL_S3_CREDENTIALS } from '../../src/local/s3/embedded-s3';
import { startLocalStack } from '../../src/local/stack';
import { S3AppointmentStore } from '../../src/storage/s3-appointment-store';
import { createS3Client } from '../../src/storage/s3-client';
import { recordEvent } from '../../src/use-cases/record-event';
import { buildService, ROOT } from '../../scripts/lib/build-service';
import { ehrEvent } from '../fixtures/events';
import { setLogSink } from '../../src/log';
import { FIXTURE_NOW, HOUR, localTime, utcAt } from '../fixtures/time';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.LOG_LEVEL ??= 'warn';
setLogSink(() => undefined, 'error');

const EVENTS = Number(process.env.EVENTS ?? 5000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 32);
/** A second, lighter load, to show latency when the machine is not saturated. */
const LIGHT = Number(process.env.LIGHT_CONCURRENCY ?? 4);
const APPOINTMENTS = Number(process.env.APPOINTMENTS ?? 1000);

function makeEvents(prefix: string): Record<string, unknown>[] {
  const types = ['BOOKED', 'MODIFIED', 'CONFIRMED', 'RESCHEDULED', 'CANCELED'];
  return Array.from({ length: EVENTS }, (_, i) => {
    const round = Math.floor(i / APPOINTMENTS);
    return ehrEvent({
      appointment_id: `${prefix}-${i % APPOINTMENTS}`,
      event_type: types[round % types.length],
      event_datetime_utc: utcAt(-8 * HOUR + i * 1000),
      appointment_datetime: localTime(6 + (i % 27), '09:30'),
    });
  });
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
    `${label.padEnd(34)} ${r.perSecond.toFixed(0).padStart(6)} events/s   p50 ${r.p50.toFixed(1).padStart(6)} ms   p99 ${r.p99.toFixed(1).padStart(6)} ms   max ${r.max.toFixed(0)} ms   (${r.seconds.toFixed(1)} s)`,
  );
}

async function main() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pam-bench-'));
  mkdirSync(path.join(ROOT, 'build'), { recursive: true });
  const serviceDir = mkdtempSync(path.join(ROOT, 'build', 'bench-service-'));
  await buildService(serviceDir);
  const stack = await startLocalStack({ dataDir, serviceDir, port: 0, env: { SWEEP_INTERVAL_SECONDS: '0' }, clockStart: FIXTURE_NOW });
  try {
    console.log(`intake benchmark: ${EVENTS} events over ${APPOINTMENTS} appointments, one event per request`);
    console.log(`machine: ${os.cpus().length} CPUs, node ${process.version}; embedded S3 (s3rver + guard) in its own process`);
    const warm = makeEvents('warm').slice(0, 200);
    const post = (body: unknown) =>
      fetch(`${stack.url}/ehr/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.env.EHR_API_KEY}` },
        body: JSON.stringify(body),
      }).then(async (res) => {
        if (res.status !== 202) throw new Error(`status ${res.status}: ${await res.text()}`);
        await res.arrayBuffer();
      });
    await drive(warm.length, CONCURRENCY, (i) => post(warm[i]));

    const events = makeEvents('http');
    show(`HTTP intake, ${CONCURRENCY} clients`, await drive(EVENTS, CONCURRENCY, (i) => post(events[i])));
    const light = makeEvents('light').slice(0, Math.min(EVENTS, 1000));
    show(`HTTP intake, ${LIGHT} clients`, await drive(light.length, LIGHT, (i) => post(light[i])));

    // The same use case and S3 operations in this process, without HTTP and the Functions runtime.
    const s3 = createS3Client({ region: 'us-east-1', endpoint: stack.s3.endpoint, credentials: LOCAL_S3_CREDENTIALS });
    const store = new S3AppointmentStore(s3, stack.bucket);
    const policy = { firstLeadMinutes: 2880, secondLeadMinutes: 1440, outreachStartMinutes: 0, outreachFinishMinutes: 1440 };
    const parsed: AppointmentEvent[] = makeEvents('direct').map((e) => {
      const r = parseEhrEvent(e, { defaultCountry: 'US' });
      if (!r.ok) throw new Error('fixture');
      return r.event;
    });
    show(`storage only (recordEvent), ${CONCURRENCY}`, await drive(EVENTS, CONCURRENCY, (i) => recordEvent({ store, policy, now: () => stack.clock.date() }, parsed[i] as AppointmentEvent).then(() => undefined)));
    console.log('Each HTTP event is validated, stored (S3) and starts the Studio Flow, which texts the virtual phone: Functions,');
    console.log('the Twilio stand-in, the Studio engine and the embedded S3 all run on this machine. "storage only" is the same');
    console.log('recordEvent against the embedded S3 without HTTP, Functions or messaging: the S3 share of the cost.');
    console.log('S3 requests per new event: 4 (history PUT If-None-Match, state GET, due-index PUT, state PUT If-Match/If-None-Match); 3 when the due time is unchanged.');
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
