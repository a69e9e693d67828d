import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stateKey } from '../src/storage/keys';
import { ehrEvent } from './fixtures/events';
import { localTime } from './fixtures/time';
import { startTestStack, type TestStack } from './support/local-stack';
import { rawRequest, type RawRequest } from './support/raw-http';
import { started } from './support/started';

let t: TestStack;
let before: string[];
beforeAll(async () => {
  t = await startTestStack();
  await t.postEvents(ehrEvent({ appointment_id: 'APT-existing' }));
  before = await t.listKeys();
});
afterAll(async () => {
  await started(t)?.stop();
});

const good = ehrEvent({ appointment_id: 'APT-strict' });
const json = (v: unknown) => Buffer.from(JSON.stringify(v), 'utf8');
const auth = () => ({ authorization: `Bearer ${t.stack.env.EHR_API_KEY}` });
const jsonHeaders = () => ({ ...auth(), 'content-type': 'application/json' });
const query = new URLSearchParams(Object.entries(good).map(([k, v]): [string, string] => [k, String(v)])).toString();
/** A valid event made 300 KB by an ignored field of two-byte characters (150 K UTF-16 units). */
const wide = json({ ...good, notes: 'é'.repeat(150_000) });
const nested = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

interface Case {
  name: string;
  request: () => RawRequest;
  status: number;
  field?: string;
  message?: RegExp;
  allow?: RegExp;
}

const methodCases: Case[] = [
  {
    name: 'GET with the event in the query string',
    request: () => ({ method: 'GET', path: `/ehr/events?${query}`, headers: jsonHeaders() }),
    status: 405,
    allow: /^POST$/,
  },
  { name: 'HEAD', request: () => ({ method: 'HEAD', path: `/ehr/events?${query}`, headers: jsonHeaders() }), status: 405 },
  {
    name: 'PUT with a JSON body',
    request: () => ({ method: 'PUT', path: '/ehr/events', headers: jsonHeaders(), body: json(good) }),
    status: 405,
    allow: /POST/,
  },
  {
    name: 'PATCH with a JSON body',
    request: () => ({ method: 'PATCH', path: '/ehr/events', headers: jsonHeaders(), body: json(good) }),
    status: 405,
    allow: /POST/,
  },
  {
    name: 'DELETE with a JSON body',
    request: () => ({ method: 'DELETE', path: '/ehr/events', headers: jsonHeaders(), body: json(good) }),
    status: 405,
    allow: /POST/,
  },
  {
    name: 'POST with an empty body and the event in the query string',
    request: () => ({ path: `/ehr/events?${query}`, headers: jsonHeaders(), body: Buffer.alloc(0) }),
    status: 400,
    message: /empty/,
  },
];

const bodyCases: Case[] = [
  {
    name: 'a 300 KB chunked body (150 K characters)',
    request: () => ({ path: '/ehr/events', headers: jsonHeaders(), body: wide, chunkBytes: 16 * 1024 }),
    status: 405,
    message: /Content-Length/,
  },
  { name: 'a 300 KB body with Content-Length', request: () => ({ path: '/ehr/events', headers: jsonHeaders(), body: wide }), status: 413 },
  {
    name: '5,000 nested levels in 30 KB',
    request: () => ({ path: '/ehr/events', headers: jsonHeaders(), body: Buffer.from(nested(5000)) }),
    status: 400,
    message: /nests deeper/,
  },
  {
    name: 'an event with a field nested 20 levels deep',
    request: () => ({ path: '/ehr/events', headers: jsonHeaders(), body: Buffer.from(`{"event_type":"BOOKED","x":${nested(20)}}`) }),
    status: 400,
    message: /nests deeper/,
  },
  {
    name: 'an empty batch {"events": []}',
    request: () => ({ path: '/ehr/events', headers: jsonHeaders(), body: json({ events: [] }) }),
    status: 400,
    field: 'events',
  },
  {
    name: 'application/json-patch+json',
    request: () => ({ path: '/ehr/events', headers: { ...auth(), 'content-type': 'application/json-patch+json' }, body: json(good) }),
    status: 415,
  },
  {
    name: 'application/merge-patch+json',
    request: () => ({ path: '/ehr/events', headers: { ...auth(), 'content-type': 'application/merge-patch+json' }, body: json(good) }),
    status: 415,
  },
  {
    name: 'application/jsonl',
    request: () => ({ path: '/ehr/events', headers: { ...auth(), 'content-type': 'application/jsonl' }, body: json(good) }),
    status: 415,
  },
];

