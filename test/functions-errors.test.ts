import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { issueToken } from '../src/admin/tokens';
import { ehrEvent } from './fixtures/events';
import { installTwilioResponse, RecordedResponse } from './support/twilio-response';

let removeTwilioResponse: () => void = () => undefined;

/* eslint-disable @typescript-eslint/no-explicit-any -- Functions take loosely typed context/event */

const FUNCTIONS_DIR = path.join(__dirname, '..', 'functions');

function functionFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return functionFiles(full);
    return full.endsWith('.ts') && !full.endsWith('.test.ts') && !full.endsWith('.d.ts') ? [full] : [];
  });
}

/** An error as a file system or SDK failure looks: a path in the message, frames in the stack. */
function leakyError(): Error {
  const err = new Error('ENOENT: no such file or directory, open /work/h-intake/.local/secrets/config.ts');
  err.stack = `${err.message}\n    at readConfig (/work/h-intake/src/config/config.ts:12:7)\n    at Object.handler (/var/task/functions/ehr/events.js:40:3)`;
  return err;
}

/** Every read of the context throws: the runtime's environment itself is broken. */
const throwingContext = new Proxy(
  {},
  {
    get: () => {
      throw leakyError();
    },
    ownKeys: () => {
      throw leakyError();
    },
    has: () => {
      throw leakyError();
    },
  },
);

const SESSION_SECRET = 's'.repeat(40);
const EHR_API_KEY = 'k'.repeat(32);
/** A valid environment whose storage fails on every call. */
const workingContext = {
  DOMAIN_NAME: 'localhost:1',
  PATH: '/x',
  EHR_API_KEY,
  S3_BUCKET: 'appointments-test',
  S3_ENDPOINT: 'http://127.0.0.1:1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  ACCOUNT_SID: `AC${'0'.repeat(32)}`,
  AUTH_TOKEN: 'a'.repeat(32),
  TWILIO_PHONE_NUMBER: '+14155550100',
  TWILIO_FLOW_SID: `FW${'0'.repeat(32)}`,
  TWILIO_API_BASE_URL: 'http://127.0.0.1:1',
  IE_ENDPOINT: 'http://127.0.0.1:1/ehr',
  IE_SIGNING_SECRET: 'i'.repeat(32),
  CUSTOMER_NAME: 'Owl Health',
  ADMINISTRATOR_PHONE: '+14155550199',
  VERIFY_SERVICE_SID: `VA${'0'.repeat(32)}`,
  SESSION_SECRET,
  APPLICATION_PASSWORD: 'p'.repeat(16),
};

beforeAll(() => {
  removeTwilioResponse = installTwilioResponse();
  vi.spyOn(S3Client.prototype, 'send').mockRejectedValue(leakyError());
});
afterAll(() => {
  vi.restoreAllMocks();
  removeTwilioResponse();
});

async function call(handler: (...args: any[]) => unknown, context: object, event: object) {
  return new Promise<{ err: unknown; response: any }>((resolve, reject) => {
    const done = (err: unknown, response?: unknown) => resolve({ err, response });
    try {
      Promise.resolve(handler(context, event, done)).catch(reject);
    } catch (e) {
      reject(e);
    }
  });
}

const files = functionFiles(FUNCTIONS_DIR);
const LEAK = /\bat \S+ \(|\/work\/|\/var\/task|\.ts\b|ENOENT|"stack"/;

describe('no Function answers with a stack trace or a file path', () => {
  it('finds every Function', () => {
    expect(files.length).toBeGreaterThanOrEqual(14);
  });

  it.each(files.map((f) => [path.relative(FUNCTIONS_DIR, f), f] as const))('%s', async (_name, file) => {
    const { handler } = (await import(file)) as { handler: (...args: any[]) => unknown };
    const session = issueToken(SESSION_SECRET, 'session', Date.now()).token;
    const event = {
      request: {
        headers: {
          authorization: `Bearer ${file.includes('admin') ? session : EHR_API_KEY}`,
          'content-type': 'application/json',
          'content-length': '900',
          'x-twilio-signature': 'x',
        },
        cookies: {},
      },
      ...ehrEvent(),
      From: '+14155550134',
      Body: 'YES',
      phone: '+14155550134',
      table: 'appointments',
      password: 'p'.repeat(16),
    };
    for (const context of [throwingContext, workingContext]) {
      const { err, response } = await call(handler, context, event);
      expect(err).toBeNull();
      expect(response).toBeInstanceOf(RecordedResponse);
      if (context === throwingContext && !file.endsWith('environment.ts')) expect([500, 503]).toContain(response.statusCode);
      expect(response.statusCode).toBeGreaterThanOrEqual(200);
      expect(JSON.stringify(response.body)).not.toMatch(LEAK);
    }
  });
});
