import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

const ALL = [
  'test/**/*.test.ts',
  'src/**/*.test.ts',
  'infra/**/*.test.ts',
  'lambda/**/*.test.ts',
  'studio/**/*.test.ts',
  'functions/**/*.test.ts',
];

/**
 * Tests that leave the test process or take seconds each: the local stack on loopback (built
 * Functions, embedded S3 in its own process, Twilio stand-in), the browser, CDK synth and the
 * deploy's child processes. `npm test` runs them with the rest; `npm run test:unit` leaves them out.
 * A stack test wrongly listed as unit fails there at once: only this project builds the service
 * (globalSetup), so `inject('serviceDir')` is empty.
 */
const INTEGRATION = [
  // The whole local stack (test/support/local-stack.ts) or the built Functions service.
  'test/admin-api.test.ts',
  'test/admin-lockout.test.ts',
  'test/admin-users.test.ts',
  'test/admin-simulate-message.test.ts',
  'test/damaged-record.test.ts',
  'test/delivery-receipts.test.ts',
  'test/fault-injection.test.ts',
  'test/fhir-intake-unconfigured.test.ts',
  'test/fhir-intake.test.ts',
  'test/hl7-intake.test.ts',
  'test/intake-fuzz.test.ts',
  'test/intake-rejects.test.ts',
  'test/intake-strict.test.ts',
  'test/intake.test.ts',
  'test/lambda-handler.test.ts',
  'test/local/loopback.test.ts',
  'test/local/busy-port.test.ts',
  'test/local/serverless.test.ts',
  'test/messaging.test.ts',
  'test/mllp-bridge.test.ts',
  'test/persistence.test.ts',
  'test/raw-receiver.test.ts',
  'test/readme-example.test.ts',
  'test/reply-deadline.test.ts',
  'test/storage-supervision.test.ts',
  'test/studio-entry.test.ts',
  'test/sweep.test.ts',
  'test/deploy/deploy.test.ts',
  'test/deploy/rotate-keys.test.ts',
  // The embedded S3 server, which runs in a child process.
  'test/embedded-s3.test.ts',
  'test/s3-contract.test.ts',
  'test/record-event.test.ts',
  'test/storage/s3-store.test.ts',
  // CDK synth and the deploy's processes.
  'infra/nag.test.ts',
  'infra/stack.test.ts',
  'test/deploy/cdk.test.ts',
  // Chromium.
  'test/e2e/**/*.test.ts',
];

const EXCLUDE = ['node_modules/**', 'build/**', '.local/**'];

/** Test files under test/ that start the local stack, found by reading them, so a new one cannot land in the unit project. */
function stackTests(dir = 'test'): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const file = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'fixtures' ? [] : stackTests(file);
    return e.name.endsWith('.test.ts') && /\bstartTestStack\(/.test(readFileSync(file, 'utf8')) ? [file.split(path.sep).join('/')] : [];
  });
}
INTEGRATION.push(...stackTests().filter((f) => !INTEGRATION.includes(f)));

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
      { extends: true, test: { name: 'unit', include: ALL, exclude: [...EXCLUDE, ...INTEGRATION], pool: 'threads', isolate: false } },
      { extends: true, test: { name: 'integration', include: INTEGRATION, exclude: EXCLUDE, globalSetup: ['test/global-setup.ts'] } },
    ],
  },
});
