import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stateKey } from '../src/storage/keys';
import { ehrEvent } from './fixtures/events';
import { HOUR, utcAt } from './fixtures/time';
import { startTestStack, type TestStack } from './support/local-stack';
import { started } from './support/started';

/** A port nobody listens on now (the OS picks it; we let it go again). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

let t: TestStack;
let s3Port: number;
beforeAll(async () => {
  s3Port = await freePort();
  t = await startTestStack({ S3_PORT: String(s3Port) });
});
afterAll(async () => {
  await started(t)?.stop();
});

describe('the local stack supervises its S3 server', () => {
  it('puts the embedded S3 on S3_PORT', () => {
    expect(t.stack.s3.port).toBe(s3Port);
    expect(t.stack.s3.endpoint).toBe(`http://127.0.0.1:${s3Port}`);
  });

  it('restarts the S3 server after a kill -9, and intake succeeds again within 15 s without restarting the stack', async () => {
    expect((await t.postEvents(ehrEvent({ appointment_id: 'APT-sup' }))).status).toBe(202);
    const endpoint = t.stack.s3.endpoint;
    process.kill(t.stack.s3.pid as number, 'SIGKILL');
    const deadline = Date.now() + 15_000;
    let res = await t.postEvents(ehrEvent({ appointment_id: 'APT-sup', event_type: 'CONFIRMED', event_datetime_utc: utcAt(-7 * HOUR) }));
    while (res.status !== 202 && Date.now() < deadline) {
      expect(res.status).toBe(503);
      await new Promise((r) => setTimeout(r, 100));
      res = await t.postEvents(ehrEvent({ appointment_id: 'APT-sup', event_type: 'CONFIRMED', event_datetime_utc: utcAt(-7 * HOUR) }));
    }
    expect(res.status).toBe(202);
    expect(res.json.results[0]).toMatchObject({ outcome: 'applied', disposition: 'CONFIRMED' });
    expect(t.stack.s3.restarts).toBe(1);
    expect(t.stack.s3.endpoint).toBe(endpoint);
    expect((await t.getJson(stateKey('APT-sup'))).disposition).toBe('CONFIRMED');
  });
});
