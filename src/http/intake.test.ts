import { describe, expect, it } from 'vitest';
import { loadFunctionsConfig } from '../config/config';
import type { AppointmentStore } from '../storage/appointment-store';
import { handleIntake, intakeRequestFromTwilioEvent, jsonDepth, MAX_BODY_BYTES, type IntakeDeps, type IntakeRequest } from './intake';

const KEY = 'k'.repeat(32);
// Every case below is refused before storage is touched; a store that throws proves it.
const untouchable = new Proxy(
  {},
  {
    get: () => {
      throw new Error('storage must not be reached');
    },
  },
) as AppointmentStore;
const deps: IntakeDeps = {
  apiKey: KEY,
  defaultCountry: 'US',
  record: {
    store: untouchable,
    policy: { firstLeadMinutes: 2880, secondLeadMinutes: 1440, outreachStartMinutes: 0, outreachFinishMinutes: 1440 },
    now: () => new Date('2026-11-25T16:00:00Z'),
  },
};
const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
const event = {
  event_type: 'BOOKED',
  event_datetime_utc: '2026-11-25T08:00:00Z',
  patient_id: 'PAT-1',
  patient_first_name: 'Zoë',
  patient_phone: '+14155550134',
  appointment_id: 'APT-1',
  appointment_timezone: 'America/Los_Angeles',
  appointment_datetime: '2026-12-01T09:30:00',
};
const post = (r: Partial<IntakeRequest>) => handleIntake({ method: 'POST', headers, ...r }, deps, 'req-1');
const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

describe('handleIntake with the raw body (transports that have the bytes)', () => {
  it.each([
    ['a lone continuation byte', [0x80]],
    ['an overlong encoding', [0xc0, 0xaf]],
    ['a truncated sequence', [0xe2, 0x82]],
    ['a UTF-8-encoded surrogate', [0xed, 0xa0, 0x80]],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ])('refuses invalid UTF-8 (%s) instead of replacing it', async (_what, bad) => {
    const reply = await post({ rawBody: bytes('{"patient_first_name":"Zo', bad, '"}') });
    expect(reply.status).toBe(400);
    expect(JSON.stringify(reply.body)).toMatch(/not valid UTF-8/);
  });

  it('counts the limit in bytes, not characters', async () => {
    const body = JSON.stringify({ ...event, notes: 'é'.repeat(MAX_BODY_BYTES / 2) });
    expect(body.length).toBeLessThan(MAX_BODY_BYTES * 0.6);
    expect((await post({ rawBody: Buffer.from(body) })).status).toBe(413);
  });

  it('refuses a deep body with a 400, not a stack overflow', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const reply = await post({ rawBody: Buffer.from(deep) });
    expect(reply.status).toBe(400);
  });
});

describe('handleIntake with a body the runtime parsed', () => {
  it('measures the parsed body in UTF-8 bytes whatever Content-Length said', async () => {
    const reply = await post({
      headers: { ...headers, 'content-length': '100' },
      body: { ...event, notes: '€'.repeat(MAX_BODY_BYTES / 3 + 10) },
    });
    expect(reply.status).toBe(413);
  });

  it('refuses any method but POST with Allow: POST', async () => {
    for (const method of ['GET', 'PUT', 'DELETE', 'unknown']) {
      const reply = await handleIntake({ method, headers, body: event }, deps, 'req-1');
      expect(reply.status).toBe(405);
      expect(reply.headers?.Allow).toBe('POST');
    }
  });

  it('refuses an appointment beyond the configured horizon', async () => {
    const reply = await handleIntake(
      { method: 'POST', headers, body: { ...event, appointment_datetime: '2026-12-30T09:30:00' } },
      { ...deps, maxAppointmentDays: 30 },
      'req-1',
    );
    expect(reply.status).toBe(400);
    expect(JSON.stringify(reply.body)).toMatch(/appointment_datetime.*too far ahead/);
  });
});

describe('intakeRequestFromTwilioEvent', () => {
  const withHeaders = (h: Record<string, string>, fields: Record<string, unknown>) =>
    intakeRequestFromTwilioEvent({ request: { headers: { ...headers, ...h } }, ...fields });

  it('treats a request without Content-Length as not a POST: the query string is all a GET has', () => {
    expect(withHeaders({}, event).method).not.toBe('POST');
  });

  it('treats a POST with Content-Length: 0 as bodiless, whatever the query string held', () => {
    const req = withHeaders({ 'content-length': '0' }, event);
    expect(req.method).toBe('POST');
    expect(req.body).toBeUndefined();
  });

  it('reads a batch from its own keys, leaving query parameters out', () => {
    expect(withHeaders({ 'content-length': '9' }, { 0: event, 1: event, appointment_id: 'Q' }).body).toEqual([event, event]);
    expect(withHeaders({ 'content-length': '9' }, { events: [event], appointment_id: 'Q' }).body).toEqual({ events: [event] });
  });
});

describe('jsonDepth', () => {
  it('measures without recursion and stops at the limit', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i += 1) deep = [deep];
    expect(jsonDepth(deep, 16)).toBe(17);
    expect(jsonDepth({ events: [{ a: 1 }] }, 16)).toBe(3);
    expect(jsonDepth('x', 16)).toBe(0);
  });
});

describe('EHR_APPOINTMENT_MAX_FUTURE_DAYS', () => {
  const env = {
    EHR_API_KEY: KEY,
    S3_BUCKET: 'bucket-a',
    ACCOUNT_SID: `AC${'0'.repeat(32)}`,
    AUTH_TOKEN: 'a'.repeat(32),
    TWILIO_PHONE_NUMBER: '+14155550100',
    TWILIO_FLOW_SID: `FW${'0'.repeat(32)}`,
    IE_ENDPOINT: 'https://ehr.example/x',
    IE_SIGNING_SECRET: 'i'.repeat(32),
    CUSTOMER_NAME: 'Owl',
  };
  it('defaults to two years and reads a whole number of days', () => {
    const d = loadFunctionsConfig(env);
    expect(d.ok && d.config.EHR_APPOINTMENT_MAX_FUTURE_DAYS).toBe(730);
    const set = loadFunctionsConfig({ ...env, EHR_APPOINTMENT_MAX_FUTURE_DAYS: '90' });
    expect(set.ok && set.config.EHR_APPOINTMENT_MAX_FUTURE_DAYS).toBe(90);
    const bad = loadFunctionsConfig({ ...env, EHR_APPOINTMENT_MAX_FUTURE_DAYS: '1.5' });
    expect(bad.ok).toBe(false);
  });
});
