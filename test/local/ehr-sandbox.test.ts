import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signEhrBody } from '../../src/local/ehr-sandbox';
import { startStandIn, type StandIn } from './helpers';

const SECRET = 'sandbox-shared-secret';

interface Recorded {
  method: string;
  headers: Record<string, string>;
  body: string;
  json: unknown;
  received_at: string;
  idempotency_key: string | null;
  duplicate: boolean;
  signature_valid: boolean | null;
  outcome: string;
  response_status: number;
}

describe('sandbox EHR endpoint', () => {
  let s: StandIn;
  const base = () => `${s.url}/ehr-sandbox`;

  /** Delivers like the app: JSON, signed, with an idempotency key, retrying on 5xx. */
  async function deliver(payload: unknown, key: string, attempts = 5): Promise<number[]> {
    const body = JSON.stringify(payload);
    const statuses: number[] = [];
    for (let i = 0; i < attempts; i++) {
      const res = await fetch(`${base()}/requests`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'X-Signature': signEhrBody(SECRET, body),
          'Idempotency-Key': key,
          Authorization: 'Bearer top-secret',
        },
        body,
      });
      statuses.push(res.status);
      if (res.ok) break;
    }
    return statuses;
  }

  async function recorded(): Promise<Recorded[]> {
    const res = await fetch(`${base()}/requests`);
    return ((await res.json()) as { requests: Recorded[] }).requests;
  }

  beforeAll(async () => {
    s = await startStandIn({ ehr: { secret: SECRET } });
  });
  beforeEach(async () => {
    await fetch(`${base()}/requests`, { method: 'DELETE' });
    await fetch(`${base()}/behaviour`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"fail_next":0}' });
  });
  afterAll(async () => {
    await s.close();
  });

  it('records a delivered request with its body, parsed JSON, key and a valid signature', async () => {
    const statuses = await deliver({ appointment_id: 'A-1', status: 'CONFIRMED' }, 'key-1');
    expect(statuses).toEqual([200]);
    const [r] = await recorded();
    expect(r).toMatchObject({
      method: 'POST',
      body: '{"appointment_id":"A-1","status":"CONFIRMED"}',
      json: { appointment_id: 'A-1', status: 'CONFIRMED' },
      idempotency_key: 'key-1',
      signature_valid: true,
      outcome: 'delivered',
      response_status: 200,
      duplicate: false,
    });
    expect(Date.parse(r!.received_at)).not.toBeNaN();
    expect(r!.headers.authorization).toBe('Bearer [redacted]');
    expect(r!.headers['content-type']).toBe('application/json');
  });

  it('fails the next two requests as configured, then accepts the retry', async () => {
    const set = await fetch(`${base()}/behaviour`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ fail_next: 2 }),
    });
    expect(await set.json()).toEqual({ fail_next: 2, status: 503, delay_ms: 0 });

    const statuses = await deliver({ appointment_id: 'A-2', status: 'CANCELED' }, 'key-2');
    expect(statuses).toEqual([503, 503, 200]);
    const log = await recorded();
    expect(log.map((r) => r.outcome)).toEqual(['failed-by-config', 'failed-by-config', 'delivered']);
    expect(log.every((r) => r.idempotency_key === 'key-2')).toBe(true);
  });

  it('uses the configured failure status and delay', async () => {
    await fetch(`${base()}/behaviour`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ fail_next: 1, status: 429, delay_ms: 50 }),
    });
    const started = Date.now();
    expect(await deliver({ n: 1 }, 'key-3', 1)).toEqual([429]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('flags a second delivery with the same idempotency key as a duplicate', async () => {
    await deliver({ n: 1 }, 'key-4');
    await deliver({ n: 1 }, 'key-4');
    expect((await recorded()).map((r) => r.duplicate)).toEqual([false, true]);
  });

  it('records a wrong or missing signature as invalid', async () => {
    await fetch(`${base()}/requests`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Signature': signEhrBody('other', '{}') },
      body: '{}',
    });
    await fetch(`${base()}/requests`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: 'not json' });
    const log = await recorded();
    expect(log.map((r) => r.signature_valid)).toEqual([false, false]);
    expect(log[1]).toMatchObject({ json: null, body: 'not json', outcome: 'delivered' });
  });

  it('rejects an invalid behaviour naming the field', async () => {
    const res = await fetch(`${base()}/behaviour`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ fail_next: -1 }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'invalid-request', field: 'fail_next' } });
  });
});
