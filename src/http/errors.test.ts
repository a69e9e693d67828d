import { S3ServiceException } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { AppError, BusyError } from '../domain/errors';
import { FhirFetchError } from '../ehr/fhir-client';
import { PostError } from '../ehr/http-post';
import { FlowStartError } from '../messaging/flow-starter';
import { StateConflictError } from '../use-cases/record-event';
import { replyForError, toAppError } from './errors';

const sdk = (name: string, status: number) =>
  new S3ServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, message: 'm' });
const socket = (code: string) => Object.assign(new Error(`connect ${code} 10.0.0.1:443`), { code });

describe('toAppError: only what is known to be transient is retryable', () => {
  it.each([
    ['S3 503 SlowDown', sdk('SlowDown', 503), 'storage-unavailable'],
    ['S3 500 InternalError', sdk('InternalError', 500), 'storage-unavailable'],
    ['S3 throttling', sdk('ThrottlingException', 400), 'storage-unavailable'],
    ['S3 refused the connection (SDK metadata)', Object.assign(socket('ECONNREFUSED'), { $metadata: {} }), 'storage-unavailable'],
    ['a peer reset the connection', socket('ECONNRESET'), 'upstream-unavailable'],
    ['Twilio 429 / 5xx', new FlowStartError('busy', true, 503), 'upstream-unavailable'],
    ['the EHR timed out', new PostError('timeout'), 'upstream-unavailable'],
    ['contention on one appointment', new StateConflictError('A-1', 200), 'busy'],
    ['contention on any other compare-and-set record', new BusyError('the inbox item', 10), 'busy'],
    ['the FHIR server timed out', new FhirFetchError('timeout'), 'upstream-unavailable'],
    ['the FHIR server unreachable', new FhirFetchError('network'), 'upstream-unavailable'],
    ['the FHIR server 503', new FhirFetchError('status', 503), 'upstream-unavailable'],
    ['the FHIR server 429', new FhirFetchError('status', 429), 'upstream-unavailable'],
    ['the FHIR token endpoint 502', new FhirFetchError('token', 502), 'upstream-unavailable'],
  ])('%s → %s, retryable', (_what, err, code) => {
    const app = toAppError(err);
    expect(app.code).toBe(code);
    expect(app.retryable).toBe(true);
  });

  it.each([
    ['a TypeError', new TypeError('x is undefined'), 'internal'],
    ['a plain Error', new Error('boom'), 'internal'],
    ['a thrown string', 'boom', 'internal'],
    ['S3 403 AccessDenied', sdk('AccessDenied', 403), 'internal'],
    ['Twilio 400', new FlowStartError('bad', false, 400), 'upstream-error'],
    ['the FHIR server refused our token', new FhirFetchError('unauthorized', 401), 'upstream-error'],
    ['the FHIR server 404 on a search', new FhirFetchError('status', 404), 'upstream-error'],
    ['the FHIR server redirected', new FhirFetchError('redirect', 302), 'upstream-error'],
    ['the FHIR server answered something unreadable', new FhirFetchError('invalid-response', 200), 'upstream-error'],
    ['the FHIR token endpoint 400', new FhirFetchError('token', 400), 'upstream-error'],
    ['a validation error', new AppError('invalid-event', 'patient_phone: is required', { field: 'patient_phone' }), 'invalid-event'],
  ])('%s → %s, not retryable', (_what, err, code) => {
    const app = toAppError(err);
    expect(app.code).toBe(code);
    expect(app.retryable).toBe(false);
  });
});

describe('replyForError: one status per code', () => {
  it.each([
    [new AppError('invalid-event', 'patient_phone: is not a phone number', { field: 'patient_phone' }), 400],
    [new AppError('unauthorized', 'no key'), 401],
    [new AppError('forbidden', 'no'), 403],
    [new AppError('not-found', 'no such appointment'), 404],
    [new AppError('conflict', 'changed meanwhile'), 409],
    [sdk('ServiceUnavailable', 503), 503],
    [new BusyError('an admin record', 30), 503],
    [new FhirFetchError('timeout'), 503],
    [new FhirFetchError('unauthorized', 401), 502],
    [new TypeError('bug'), 500],
  ])('%s → %i', (err, status) => {
    const reply = replyForError(err, 'req-9', 'test');
    expect(reply.status).toBe(status);
    expect(reply.headers?.['X-Request-Id']).toBe('req-9');
    expect(reply.headers?.['Retry-After'] !== undefined).toBe(status === 503);
  });

  it('names the field of a validation error and never echoes a foreign message', () => {
    expect(replyForError(new AppError('invalid-request', 'From: must be E.164', { field: 'From' }), 'r', 't').body).toMatchObject({
      error: { field: 'From', message: 'From: must be E.164' },
    });
    expect(JSON.stringify(replyForError(new TypeError('Zoë +14155550134'), 'r', 't').body)).not.toMatch(/Zoë|\+1415/);
  });
});
