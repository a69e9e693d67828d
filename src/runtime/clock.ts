/**
 * The time every runtime uses. Deployed it is the system clock. Locally, `npm start` installs its
 * adjustable clock here (Functions run in the same process), so a demo that jumps a day ahead
 * moves the Functions, the sweep and the Studio engine together.
 */
interface ClockLike {
  date(): Date;
}

const KEY = Symbol.for('patient-appointment-management.clock');

export function now(): Date {
  const clock = (globalThis as Record<symbol, ClockLike | undefined>)[KEY];
  return clock ? clock.date() : new Date();
}

export function installClock(clock: ClockLike | undefined): void {
  (globalThis as Record<symbol, ClockLike | undefined>)[KEY] = clock;
}

/**
 * Real waiting, for the use cases that take a `sleep` (a test passes one that does not wait). Not
 * the adjustable clock: a demo that jumps a day ahead should not make a reply wait a day.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
