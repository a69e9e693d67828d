import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../src/http/intake';
import { stateKey } from '../src/storage/keys';
import { ehrEvent } from './fixtures/events';
import { FIXTURE_PATIENTS, fhirFixture } from './fixtures/fhir';
import { siuMessage } from './fixtures/hl7';
import { DAY, FIXTURE_NOW } from './fixtures/time';
import { startTestStack, type TestStack } from './support/local-stack';
import { started } from './support/started';

/* eslint-disable @typescript-eslint/no-explicit-any -- the answers are read loosely and asserted on */

/**
 * The raw-body receiver as `npm start` serves it (/raw/ehr/…, the same handler as the Lambda behind
 * the Function URL), through real HTTP, next to the Functions endpoints it stands in for.
 */
let t: TestStack;
beforeAll(async () => {
  t = await startTestStack({ EHR_DEFAULT_TIMEZONE: 'America/New_York' });
  for (const p of Object.values(FIXTURE_PATIENTS)) t.stack.ehr.fhir.put(p);
});
afterAll(async () => {
  await started(t)?.stop();
});

interface Answer {
  status: number;
  type: string | null;
  text: string;
  json: any;
}

async function post(path: string, body: string | Uint8Array, headers: Record<string, string>, method = 'POST'): Promise<Answer> {
  const res = await fetch(`${t.stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${t.stack.env.EHR_API_KEY}`, ...headers },
    ...(method === 'GET' ? {} : { body }),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, type: res.headers.get('content-type'), text, json };
}

const segment = (ack: string, id: string) => ack.split('\r').filter((s) => s.startsWith(`${id}|`));
/** An ACK without what differs per answer (MSH-7 time, MSH-10 control id). */
const stable = (ack: string) => ack.replace(/^(MSH(?:\|[^|\r]*){5})\|[^|\r]*((?:\|[^|\r]*){2})\|[^|\r]*/, '$1|@$2|@');
const future = (parts: Parameters<typeof siuMessage>[0] = {}) => siuMessage({ start: '202612011000', ...parts });

describe('raw ER7 at /raw/ehr/hl7', () => {
  it('records text/plain ER7 and answers the ACK as text/plain; the Functions then see the same event as a duplicate', async () => {
    const message = future({ placerId: 'RAW-TEXT', fillerId: '', controlId: 'RAW-1' });
    const raw = await post('/raw/ehr/hl7', message, { 'content-type': 'text/plain' });
    expect(raw.status).toBe(200);
    expect(raw.type).toBe('text/plain; charset=utf-8');
    expect(segment(raw.text, 'MSA')).toEqual(['MSA|AA|RAW-1|applied']);
    const state = await t.getJson(stateKey('RAW-TEXT'));
    expect(state.facts).toMatchObject({
      appointment_id: 'RAW-TEXT',
      patient_phone: '+14155550134',
      appointment_datetime_utc: '2026-12-01T15:00:00.000Z',
    });

    const functions = await post('/ehr/hl7', JSON.stringify({ message }), { 'content-type': 'application/json' });
    expect(functions.status).toBe(200);
    expect(functions.json.result).toMatchObject({
      appointment_id: 'RAW-TEXT',
      outcome: 'duplicate',
      duplicate: true,
      event_id: state.ehr_event_id,
    });
  });

  it('answers x-application/hl7-v2+er7 in kind, and strips MLLP framing from application/hl7-v2', async () => {
    const er7 = await post('/raw/ehr/hl7', future({ placerId: 'RAW-ER7', fillerId: '', controlId: 'RAW-2' }), {
      'content-type': 'x-application/hl7-v2+er7; charset=utf-8',
    });
    expect(er7.status).toBe(200);
    expect(er7.type).toBe('x-application/hl7-v2+er7; charset=utf-8');
    expect(er7.text).toMatch(/^MSH\|\^~\\&\|SMS\|OWL\|EHR\|OWL\|\d{14}\+0000\|\|ACK\^S12\^ACK\|/);
    expect(segment(er7.text, 'MSA')).toEqual(['MSA|AA|RAW-2|applied']);

    const framed = await post('/raw/ehr/hl7', `\u000b${future({ placerId: 'RAW-MLLP', fillerId: '', controlId: 'RAW-3' })}\u001c\r`, {
      'content-type': 'application/hl7-v2',
    });
    expect(framed.status).toBe(200);
    expect(segment(framed.text, 'MSA')).toEqual(['MSA|AA|RAW-3|applied']);
    expect((await t.getJson(stateKey('RAW-MLLP'))).facts.appointment_id).toBe('RAW-MLLP');
  });

  it('refuses what the Functions refuse with the same status, ACK and problems, and writes nothing', async () => {
    const bad = future({ placerId: 'RAW-BAD', fillerId: '', phones: '^PRN^CP^^1^415^555' });
    const before = await t.listKeys();
    const raw = await post('/raw/ehr/hl7', bad, { 'content-type': 'text/plain', accept: 'application/json' });
    const functions = await post('/ehr/hl7', JSON.stringify({ message: bad }), { 'content-type': 'application/json' });
    expect(raw.status).toBe(400);
    expect(raw.status).toBe(functions.status);
    expect(raw.type).toBe(functions.type);
    expect(raw.json.ack_code).toBe('AE');
    expect(raw.json.problems).toEqual(functions.json.problems);
    expect(stable(raw.json.ack)).toBe(stable(functions.json.ack));
    expect(await t.listKeys()).toEqual(before);
  });

  it('decodes the declared charset strictly: ISO-8859-1 read as such, bytes that are not UTF-8 refused with AR', async () => {
    const latin1 = Buffer.from(future({ placerId: 'RAW-LATIN1', fillerId: '', name: 'Müller^Zoë' }), 'latin1');
    const ok = await post('/raw/ehr/hl7', latin1, { 'content-type': 'text/plain; charset=ISO-8859-1' });
    expect(ok.status).toBe(200);
    expect((await t.getJson(stateKey('RAW-LATIN1'))).facts.patient_first_name).toBe('Zoë');

    const bad = await post('/raw/ehr/hl7', latin1, { 'content-type': 'text/plain' });
    expect(bad.status).toBe(400);
    expect(segment(bad.text, 'MSA')[0]).toMatch(/^MSA\|AR\|\|the body is not valid UTF-8/);
    const other = await post('/raw/ehr/hl7', future(), { 'content-type': 'text/plain; charset=shift_jis' });
    expect(other.status).toBe(415);
  });

  it('enforces the byte limit on the raw body, the key, and POST', async () => {
    const big = await post('/raw/ehr/hl7', `${future()}NTE|1||${'x'.repeat(MAX_BODY_BYTES)}\r`, { 'content-type': 'text/plain' });
    expect(big.status).toBe(413);
    expect(segment(big.text, 'MSA')[0]).toMatch(/^MSA\|AR\|/);
    const unauthorized = await post('/raw/ehr/hl7', future(), { 'content-type': 'text/plain', authorization: 'Bearer wrong' });
    const functions401 = await post('/ehr/hl7', JSON.stringify({ message: future() }), {
      'content-type': 'application/json',
      authorization: 'Bearer wrong',
    });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.json.error.message).toBe(functions401.json.error.message);
    const get = await post('/raw/ehr/hl7', '', {}, 'GET');
    expect(get.status).toBe(405);
  });
});

