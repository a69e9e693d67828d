import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { FhirHttpReader } from '../ehr/fhir-client';
import { MemoryAppointmentStore } from '../storage/memory-appointment-store';
import { FIXTURE_PATIENTS } from '../../test/fixtures/fhir';
import { bug, s3Unavailable } from '../../test/support/failures';
import { replyForError } from './errors';
import { handleFhirIntake, type FhirIntakeDeps } from './fhir-intake';

/* eslint-disable @typescript-eslint/no-explicit-any -- answers are read loosely */

const KEY = 'k'.repeat(32);
const NOW = new Date('2026-11-25T16:00:00Z');
const policy = { firstLeadMinutes: 2880, secondLeadMinutes: 1440, outreachStartMinutes: 0, outreachFinishMinutes: 1440 };

function deps(store = new MemoryAppointmentStore()): FhirIntakeDeps {
  return { apiKey: KEY, defaultCountry: 'US', record: { store, policy, now: () => NOW } };
}

function post(body: unknown, d: FhirIntakeDeps) {
  return handleFhirIntake(
    { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'content-length': '10' }, body },
    d,
    'req-1',
  );
}

const appointment = (version: string, patientStatus: string, over: Record<string, unknown> = {}) => ({
  resourceType: 'Bundle',
  type: 'collection',
  entry: [
    {
      resource: {
        resourceType: 'Appointment',
        id: 'u-1',
        meta: { versionId: version, lastUpdated: `2026-11-25T1${version}:00:00Z` },
        status: 'booked',
        start: '2026-12-01T17:30:00Z',
        participant: [{ actor: { reference: 'Patient/example' }, status: patientStatus }],
        ...over,
      },
    },
    { resource: FIXTURE_PATIENTS['Patient/example'] },
  ],
});
const typeOf = (r: any) => r.body.issue[0].details.coding.find((c: { system: string }) => c.system.endsWith(':event-type'))?.code;

describe('handleFhirIntake on the in-memory store', () => {
  it('reads the patient accepting after needs-action as CONFIRMED (the previous status is in the history)', async () => {
    const d = deps();
    expect(typeOf(await post(appointment('1', 'needs-action'), d))).toBe('BOOKED');
    expect(typeOf(await post(appointment('2', 'accepted'), d))).toBe('CONFIRMED');
    expect((await d.record.store.getState('u-1'))?.value.disposition).toBe('CONFIRMED');
  });

  it('cancels an appointment entered in error, and ignores one never seen', async () => {
    const d = deps();
    const never = await post(appointment('1', 'accepted', { status: 'entered-in-error' }), d);
    expect(never.status).toBe(200);
    expect(never.body).toMatchObject({ issue: [{ severity: 'information', diagnostics: expect.stringMatching(/ignored/) }] });
    expect(await d.record.store.getState('u-1')).toBeNull();
    await post(appointment('2', 'accepted'), d);
    expect(typeOf(await post(appointment('3', 'accepted', { status: 'entered-in-error' }), d))).toBe('CANCELED');
  });

  it('answers 503 with a transient issue and Retry-After when S3 is unavailable, and never a stack trace', async () => {
    const store = new MemoryAppointmentStore();
    store.getState = () => Promise.reject(s3Unavailable());
    const d = deps(store);
    const res = await post(appointment('1', 'accepted'), d);
    expect(res.status).toBe(503);
    expect(res.headers?.['Retry-After']).toMatch(/^\d+$/);
    const writes = new MemoryAppointmentStore();
    writes.writeState = () => Promise.reject(s3Unavailable());
    const failed = await post(appointment('1', 'accepted'), deps(writes));
    expect(failed.status).toBe(503);
    expect(failed.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'transient' }] });
  });

  it('lets a bug in a store read through to the handler (500 there), and answers a bug in a write 500 with the request id', async () => {
    const store = new MemoryAppointmentStore();
    store.getState = () => Promise.reject(bug());
    await expect(post(appointment('1', 'accepted'), deps(store))).rejects.toBeInstanceOf(TypeError);
    const writes = new MemoryAppointmentStore();
    writes.writeState = () => Promise.reject(bug());
    const failed = await post(appointment('1', 'accepted'), deps(writes));
    expect(failed.status).toBe(500);
    expect(failed.headers?.['Retry-After']).toBeUndefined();
    expect(failed.body).toMatchObject({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'exception', diagnostics: expect.stringContaining('req-1') }],
    });
    expect(JSON.stringify(failed.body)).not.toMatch(/secret\/path|at \S+ \(/);
  });
});

/**
 * A FHIR server on loopback that answers every request the way `answer` says; `hang` never
 * answers, so the reader's own timeout fires.
 */
async function fhirServer(answer: 'hang' | number): Promise<{ reader: FhirHttpReader; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((_req, res) => {
    if (answer === 'hang') return;
    res.writeHead(answer, { 'Content-Type': 'application/fhir+json' }).end('{"resourceType":"OperationOutcome"}');
  });
  server.on('connection', (s) => sockets.add(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const reader = new FhirHttpReader({
    baseUrl: `http://127.0.0.1:${port}/fhir`,
    auth: { kind: 'bearer', token: 't'.repeat(20) },
    connectTimeoutMs: 200,
    totalTimeoutMs: 300,
  });
  const close = () => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  };
  return { reader, close };
}

/** An Appointment whose patient is only referenced, so the intake must read it from the FHIR server. */
const needsPatient = {
  resourceType: 'Bundle',
  type: 'collection',
  entry: [(appointment('1', 'accepted').entry as unknown[])[0]],
};

describe('handleFhirIntake when the EHR FHIR server cannot be read: the central mapping, in an OperationOutcome', () => {
  it.each([
    ['times out', 'hang' as const, 'timeout'],
    ['answers 503', 503, 'transient'],
    ['answers 429', 429, 'transient'],
  ])('%s: 503 with Retry-After and a transient issue, as toAppError says; nothing recorded', async (_what, answer, code) => {
    const { reader, close } = await fhirServer(answer);
    try {
      const d = { ...deps(), fhir: reader };
      const res = await post(needsPatient, d);
      const central = replyForError(await reader.read('Patient', 'example').catch((e: unknown) => e), 'req-1', 'test');
      expect(res.status).toBe(503);
      expect(res.status).toBe(central.status);
      expect(res.headers?.['Retry-After']).toBe(central.headers?.['Retry-After']);
      expect(res.headers?.['Retry-After']).toMatch(/^[1-9]\d*$/);
      expect(res.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code }] });
      expect(JSON.stringify(res.body)).toMatch(/retry the notification/);
      expect(await d.record.store.getState('u-1')).toBeNull();
    } finally {
      await close();
    }
  });

  it.each([
    ['refuses our token (401)', 401, /refused our credentials/],
    ['answers 400', 400, /could not be read \(status 400\); nothing was recorded"/],
  ])('%s: 502 without Retry-After, as toAppError says; not told to retry', async (_what, answer, why) => {
    const { reader, close } = await fhirServer(answer);
    try {
      const d = { ...deps(), fhir: reader };
      const res = await post(needsPatient, d);
      const central = replyForError(await reader.read('Patient', 'example').catch((e: unknown) => e), 'req-1', 'test');
      expect(res.status).toBe(502);
      expect(res.status).toBe(central.status);
      expect(res.headers?.['Retry-After']).toBeUndefined();
      expect(res.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception' }] });
      expect(JSON.stringify(res.body)).toMatch(why);
      expect(JSON.stringify(res.body)).not.toMatch(/retry/);
      expect(await d.record.store.getState('u-1')).toBeNull();
    } finally {
      await close();
    }
  });
});
