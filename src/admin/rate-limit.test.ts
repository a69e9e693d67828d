import { describe, expect, it } from 'vitest';
import type { AtomicJsonStore, JsonChange } from '../storage/s3-admin-store';
import { AttemptLimiter, clientKey, type AttemptLimit } from './rate-limit';

/** The same contract as the S3 store, in memory (the S3 version is exercised by test/admin-api.int.test.ts). */
class MemoryStore implements AtomicJsonStore {
  readonly objects = new Map<string, unknown>();
  async update<T, R>(key: string, change: (current: T | null) => JsonChange<T, R>): Promise<R> {
    const outcome = change((this.objects.get(key) as T | undefined) ?? null);
    if (outcome.value !== undefined) this.objects.set(key, structuredClone(outcome.value));
    return outcome.result;
  }
}

const LIMIT: AttemptLimit = { perClient: 3, total: 5, windowMs: 60_000 };
const limits = { password: LIMIT, code: LIMIT, sms: LIMIT };
const T0 = 1_000_000;

describe('login attempt limits', () => {
  it('refuses the attempt after the per-client limit and says when to come back', async () => {
    const limiter = new AttemptLimiter(new MemoryStore(), limits);
    for (let i = 0; i < 3; i += 1) expect((await limiter.reserve('password', 'a', T0 + i * 1000)).ok).toBe(true);
    expect(await limiter.reserve('password', 'a', T0 + 10_000)).toEqual({ ok: false, scope: 'client', retryAfterSeconds: 50 });
    expect((await limiter.reserve('password', 'a', T0 + 60_001)).ok).toBe(true);
  });

  it('refuses every client once the total is reached, without charging the refused client', async () => {
    const store = new MemoryStore();
    const limiter = new AttemptLimiter(store, limits);
    for (const c of ['a', 'a', 'a', 'b', 'b']) expect((await limiter.reserve('code', c, T0)).ok).toBe(true);
    expect(await limiter.reserve('code', 'c', T0)).toMatchObject({ ok: false, scope: 'total' });
    expect([...store.objects.entries()].find(([k]) => k.includes(Buffer.from('client-c').toString('base64url')))?.[1]).toEqual({
      attempts: [],
    });
  });

  it('gives back a released attempt (a right answer is no failure)', async () => {
    const limiter = new AttemptLimiter(new MemoryStore(), limits);
    for (let i = 0; i < 3; i += 1) {
      const r = await limiter.reserve('password', 'a', T0);
      if (r.ok) await limiter.release('password', 'a', r.id);
    }
    expect((await limiter.reserve('password', 'a', T0)).ok).toBe(true);
  });

  it("counts a known device's attempts for that device alone, outside the total, so a full total does not lock it out", async () => {
    const limiter = new AttemptLimiter(new MemoryStore(), limits);
    for (const c of ['a', 'a', 'a', 'b', 'b']) expect((await limiter.reserve('password', c, T0)).ok).toBe(true);
    expect(await limiter.reserve('password', 'c', T0)).toMatchObject({ ok: false, scope: 'total' });
    for (let i = 0; i < 3; i += 1) expect((await limiter.reserve('password', 'c', T0, 'dev1')).ok).toBe(true);
    expect(await limiter.reserve('password', 'c', T0, 'dev1')).toMatchObject({ ok: false, scope: 'device' });
    expect((await limiter.reserve('password', 'c', T0, 'dev2')).ok).toBe(true);
    const r = await limiter.reserve('password', 'c', T0 + 60_001, 'dev1');
    expect(r.ok).toBe(true);
    if (r.ok) await limiter.release('password', 'c', r.id, 'dev1');
    expect((await limiter.reserve('password', 'c', T0 + 60_001, 'dev1')).ok).toBe(true);
  });

  it('keeps the kinds apart', async () => {
    const limiter = new AttemptLimiter(new MemoryStore(), limits);
    for (let i = 0; i < 3; i += 1) await limiter.reserve('password', 'a', T0);
    expect((await limiter.reserve('code', 'a', T0)).ok).toBe(true);
  });

  it.each([
    ['0123456789abcdef', '0123456789abcdef'],
    [undefined, 'anonymous'],
    ['short', 'anonymous'],
    ['../../etc', 'anonymous'],
  ])('reads the client id %j as %s', (header, key) => {
    expect(clientKey(header)).toBe(key);
  });
});
