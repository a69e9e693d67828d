/** A token bucket: at most `perSecond` takes per second, shared by all workers of one sweep. */
export class RateLimiter {
  private next = 0;
  constructor(
    private readonly perSecond: number,
    private readonly sleep: (ms: number) => Promise<void>,
    /** Milliseconds since the epoch; injected with `sleep`, so a test's fake sleep can move it. */
    private readonly clock: () => number = Date.now,
  ) {}

  async take(): Promise<void> {
    const now = this.clock();
    const at = Math.max(now, this.next);
    this.next = at + 1000 / this.perSecond;
    if (at > now) await this.sleep(at - now);
  }
}
