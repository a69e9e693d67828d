import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/use-cases/sweep-rate-limiter';

/** An injected clock and a sleep that records what it was asked for make the spacing exact. */
function limiterAt(perSecond: number) {
  const clock = { ms: Date.parse('2026-11-25T08:00:00Z') };
  const slept: number[] = [];
  const limiter = new RateLimiter(
    perSecond,
    async (ms) => {
      slept.push(ms);
    },
    () => clock.ms,
  );
  return { limiter, slept, clock };
}

describe('the sweep rate limiter', () => {
  it('spaces takes 1/rate apart, shared by every worker of the run', async () => {
    const { limiter, slept } = limiterAt(20);
    await Promise.all(Array.from({ length: 5 }, () => limiter.take()));
    expect(slept).toEqual([50, 100, 150, 200]);
  });

  it('does not wait once the clock has moved past the next free slot, then spaces the next take again', async () => {
    const { limiter, slept, clock } = limiterAt(10);
    await limiter.take();
    clock.ms += 250;
    await limiter.take();
    await limiter.take();
    expect(slept).toEqual([100]);
  });
});
