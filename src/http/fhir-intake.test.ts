import { describe, expect, it } from 'vitest';
import { MemoryAppointmentStore } from '../storage/memory-appointment-store';
import { FIXTURE_PATIENTS } from '../../test/fixtures/fhir';
import { bug, s3Unavailable } from '../../test/support/failures';
import { handleFhirIntake, type FhirIntakeDeps } from './fhir-intake';
import { FhirFetchError, type FhirReader } from '../ehr/fhir-client';
import { replyForError } from './errors';

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

describe('a FHIR server that cannot be read: one mapping with the rest of the product', () => {
  /** An Appointment that names its patient only by reference, so the intake must read it from the server. */
  const referencing = {
    resourceType: 'Appointment',
    id: 'u-7',
    meta: { versionId: '1', lastUpdated: '2026-11-25T10:00:00Z' },
    status: 'booked',
    start: '2026-12-01T17:30:00Z',
    participant: [{ actor: { reference: 'Patient/p-7' }, status: 'needs-action' }],
  };
  const failing = (error: FhirFetchError): FhirReader => ({
    read: () => Promise.reject(error),
    searchByIdentifier: () => Promise.reject(error),
    owns: () => true,
  });

  it.each([
    ['a timeout', new FhirFetchError('timeout'), 503, 'timeout'],
    ['a network failure', new FhirFetchError('network'), 503, 'transient'],
    ['a 503 from the server', new FhirFetchError('status', 503), 503, 'transient'],
    ['refused credentials', new FhirFetchError('unauthorized', 401), 502, 'security'],
    ['a 400 from the server', new FhirFetchError('status', 400), 502, 'exception'],
    ['a response that is not FHIR', new FhirFetchError('invalid-response'), 502, 'exception'],
  ])('%s answers %i, as the central mapping says, and records nothing', async (_what, error, status, code) => {
    const store = new MemoryAppointmentStore();
    const answer = await post(referencing, { ...deps(store), fhir: failing(error) });
    expect(answer.status).toBe(status);
    expect(replyForError(error, 'r', 'test').status).toBe(status);
    expect(answer.headers?.['Retry-After']).toBe(status === 503 ? '30' : undefined);
    expect(answer.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code }] });
    expect(await store.getState('u-7')).toBeNull();
  });
});
