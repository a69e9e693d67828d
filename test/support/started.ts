/**
 * For afterAll: a suite's `let stack: TestStack;` says it is always set, but vitest still runs
 * afterAll when beforeAll threw before assigning it, so teardown treats it as maybe undefined.
 */
export function started<T>(value: T): T | undefined {
  return value;
}
