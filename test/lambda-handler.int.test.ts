import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '../lambda/sweep';
import { stateKey } from '../src/storage/keys';
import { ehrEvent } from './fixtures/events';
import { flowTextPattern } from './support/flow-texts';
import { startTestStack, type TestStack } from './support/local-stack';
import { phonesApi } from './support/phones';
import { started } from './support/started';

/** A loopback Secrets Manager that answers GetSecretValue, counting calls. */
async function fakeSecretsManager(secret: Record<string, string>) {
  const calls: { target: string; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      calls.push({ target: String(req.headers['x-amz-target'] ?? ''), body });
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(
        JSON.stringify({
          ARN: JSON.parse(body).SecretId,
          Name: 'appointments-test/twilio',
          SecretString: JSON.stringify(secret),
          VersionId: 'v1',
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

let t: TestStack;
let secrets: Awaited<ReturnType<typeof fakeSecretsManager>>;
const saved = { ...process.env };

beforeAll(async () => {
  t = await startTestStack();
  secrets = await fakeSecretsManager({
    account_sid: t.stack.env.ACCOUNT_SID ?? '',
    // The stack registers this API key with the local Twilio for the sweep (see src/local/stack.ts).
    api_key_sid: `SK${'5'.repeat(32)}`,
    api_key_secret: (JSON.parse(readFileSync(path.join(t.dataDir, 'local-secrets.json'), 'utf8')) as { API_KEY_SECRET: string })
      .API_KEY_SECRET,
    // As the deploy stores it: the sweep derives the flow's origin marker from it.
    ie_signing_secret: t.stack.env.IE_SIGNING_SECRET ?? '',
  });
  // The Lambda's environment, as infra/stack.ts sets it (plus the local endpoints).
  Object.assign(process.env, {
    S3_BUCKET: t.stack.bucket,
    S3_ENDPOINT: t.stack.s3.endpoint,
    AWS_ACCESS_KEY_ID: t.stack.env.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: t.stack.env.AWS_SECRET_ACCESS_KEY,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    TWILIO_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:appointments-test/twilio-AbCdEf',
    TWILIO_FLOW_SID: t.stack.flowSid,
    TWILIO_PHONE_NUMBER: t.stack.env.TWILIO_PHONE_NUMBER,
    TWILIO_API_BASE_URL: t.stack.env.TWILIO_API_BASE_URL,
    REMINDER_FIRST_TIMING: '4800',
    REMINDER_SECOND_TIMING: '2400',
  });
});
afterAll(async () => {
  process.env = saved;
  await started(secrets)?.close();
  await started(t)?.stop();
});

describe('the sweep Lambda handler', () => {
  it('reads the Twilio API key from Secrets Manager once per cold start and sends due reminders', async () => {
    const phone = '+14155557001';
    t.stack.clock.set('2026-11-25T16:00:00Z');
    await t.postEvents(ehrEvent({ appointment_id: 'APT-lambda', patient_phone: phone, event_datetime_utc: '2026-11-25T15:00:00Z' }));
    t.stack.clock.set('2026-11-29T17:35:00Z');

    const first = await handler({ id: 'evt-1', 'detail-type': 'Scheduled Event' });
    const second = await handler({ id: 'evt-2', 'detail-type': 'Scheduled Event' });
    expect(first).toMatchObject({ sent: 1 });
    expect(second.sent).toBe(0);
    expect(secrets.calls).toHaveLength(1);
    expect(secrets.calls[0]?.target).toBe('secretsmanager.GetSecretValue');
    expect((await phonesApi(t).received(phone)).filter((m) => flowTextPattern('send_remind').test(m))).toHaveLength(1);
    expect((await t.getJson(stateKey('APT-lambda'))).disposition).toBe('REMINDED-1');
    expect((await t.getJson('status/sweep.json')).counts.sent).toBe(0);
  });

  it('leaves due reminders for the next run when Lambda is about to time out', async () => {
    t.stack.clock.set('2026-12-01T16:00:00Z');
    for (const k of [1, 2, 3]) {
      await t.postEvents(
        ehrEvent({
          appointment_id: `APT-late-${k}`,
          patient_phone: `+1415555710${k}`,
          appointment_datetime: '2026-12-05T09:30:00',
          event_datetime_utc: '2026-12-01T15:00:00Z',
        }),
      );
    }
    t.stack.clock.set('2026-12-03T17:40:00Z');
    const hurried = await handler({ id: 'evt-3' }, { getRemainingTimeInMillis: () => 30_000 });
    expect(hurried.sent).toBe(0);
    expect(hurried.left_for_next_run).toBeGreaterThanOrEqual(3);
    const next = await handler({ id: 'evt-4' }, { getRemainingTimeInMillis: () => 600_000 });
    expect(next.sent).toBe(3);
    expect(next.left_for_next_run).toBe(0);
  });
});
