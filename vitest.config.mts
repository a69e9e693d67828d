import { defineConfig } from 'vitest/config';

export const ALL = [
  'test/**/*.test.ts',
  'src/**/*.test.ts',
  'infra/**/*.test.ts',
  'lambda/**/*.test.ts',
  'studio/**/*.test.ts',
  'functions/**/*.test.ts',
];

/**
 * Tests that leave the test process or take seconds each are named `*.int.test.ts`: the local
 * stack on loopback (built Functions, embedded S3 in its own process, Twilio stand-in), the
 * browser, CDK synth and the deploy's child processes. `npm test` runs them with the rest;
 * `npm run test:unit` leaves them out. test/test-projects.test.ts fails when a test file that
 * starts any of these is not named so, and a stack test run as unit fails at once anyway: only
 * the integration project builds the service (globalSetup), so `inject('serviceDir')` is empty.
 */
export const INTEGRATION = '**/*.int.test.ts';

export const EXCLUDE = ['node_modules/**', 'build/**', '.local/**'];

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      LOG_LEVEL: 'warn',
    },
    projects: [
      // One module registry per worker (isolate: false) halves the run on a busy machine; unit tests
      // restore whatever global they change (log sink, spies), so files do not see each other.
      { extends: true, test: { name: 'unit', include: ALL, exclude: [...EXCLUDE, INTEGRATION], pool: 'threads', isolate: false } },
      { extends: true, test: { name: 'integration', include: [INTEGRATION], exclude: EXCLUDE, globalSetup: ['test/global-setup.ts'] } },
    ],
  },
});
