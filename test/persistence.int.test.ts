import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { historyPrefix, stateKey } from '../src/storage/keys';
import { ehrEvent } from './fixtures/events';
import { startTestStack, type TestStack } from './support/local-stack';
import { HOUR, MINUTE, utcAt } from './fixtures/time';
import { started } from './support/started';

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack();
});
afterAll(async () => {
  await started(t)?.stop();
});

describe('the local stack keeps data on disk', () => {
  it('still has every appointment after a restart, and the same EHR key', async () => {
    const key = t.stack.env.EHR_API_KEY;
    await t.postEvents(ehrEvent({ appointment_id: 'APT-persist' }));
    await t.postEvents(
      ehrEvent({ appointment_id: 'APT-persist', event_type: 'CONFIRMED', event_datetime_utc: utcAt(-8 * HOUR + 10 * MINUTE) }),
    );
    await t.restart();
    expect(t.stack.env.EHR_API_KEY).toBe(key);
    expect((await t.getJson(stateKey('APT-persist'))).disposition).toBe('CONFIRMED');
    expect(await t.listKeys(historyPrefix('APT-persist'))).toHaveLength(2);
    const again = await t.postEvents(ehrEvent({ appointment_id: 'APT-persist' }));
    expect(again.json.results[0].outcome).toBe('duplicate');
  });

  it('answers 503 with a request id when storage is down, and loses nothing that was stored', async () => {
    await t.postEvents(ehrEvent({ appointment_id: 'APT-outage' }));
    await t.stack.s3.stop();
    const res = await t.postEvents(
      ehrEvent({ appointment_id: 'APT-outage', event_type: 'CANCELED', event_datetime_utc: utcAt(-7 * HOUR) }),
    );
    expect(res.status).toBe(503);
    expect(res.json.error.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('x-request-id')).toBe(res.json.error.request_id);
    await t.restart();
    expect((await t.getJson(stateKey('APT-outage'))).disposition).toBe('QUEUED');
    const retried = await t.postEvents(
      ehrEvent({ appointment_id: 'APT-outage', event_type: 'CANCELED', event_datetime_utc: utcAt(-7 * HOUR) }),
    );
    expect(retried.json.results[0]).toMatchObject({ outcome: 'applied', disposition: 'CANCELED' });
  });
});
