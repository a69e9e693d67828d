/**
 * The local stack's clock: real time plus an adjustable offset, so a demo or a test can jump to
 * tomorrow and see tomorrow's reminder (and Studio wait timeouts) today. Production code receives
 * `now` as a function and never knows which clock it got.
 *
 * A clock may be started at a chosen instant (`startAt`): it then runs forward from there at real
 * speed, whatever today's date is. Tests pin it so their fixtures never fall into the past.
 */
export interface LocalClockOptions {
  /** Epoch milliseconds the clock reads at construction; real time when left out. */
  startAt?: number;
}

export class LocalClock {
  private offsetMs: number;
  private readonly listeners = new Set<() => void>();

  constructor(options: LocalClockOptions = {}) {
    this.offsetMs = options.startAt === undefined ? 0 : options.startAt - Date.now();
  }

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

  /** Jumps to an instant (epoch ms, a Date or an ISO string) and runs on from there. */
  set(instant: number | Date | string): void {
    const ms = typeof instant === 'number' ? instant : typeof instant === 'string' ? Date.parse(instant) : instant.getTime();
    if (!Number.isFinite(ms)) throw new RangeError('LocalClock.set needs a valid instant');
    this.setOffset(ms - Date.now());
  }

  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
