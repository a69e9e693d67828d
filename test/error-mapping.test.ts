import { S3Client } from '@aws-sdk/client-s3';
import twilio from 'twilio';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { handler as intake } from '../functions/ehr/events';
import { handler as reply } from '../functions/studio/reply.protected';
import { setLogSink } from '../src/log';
import { ehrEvent } from './fixtures/events';
import { bug, s3Unavailable } from './support/failures';
import { installTwilioResponse, type RecordedResponse } from './support/twilio-response';
import { DateTime } from 'luxon';

let removeTwilioResponse: () => void = () => undefined;

/* eslint-disable @typescript-eslint/no-explicit-any -- Functions take loosely typed context/event */

// The Functions run as deployed (real runtime wiring, real S3 adapter); only the S3 client's
// answers are replaced, by what the SDK throws for an outage and by a programming error.
const EHR_API_KEY = 'k'.repeat(32);
const AUTH_TOKEN = 'a'.repeat(32);
const context = {
  DOMAIN_NAME: 'localhost:1',
  PATH: '/studio/reply',
  EHR_API_KEY,
  S3_BUCKET: 'appointments-test',
  S3_ENDPOINT: 'http://127.0.0.1:1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  ACCOUNT_SID: `AC${'0'.repeat(32)}`,
  AUTH_TOKEN,
  TWILIO_PHONE_NUMBER: '+14155550100',
  TWILIO_FLOW_SID: `FW${'0'.repeat(32)}`,
  TWILIO_API_BASE_URL: 'http://127.0.0.1:1',
  IE_ENDPOINT: 'http://127.0.0.1:1/ehr',
  IE_SIGNING_SECRET: 'i'.repeat(32),
  CUSTOMER_NAME: 'Owl Health',
};

const lines: string[] = [];
beforeAll(() => {
  removeTwilioResponse = installTwilioResponse();
  setLogSink((line) => lines.push(line), 'debug');
});
afterEach(() => {
  vi.restoreAllMocks();
  lines.length = 0;
});
afterAll(() => {
  removeTwilioResponse();
  setLogSink((line, level) => (level === 'error' || level === 'warn' ? console.error(line) : console.log(line)), 'info');
});

function failS3With(make: () => Error) {
  vi.spyOn(S3Client.prototype, 'send').mockRejectedValue(make());
}

async function call(handler: (...args: any[]) => Promise<void>, event: object): Promise<RecordedResponse> {
  return new Promise((resolve, reject) => {
    handler(context, event, (err: unknown, response: RecordedResponse) => (err ? reject(err) : resolve(response))).catch(reject);
  });
}

// The Function runs in this process on the real clock (no stack with a pinned one), so the event's
// times are set from it: a fixture date would be "from the future" when the clock is moved back.
const intakeEvent = () => ({
  request: { headers: { authorization: `Bearer ${EHR_API_KEY}`, 'content-type': 'application/json', 'content-length': '600' } },
  ...ehrEvent({
    event_datetime_utc: new Date(Date.now() - 3_600_000).toISOString(),
    appointment_datetime: DateTime.now()
      .setZone('America/Los_Angeles')
      .plus({ days: 3 })
      .set({ hour: 9, minute: 30, second: 0, millisecond: 0 })
      .toFormat("yyyy-MM-dd'T'HH:mm:ss"),
  }),
});

function replyEvent() {
  const params = { From: '+14155550134', Body: 'YES', MessageSid: `SM${'1'.repeat(32)}` };
  const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, `http://${context.DOMAIN_NAME}${context.PATH}`, params);
  return { request: { headers: { 'x-twilio-signature': signature } }, ...params };
}

const STACK = /\bat \S+ \(|\.ts:\d+|secret\/path|"stack"/;

describe.each([
  ['POST /ehr/events', intake, intakeEvent],
  ['the Studio reply Function', reply, replyEvent],
] as const)('%s maps failures through the one error vocabulary', (_name, handler, event) => {
  it('answers a bug 500 with a request id (also in the log line), no Retry-After and no stack', async () => {
    failS3With(bug);
    const res = await call(handler, event());
    expect(res.statusCode).toBe(500);
    expect(res.body.error).toMatchObject({ code: 'internal', retryable: false, request_id: expect.any(String) });
    expect(res.headers['X-Request-Id']).toBe(res.body.error.request_id);
    expect(res.headers['Retry-After']).toBeUndefined();
    expect(JSON.stringify(res.body)).not.toMatch(STACK);
    const logged = lines.map((l) => JSON.parse(l)).find((l) => l.request_id === res.body.error.request_id && l.level === 'error');
    expect(logged).toMatchObject({ code: 'internal', error: expect.stringContaining('TypeError') });
    // The stack goes to the log; the error's message (which could quote a value) does not.
    expect(logged.stack).toMatch(/at /);
    expect(JSON.stringify(logged)).not.toContain('secret/path');
  });

  it('answers an S3 503 with 503, Retry-After and retryable: true', async () => {
    failS3With(s3Unavailable);
    const res = await call(handler, event());
    expect(res.statusCode).toBe(503);
    expect(res.body.error).toMatchObject({ code: 'storage-unavailable', retryable: true, request_id: expect.any(String) });
    expect(Number(res.headers['Retry-After'])).toBeGreaterThan(0);
    expect(JSON.stringify(res.body)).not.toMatch(STACK);
  });
});