const dateCases: Case[] = [
  ...['+05:99', '+25:00', '-24:00', '+2500', '+14:01', '-1460'].flatMap((offset): Case[] => [
    {
      name: `appointment_datetime with offset ${offset}`,
      request: () => ({
        path: '/ehr/events',
        headers: jsonHeaders(),
        body: json({ ...good, appointment_datetime: `2026-12-01T09:30:00${offset}` }),
      }),
      status: 400,
      field: 'appointment_datetime',
      message: /offset/,
    },
    {
      name: `event_datetime_utc with offset ${offset}`,
      request: () => ({
        path: '/ehr/events',
        headers: jsonHeaders(),
        body: json({ ...good, event_datetime_utc: `2026-11-25T08:00:00${offset}` }),
      }),
      status: 400,
      field: 'event_datetime_utc',
      message: /offset/,
    },
  ]),
  {
    name: 'appointment in year 0000',
    request: () => ({ path: '/ehr/events', headers: jsonHeaders(), body: json({ ...good, appointment_datetime: '0000-12-01T09:30:00' }) }),
    status: 400,
    field: 'appointment_datetime',
    message: /year/,
  },
  {
    name: 'appointment in year 0000 with Z',
    request: () => ({ path: '/ehr/events', headers: jsonHeaders(), body: json({ ...good, appointment_datetime: '0000-12-01T09:30:00Z' }) }),
    status: 400,
    field: 'appointment_datetime',
    message: /year/,
  },
  {
    name: 'event time in year 0000',
    request: () => ({ path: '/ehr/events', headers: jsonHeaders(), body: json({ ...good, event_datetime_utc: '0000-11-25T08:00:00Z' }) }),
    status: 400,
    field: 'event_datetime_utc',
    message: /year/,
  },
  {
    name: 'appointment 731 days ahead',
    request: () => ({
      path: '/ehr/events',
      headers: jsonHeaders(),
      body: json({ ...good, appointment_datetime: localTime(731, '09:30') }),
    }),
    status: 400,
    field: 'appointment_datetime',
    message: /too far ahead/,
  },
  {
    name: 'appointment in 2062 (typed for 2026)',
    request: () => ({ path: '/ehr/events', headers: jsonHeaders(), body: json({ ...good, appointment_datetime: '2062-12-01T09:30:00' }) }),
    status: 400,
    field: 'appointment_datetime',
    message: /too far ahead/,
  },
];

// Invalid UTF-8 inside a JSON string: a lone continuation byte, an overlong "/", a truncated sequence, a UTF-16 surrogate in UTF-8.
const badUtf8 = [Buffer.from([0x80]), Buffer.from([0xc0, 0xaf]), Buffer.from([0xe2, 0x82]), Buffer.from([0xed, 0xa0, 0x80])];
const withBytes = (field: string, bytes: Buffer) => {
  const [head, tail] = JSON.stringify({ ...good, [field]: 'Zo@@' }).split('@@') as [string, string];
  return Buffer.concat([Buffer.from(head), bytes, Buffer.from(tail)]);
};

const textCases: Case[] = [
  {
    name: 'appointment_id with a lone high surrogate',
    request: () => ({ path: '/ehr/events', headers: jsonHeaders(), body: json({ ...good, appointment_id: 'MRN-7\ud800' }) }),
    status: 400,
    field: 'appointment_id',
    message: /well-formed/,
  },
  {
    name: 'appointment_id with a lone low surrogate',
    request: () => ({ path: '/ehr/events', headers: jsonHeaders(), body: json({ ...good, appointment_id: 'MRN-7\udfff' }) }),
    status: 400,
    field: 'appointment_id',
    message: /well-formed/,
  },
  {
    name: 'patient_id with reversed surrogates',
    request: () => ({ path: '/ehr/events', headers: jsonHeaders(), body: json({ ...good, patient_id: 'P\udc00\ud800' }) }),
    status: 400,
    field: 'patient_id',
    message: /well-formed/,
  },
  ...badUtf8.map((bytes): Case => ({
    name: `patient_first_name with invalid UTF-8 ${bytes.toString('hex')}`,
    request: () => ({ path: '/ehr/events', headers: jsonHeaders(), body: withBytes('patient_first_name', bytes) }),
    status: 400,
    field: 'patient_first_name',
    message: /U\+FFFD/,
  })),
  ...[
    ['patient_last_name', '\u202e', 'right-to-left override'],
    ['appointment_id', 'APT\u200b1', 'zero-width space'],
    ['appointment_location', 'Suite 1\u2028Floor 2', 'line separator'],
    ['appointment_location', 'Suite 1\u2029', 'paragraph separator'],
    ['provider_last_name', 'Lopez\uffff', 'noncharacter U+FFFF'],
    ['provider_first_name', 'Ana\ufdd0', 'noncharacter U+FDD0'],
    ['patient_id', '\ufeffPAT-1', 'byte order mark'],
    ['patient_first_name', 'Zo\u2066ë', 'left-to-right isolate'],
    ['patient_first_name', 'Zoë\u200d', 'trailing zero-width joiner'],
    ['patient_first_name', '\u200cZoë', 'leading zero-width non-joiner'],
    ['patient_first_name', 'Zo\u0085ë', 'C1 control NEL'],
    ['patient_first_name', 'Zo\u{e0041}ë', 'tag character'],
    ['patient_first_name', '\u3164', 'Hangul filler'],
  ].map(([field, value, what]): Case => ({
    name: `${field} with a ${what}`,
    request: () => ({ path: '/ehr/events', headers: jsonHeaders(), body: json({ ...good, [field as string]: value }) }),
    status: 400,
    field,
  })),
  {
    name: 'a first name of soft hyphens only',
    request: () => ({ path: '/ehr/events', headers: jsonHeaders(), body: json({ ...good, patient_first_name: '\u00ad\u00ad' }) }),
    status: 400,
    field: 'patient_first_name',
    message: /visible/,
  },
  {
    name: 'a last name of combining marks only',
    request: () => ({ path: '/ehr/events', headers: jsonHeaders(), body: json({ ...good, patient_last_name: '\u0301\u0308' }) }),
    status: 400,
    field: 'patient_last_name',
    message: /visible/,
  },
];

