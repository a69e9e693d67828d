import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { startLocalStack, type LocalStack } from '../../src/local/stack';
import { LOCAL_S3_CREDENTIALS } from '../../src/local/s3/embedded-s3';
import { createS3Client } from '../../src/storage/s3-client';
import { inject } from 'vitest';
import { FIXTURE_NOW } from '../fixtures/time';
import { assertConformance } from '../contract/conformance';
import { recordExchanges, type Exchange } from '../contract/exchange-recorder';

/* eslint-disable @typescript-eslint/no-explicit-any -- tests read JSON answers loosely and assert on them */

export interface TestStack {
  stack: LocalStack;
  s3: S3Client;
  dataDir: string;
  /** POSTs to the intake with the stack's EHR key unless headers say otherwise. */
  postEvents(body: unknown, headers?: Record<string, string>): Promise<{ status: number; json: any; headers: Headers }>;
  /** POSTs a FHIR resource to /ehr/fhir (JSON, the stack's EHR key) unless headers say otherwise. */
  postFhir(body: unknown, headers?: Record<string, string>): Promise<{ status: number; json: any; headers: Headers }>;
  listKeys(prefix?: string): Promise<string[]>;
  getJson(key: string): Promise<any>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface TestStackOptions {
  /** The instant (epoch ms) the stack's clock starts at; FIXTURE_NOW unless a test chooses another. */
  now?: number;
  /** The address to listen on (loopback unless a test needs more). */
  host?: string;
  /** Receives the stack's warnings instead of stderr. */
  warn?: (message: string) => void;
}

/**
 * The whole local stack on free loopback ports, with its data in a fresh temporary folder and its
 * clock pinned (Functions, sweep, Studio timers, carrier), so no test depends on today's date.
 */
/** A POST to one of the stack's intakes with its EHR key (unless `headers` say otherwise), the answer read as JSON when it is. */
async function postJson(stack: LocalStack, path: string, body: unknown, headers: Record<string, string>) {
  const res = await fetch(`${stack.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.env.EHR_API_KEY}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = { raw: text };
  }
  return { status: res.status, json: json as any, headers: res.headers };
}

export async function startTestStack(overrides: Record<string, string> = {}, options: TestStackOptions = {}): Promise<TestStack> {
  // Tests run the sweep themselves, at the moments they choose.
  const env = { SWEEP_INTERVAL_SECONDS: '0', ...overrides };
  const serviceDir = inject('serviceDir');
  if (!serviceDir)
    throw new Error(
      'startTestStack runs only in the vitest "integration" project, which builds the service: name this test file *.int.test.ts.',
    );
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pam-test-'));
  // Every exchange with the Twilio stand-in, checked against Twilio's OpenAPI specs on stop().
  const exchanges: Exchange[] = [];
  const listen = { host: options.host, warn: options.warn, twilioMiddleware: recordExchanges(exchanges) };
  let stack = await startLocalStack({ dataDir, serviceDir, port: 0, env, clockStart: options.now ?? FIXTURE_NOW, ...listen });
  let s3 = client(stack);
  const t: TestStack = {
    get stack() {
      return stack;
    },
    get s3() {
      return s3;
    },
    dataDir,
    postEvents(body, headers = {}) {
      return postJson(stack, '/ehr/events', body, headers);
    },
    postFhir(body, headers = {}) {
      return postJson(stack, '/ehr/fhir', body, headers);
    },
    async listKeys(prefix = '') {
      // What is stored once the work in flight has landed (delivery receipts arrive after the
      // answer that sent the text), so before/after comparisons compare settled buckets.
      await stack.settle();
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: stack.bucket, Prefix: prefix, ContinuationToken: token }));
        keys.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
        token = page.NextContinuationToken;
      } while (token);
      return keys.sort();
    },
    async getJson(key) {
      const res = await s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: key }));
      return JSON.parse((await res.Body?.transformToString()) ?? 'null');
    },
    async restart() {
      // The restarted stack's clock goes on from where the old one was.
      const resumeAt = stack.clock.now();
      await stack.stop();
      stack = await startLocalStack({ dataDir, serviceDir, port: 0, env, clockStart: resumeAt, ...listen });
      s3 = client(stack);
    },
    async stop() {
      await stack.stop();
      rmSync(dataDir, { recursive: true, force: true });
      assertConformance(exchanges, 'Twilio stand-in of the local stack');
    },
  };
  return t;
}

function client(stack: LocalStack): S3Client {
  return createS3Client({ region: 'us-east-1', endpoint: stack.s3.endpoint, credentials: LOCAL_S3_CREDENTIALS });
}
