import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll } from 'vitest';
import { LOCAL_S3_CREDENTIALS, startEmbeddedS3, type EmbeddedS3 } from '../../src/local/s3/embedded-s3';
import { S3AppointmentStore } from '../../src/storage/s3-appointment-store';
import { createS3Client } from '../../src/storage/s3-client';
import { defineStoreContract } from './store-contract';

let s3: EmbeddedS3;
let client: S3Client;
let dir: string;
let buckets = 0;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pam-contract-'));
  s3 = await startEmbeddedS3({ directory: dir, buckets: [] });
  client = createS3Client({ region: 'us-east-1', endpoint: s3.endpoint, credentials: LOCAL_S3_CREDENTIALS });
});
afterAll(async () => {
  await s3?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Against the embedded S3-protocol server, a fresh bucket per test. */
defineStoreContract('S3AppointmentStore', async () => {
  buckets += 1;
  const bucket = `contract-${buckets}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return new S3AppointmentStore(client, bucket);
});
