import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildService, ROOT } from '../scripts/lib/build-service';

declare module 'vitest' {
  export interface ProvidedContext {
    serviceDir: string;
  }
}

/**
 * Integration tests run the built Functions service, as `npm start` does, but from a folder of
 * their own so a running `npm start` (or another test run) is never rebuilt underneath.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  // Inside the repository, so the bundles resolve `twilio` from node_modules like the real one.
  mkdirSync(path.join(ROOT, 'build'), { recursive: true });
  const dir = mkdtempSync(path.join(ROOT, 'build', 'test-service-'));
  await buildService(dir);
  project.provide('serviceDir', dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