describe('POST /ehr/events parses strictly and writes nothing for what it refuses', () => {
  it.each([...methodCases, ...bodyCases, ...dateCases, ...textCases].map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const res = await rawRequest(t.stack.url, c.request());
    expect(res.status).toBe(c.status);
    if (c.allow) expect(res.headers.allow).toMatch(c.allow);
    if (c.request().method !== 'HEAD') {
      expect(res.json.error.code).toEqual(expect.any(String));
      expect(res.text).not.toMatch(/\bat .+:\d+:\d+|\/work\/|\.ts\b/);
    }
    if (c.field) expect(res.json.error.problems.map((p: { field: string }) => p.field)).toContain(c.field);
    if (c.message) expect(JSON.stringify(res.json.error)).toMatch(c.message);
    expect(await t.listKeys()).toEqual(before);
  });

  it('never echoes the refused value in the error (patient data stays out of answers)', async () => {
    const res = await t.postEvents({ ...good, patient_first_name: 'Hieronymus\u202e', patient_last_name: 'Bosch\ud800' });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.json)).not.toMatch(/Hieronymus|Bosch/);
  });
});

describe('POST /ehr/events takes the events from the body only', () => {
  it('ignores query parameters next to a JSON array', async () => {
    const id = 'APT-query-array';
    const { appointment_location: _dropped, ...noLocation } = ehrEvent({ appointment_id: id });
    const res = await rawRequest(t.stack.url, {
      path: `/ehr/events?appointment_location=FROM-THE-QUERY&appointment_id=OTHER`,
      headers: jsonHeaders(),
      body: json([noLocation]),
    });
    expect(res.status).toBe(202);
    const state = await t.getJson(stateKey(id));
    expect(state.facts.appointment_location).toBeUndefined();
  });

  it('ignores query parameters next to {"events": [...]}', async () => {
    const id = 'APT-query-wrapped';
    const res = await rawRequest(t.stack.url, {
      path: `/ehr/events?patient_first_name=FROM-THE-QUERY`,
      headers: jsonHeaders(),
      body: json({ events: [ehrEvent({ appointment_id: id })] }),
    });
    expect(res.status).toBe(202);
    expect((await t.getJson(stateKey(id))).facts.patient_first_name).toBe('Zoë');
  });

  it('accepts an appointment two years less a day ahead', async () => {
    const res = await t.postEvents(ehrEvent({ appointment_id: 'APT-far', appointment_datetime: localTime(729, '09:30') }));
    expect(res.status).toBe(202);
  });
});

describe('names in scripts that need joiners are stored byte for byte', () => {
  it.each([
    ['Persian, ZWNJ inside a name', 'فاطمه\u200cزهرا'],
    ['Hindi, ZWJ after a virama', 'क्\u200dष्णा'],
    ['Malayalam, ZWJ for a chillu form', 'അന്\u200d'],
    ['Sinhala, ZWJ for a yansaya', 'ශ්\u200dරී'],
    ['an emoji ZWJ sequence in the location', '👩\u200d⚕️ Clinic'],
    ['a soft hyphen inside a long name', 'Wolfe\u00adschlegelstein'],
  ])('%s', async (_what, value) => {
    const id = `APT-joiner-${[...value].length}-${value.codePointAt(0)}`;
    const field = value.includes('Clinic') ? 'appointment_location' : 'patient_first_name';
    const res = await t.postEvents(ehrEvent({ appointment_id: id, [field]: value }));
    expect(res.status).toBe(202);
    expect((await t.getJson(stateKey(id))).facts[field]).toBe(value);
  });
});
