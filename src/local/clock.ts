/**
 * The local stack's clock: real time plus an adjustable offset, so a demo or a test can jump to
 * tomorrow and see tomorrow's reminder (and Studio wait timeouts) today. Production code receives
 * `now` as a function and never knows which clock it got.
 */
export class LocalClock {
  private offsetMs = 0;
  private readonly listeners = new Set<() => void>();

  now(): number {
    return Date.now() + this.offsetMs;
  }

  date(): Date {
    return new Date(this.now());
  }

  offset(): number {
    return this.offsetMs;
  }

  /** Moves the clock forward (or back, with a negative value) and notifies listeners (timers). */
  advance(ms: number): void {
    this.offsetMs += ms;
    for (const fn of this.listeners) fn();
  }

  setOffset(ms: number): void {
    this.offsetMs = ms;
    for (const fn of this.listeners) fn();
  }

  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
