import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RateLimiter } from '../../src/use-cases/sweep-rate-limiter';

/** The limiter reads Date.now(); a fixed clock and a recording sleep make its spacing exact. */
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(Date.parse('2026-11-25T08:00:00Z'));
});
afterEach(() => vi.useRealTimers());

describe('the sweep rate limiter', () => {
  it('spaces takes 1/rate apart, shared by every worker of the run', async () => {
    const slept: number[] = [];
    const limiter = new RateLimiter(20, async (ms) => {
      slept.push(ms);
    });
    await Promise.all(Array.from({ length: 5 }, () => limiter.take()));
    expect(slept).toEqual([50, 100, 150, 200]);
  });

  it('does not wait once the clock has moved past the next free slot, then spaces the next take again', async () => {
    const slept: number[] = [];
    const limiter = new RateLimiter(10, async (ms) => {
      slept.push(ms);
    });
    await limiter.take();
    vi.setSystemTime(Date.now() + 250);
    await limiter.take();
    await limiter.take();
    expect(slept).toEqual([100]);
  });
});
