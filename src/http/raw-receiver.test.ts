import { describe, expect, it } from 'vitest';
import { MemoryAppointmentStore } from '../storage/memory-appointment-store';
import {
  functionUrlResult,
  handleRawRequest,
  intakeRequestFromFunctionUrl,
  type FunctionUrlEvent,
  type ReceiverDeps,
} from './raw-receiver';

const KEY = 'k'.repeat(32);
const deps: ReceiverDeps = {
  apiKey: KEY,
  defaultCountry: 'US',
  defaultZone: 'America/New_York',
  record: {
    store: new MemoryAppointmentStore(),
    policy: { firstLeadMinutes: 2880, secondLeadMinutes: 1440, outreachStartMinutes: 0, outreachFinishMinutes: 1440 },
    now: () => new Date('2026-11-25T16:00:00Z'),
  },
};

const urlEvent = (e: Partial<FunctionUrlEvent> & { method?: string }): FunctionUrlEvent => ({
  rawPath: '/ehr/events',
  rawQueryString: '',
  headers: {},
  requestContext: { http: { method: e.method ?? 'POST' } },
  ...e,
});

describe('intakeRequestFromFunctionUrl', () => {
  it('decodes a base64 body to its exact bytes, invalid UTF-8 included', () => {
    const bytes = Buffer.from([0x7b, 0xff, 0x00, 0x7d]);
    const { request } = intakeRequestFromFunctionUrl(urlEvent({ body: bytes.toString('base64'), isBase64Encoded: true }));
    expect(Buffer.from(request.rawBody ?? [])).toEqual(bytes);
  });

  it('takes a text body as its UTF-8 bytes', () => {
    const { request } = intakeRequestFromFunctionUrl(urlEvent({ body: 'PID|||Zoë', isBase64Encoded: false }));
    expect(Buffer.from(request.rawBody ?? []).toString('hex')).toBe(Buffer.from('PID|||Zoë', 'utf8').toString('hex'));
  });

  it('lower-cases header names and sets Content-Length to the bytes that arrived, dropping Transfer-Encoding', () => {
    const { request } = intakeRequestFromFunctionUrl(
      urlEvent({
        headers: {
          Authorization: `Bearer ${KEY}`,
          'Content-Type': 'text/plain',
          'Content-Length': '99999',
          'Transfer-Encoding': 'chunked',
        },
        body: 'abc',
      }),
    );
    expect(request.headers).toEqual({ authorization: `Bearer ${KEY}`, 'content-type': 'text/plain', 'content-length': '3' });
  });

  it('keeps the real method (upper-cased), the path and the query string', () => {
    const r = intakeRequestFromFunctionUrl(urlEvent({ method: 'put', rawPath: '/ehr/fhir', rawQueryString: 'a=1' }));
    expect(r).toMatchObject({ path: '/ehr/fhir', query: 'a=1', request: { method: 'PUT' } });
    expect(intakeRequestFromFunctionUrl(urlEvent({})).request.rawBody?.byteLength).toBe(0);
  });
});

describe('functionUrlResult', () => {
  it('serializes JSON bodies and passes text (an ER7 ACK) unchanged', () => {
    expect(functionUrlResult({ status: 202, headers: { 'Content-Type': 'application/json' }, body: { a: 1 } })).toEqual({
      statusCode: 202,
      headers: { 'Content-Type': 'application/json' },
      body: '{"a":1}',
      isBase64Encoded: false,
    });
    expect(functionUrlResult({ status: 200, body: 'MSH|^~\\&|\rMSA|AA|1\r' }).body).toBe('MSH|^~\\&|\rMSA|AA|1\r');
  });
});

describe('handleRawRequest', () => {
  const auth = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };

  it.each([
    ['GET', 405],
    ['PUT', 405],
    ['DELETE', 405],
  ])('refuses %s on each path with 405 and Allow: POST', async (method, status) => {
    for (const rawPath of ['/ehr/events', '/ehr/hl7', '/ehr/fhir']) {
      const r = await handleRawRequest(urlEvent({ method, rawPath, headers: auth }), deps, 'req-1');
      expect(r.statusCode, rawPath).toBe(status);
      expect(r.headers.Allow).toBe('POST');
    }
  });

  it('refuses query parameters on /ehr/events with 400 once the key is right, 401 before', async () => {
    const body = Buffer.from('{}').toString('base64');
    const bad = await handleRawRequest(urlEvent({ rawQueryString: 'x=1', headers: auth, body, isBase64Encoded: true }), deps, 'req-1');
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(bad.body).error.code).toBe('invalid-request');
    const anonymous = await handleRawRequest(
      urlEvent({ rawQueryString: 'x=1', headers: { 'content-type': 'application/json' }, body, isBase64Encoded: true }),
      deps,
      'req-1',
    );
    expect(anonymous.statusCode).toBe(401);
  });

  it('answers 404 for any other path', async () => {
    const r = await handleRawRequest(urlEvent({ rawPath: '/ehr/other', headers: auth }), deps, 'req-1');
    expect(r.statusCode).toBe(404);
  });

  it('answers the endpoint’s 500 (no stack trace) when a use case throws', async () => {
    const failing: ReceiverDeps = {
      ...deps,
      record: {
        ...deps.record,
        now: () => {
          throw new Error('secret detail');
        },
      },
    };
    const hl7 = await handleRawRequest(
      urlEvent({
        rawPath: '/ehr/hl7',
        headers: { ...auth, 'content-type': 'text/plain' },
        body: 'MSH|^~\\&|A|B|C|D|20261125||SIU^S12|1|P|2.5.1\r',
      }),
      failing,
      'req-1',
    );
    expect(hl7.statusCode).toBe(500);
    expect(hl7.body).not.toContain('secret detail');
    const fhir = await handleRawRequest(
      urlEvent({
        rawPath: '/ehr/fhir',
        headers: { ...auth, 'content-type': 'application/fhir+json' },
        body: '{"resourceType":"Appointment"}',
      }),
      failing,
      'req-1',
    );
    expect(fhir.statusCode).toBe(500);
    expect(JSON.parse(fhir.body)).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'exception' }] });
  });
});