describe('application/fhir+json at /raw/ehr/fhir', () => {
  it('records what the Functions refuse as 415, answering the OperationOutcome the Functions give for application/json', async () => {
    const resource = fhirFixture('r4spec_appointment-example.json');
    const start = String(resource.start);
    t.stack.clock.set(Date.parse(start) - 3 * DAY);
    const dropped = await post('/ehr/fhir', JSON.stringify(resource), { 'content-type': 'application/fhir+json' });
    expect(dropped.status).toBe(415);

    const raw = await post('/raw/ehr/fhir', JSON.stringify(resource), { 'content-type': 'application/fhir+json' });
    expect(raw.status).toBe(200);
    expect(raw.type).toMatch(/^application\/fhir\+json/);
    expect(raw.json.resourceType).toBe('OperationOutcome');
    const line = raw.json.issue[0];
    expect(line.diagnostics).toMatch(/applied/);

    const functions = await post('/ehr/fhir', JSON.stringify(resource), { 'content-type': 'application/json' });
    expect(functions.status).toBe(200);
    expect(functions.json.issue[0].diagnostics).toMatch(/duplicate/);
    expect(functions.json.issue[0].expression).toEqual(line.expression);
  });

  it('refuses bytes that are not UTF-8 JSON with an OperationOutcome', async () => {
    const res = await post('/raw/ehr/fhir', Buffer.from([0x7b, 0xff, 0x7d]), { 'content-type': 'application/fhir+json' });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'structure' }] });
  });
});

describe('/raw/ehr/events', () => {
  beforeAll(() => t.stack.clock.set(FIXTURE_NOW));

  it('answers a JSON event as /ehr/events does (202, the same result)', async () => {
    const event = ehrEvent({ appointment_id: 'RAW-EVT-1' });
    const raw = await post('/raw/ehr/events', JSON.stringify(event), { 'content-type': 'application/json' });
    expect(raw.status).toBe(202);
    const functions = await post('/ehr/events', JSON.stringify(event), { 'content-type': 'application/json' });
    expect(functions.status).toBe(202);
    const { message: _message, ...line } = raw.json.results[0];
    expect(raw.json.results[0]).toMatchObject({ outcome: 'applied', message: 'started' });
    expect(functions.json.results[0]).toMatchObject({ ...line, outcome: 'duplicate', duplicate: true });
  });

  it('refuses query parameters (the Functions would merge them into the event) and bytes that are not UTF-8', async () => {
    const query = await post('/raw/ehr/events?appointment_id=X', JSON.stringify(ehrEvent()), { 'content-type': 'application/json' });
    expect(query.status).toBe(400);
    expect(query.json.error).toMatchObject({ code: 'invalid-request', message: expect.stringContaining('query parameters') });
    const bytes = await post('/raw/ehr/events', Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]), { 'content-type': 'application/json' });
    expect(bytes.status).toBe(400);
    expect(bytes.json.error).toMatchObject({ code: 'invalid-json', message: 'the body is not valid UTF-8' });
  });

  it('serves nothing else under /raw', async () => {
    const res = await post('/raw/ehr/other', '{}', { 'content-type': 'application/json' });
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe('not-found');
  });
});
