import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ehrEvent } from './fixtures/events';
import { startTestStack, type TestStack } from './support/local-stack';
import { started } from './support/started';

let t: TestStack;
let before: string[];
beforeAll(async () => {
  t = await startTestStack();
  await t.postEvents(ehrEvent({ appointment_id: 'APT-existing' }));
  // The booking text's delivery receipts arrive after the answer: let them land first.
  await t.stack.settle();
  before = await t.listKeys();
});
afterAll(async () => {
  await started(t)?.stop();
});

const good = ehrEvent();
const without = (field: string) => Object.fromEntries(Object.entries(good).filter(([k]) => k !== field));

interface Case {
  name: string;
  body: unknown;
  headers?: Record<string, string>;
  status: number;
  /** A field the answer must name, or a phrase the message must contain. */
  field?: string;
  message?: RegExp;
}

const cases: Case[] = [
  { name: 'no Authorization header', body: good, headers: { authorization: '' }, status: 401, message: /Bearer/ },
  { name: 'wrong key', body: good, headers: { authorization: 'Bearer wrong-key-wrong-key-wrong-key' }, status: 401, message: /not valid/ },
  { name: 'Basic instead of Bearer', body: good, headers: { authorization: 'Basic dXNlcjpwYXNz' }, status: 401 },
  { name: 'non-JSON body', body: '{"event_type": "BOOKED",', status: 400, message: /not valid JSON/ },
  { name: 'empty body', body: '', status: 400, message: /empty/ },
  { name: 'empty object', body: {}, status: 400, message: /empty/ },
  { name: 'empty array', body: [], status: 400, message: /empty/ },
  {
    name: 'text/plain body',
    body: JSON.stringify(good),
    headers: { 'content-type': 'text/plain' },
    status: 415,
    message: /application\/json/,
  },
  { name: 'form-encoded body', body: 'event_type=BOOKED', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415 },
  { name: '1 MB body', body: { ...good, appointment_location: 'x'.repeat(1024 * 1024) }, status: 413, message: /larger than/ },
  {
    name: '101 events',
    body: Array.from({ length: 101 }, (_, i) => ({ ...good, appointment_id: `A${i}` })),
    status: 400,
    message: /at most 100/,
  },
  { name: 'missing event_type', body: without('event_type'), status: 400, field: 'event_type' },
  { name: 'unknown event_type', body: { ...good, event_type: 'BOOK' }, status: 400, field: 'event_type' },
  { name: 'patient-side event type from the EHR', body: { ...good, event_type: 'CONFIRM' }, status: 400, field: 'event_type' },
  { name: 'missing appointment_id', body: without('appointment_id'), status: 400, field: 'appointment_id' },
  { name: 'numeric appointment_id', body: { ...good, appointment_id: 5001 }, status: 400, field: 'appointment_id' },
  { name: 'blank appointment_id', body: { ...good, appointment_id: '   ' }, status: 400, field: 'appointment_id' },
  { name: 'appointment_id over 128 bytes', body: { ...good, appointment_id: 'x'.repeat(129) }, status: 400, field: 'appointment_id' },
  { name: 'appointment_id with a newline', body: { ...good, appointment_id: 'a\nb' }, status: 400, field: 'appointment_id' },
  { name: 'appointment_id with NUL', body: { ...good, appointment_id: 'a\u0000b' }, status: 400, field: 'appointment_id' },
  { name: 'missing patient_id', body: without('patient_id'), status: 400, field: 'patient_id' },
  { name: 'patient_id as object', body: { ...good, patient_id: { id: 1 } }, status: 400, field: 'patient_id' },
  { name: 'missing patient_phone', body: without('patient_phone'), status: 400, field: 'patient_phone' },
  { name: 'too short phone', body: { ...good, patient_phone: '555-01' }, status: 400, field: 'patient_phone' },
  { name: 'letters as phone', body: { ...good, patient_phone: 'call me' }, status: 400, field: 'patient_phone' },
  { name: 'invalid area code', body: { ...good, patient_phone: '+1 055 555 0134' }, status: 400, field: 'patient_phone' },
  { name: 'bad callback phone', body: { ...good, provider_callback_phone: '123' }, status: 400, field: 'provider_callback_phone' },
  { name: 'missing patient_first_name', body: without('patient_first_name'), status: 400, field: 'patient_first_name' },
  { name: 'missing appointment_timezone', body: without('appointment_timezone'), status: 400, field: 'appointment_timezone' },
  {
    name: 'abbreviated zone',
    body: { ...good, appointment_timezone: 'EST' },
    status: 400,
    field: 'appointment_timezone',
    message: /ambiguous/,
  },
  { name: 'unknown zone', body: { ...good, appointment_timezone: 'Europe/Atlantis' }, status: 400, field: 'appointment_timezone' },
  { name: 'offset out of range', body: { ...good, appointment_timezone: '+1900' }, status: 400, field: 'appointment_timezone' },
  { name: 'impossible date', body: { ...good, appointment_datetime: '2026-02-30T09:00:00' }, status: 400, field: 'appointment_datetime' },
  {
    name: 'time skipped by DST',
    body: { ...good, appointment_timezone: 'America/New_York', appointment_datetime: '2026-03-08T02:30:00' },
    status: 400,
    field: 'appointment_datetime',
    message: /does not exist/,
  },
  {
    name: 'time repeated by DST',
    body: { ...good, appointment_timezone: 'America/New_York', appointment_datetime: '2026-11-01T01:30:00' },
    status: 400,
    field: 'appointment_datetime',
    message: /ambiguous/,
  },
  { name: 'US-style date', body: { ...good, appointment_datetime: '12/01/2026 9:30 AM' }, status: 400, field: 'appointment_datetime' },
  {
    name: 'event time without offset',
    body: { ...good, event_datetime_utc: '2026-11-25T08:00:00' },
    status: 400,
    field: 'event_datetime_utc',
  },
  { name: 'event time as a number', body: { ...good, event_datetime_utc: 1764057600 }, status: 400, field: 'event_datetime_utc' },
  {
    name: 'location over 500 characters',
    body: { ...good, appointment_location: 'x'.repeat(501) },
    status: 400,
    field: 'appointment_location',
  },
  {
    name: 'one bad event in a batch',
    body: [good, { ...good, appointment_id: 'APT-2', patient_phone: 'nope' }],
    status: 400,
    field: '[1].patient_phone',
  },
  { name: 'a string instead of an event in a batch', body: [good, 'BOOKED'], status: 400, field: '[1]' },
];

describe('POST /ehr/events rejects bad input and writes nothing', () => {
  it(`has at least 30 cases (${cases.length})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const res = await t.postEvents(c.body, c.headers);
    expect(res.status).toBe(c.status);
    expect(res.json.error.code).toEqual(expect.any(String));
    expect(res.json.error.message).toEqual(expect.any(String));
    if (c.field) expect(res.json.error.problems.map((p: { field: string }) => p.field)).toContain(c.field);
    if (c.message) expect(JSON.stringify(res.json.error)).toMatch(c.message);
    expect(await t.listKeys()).toEqual(before);
  });
});
