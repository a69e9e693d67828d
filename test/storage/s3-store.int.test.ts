import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_S3_CREDENTIALS, startEmbeddedS3, type EmbeddedS3 } from '../../src/local/s3/embedded-s3';
import { S3AppointmentStore } from '../../src/storage/s3-appointment-store';
import { createS3Client } from '../../src/storage/s3-client';
import { DamagedRecordError } from '../../src/storage/documents';
import { messageLinkKey, optOutKey, reminderClaimKey, stateKey, SWEEP_STATUS_KEY } from '../../src/storage/keys';
import { S3AdminStore } from '../../src/storage/s3-admin-store';
import { defineStoreContract } from './store-contract';
import { S3StaffRecords } from '../../src/storage/s3-staff-records';
import { defineStaffRecordsContract } from './staff-records-contract';
import { started } from '../support/started';

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
  await started(s3)?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Against the embedded S3-protocol server, a fresh bucket per test. */
defineStoreContract('S3AppointmentStore', async () => {
  buckets += 1;
  const bucket = `contract-${buckets}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return new S3AppointmentStore(client, bucket);
});

defineStaffRecordsContract('S3StaffRecords', async () => {
  buckets += 1;
  const bucket = `contract-${buckets}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return new S3StaffRecords(client, bucket);
});

describe('a document in S3 that is not what the store wrote', () => {
  async function storeWith(key: string, body: string): Promise<S3AppointmentStore> {
    buckets += 1;
    const bucket = `damaged-${buckets}`;
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json' }));
    return new S3AppointmentStore(client, bucket);
  }

  it.each([
    ['a state that is not JSON', stateKey('A-1'), '{"facts": ', (s: S3AppointmentStore) => s.getState('A-1'), 'not-json'],
    ['a state of another shape', stateKey('A-1'), '{"facts": {}}', (s: S3AppointmentStore) => s.getState('A-1'), 'unexpected-shape'],
    [
      'an opt-out without its flag',
      optOutKey('+14155550134'),
      '{"phone": "+14155550134", "at": "2026-11-25T00:00:00Z"}',
      (s: S3AppointmentStore) => s.getOptOut('+14155550134'),
      'unexpected-shape',
    ],
    [
      'a reminder claim with a text count',
      reminderClaimKey('A-1', 1, 1),
      '{"appointment_id": "A-1", "n": "one"}',
      (s: S3AppointmentStore) => s.getClaim('A-1', 1, 1),
      'unexpected-shape',
    ],
    [
      'a message link without an appointment',
      messageLinkKey(`SM${'1'.repeat(32)}`),
      '{"message_sid": "x"}',
      (s: S3AppointmentStore) => s.findMessageLink(`SM${'1'.repeat(32)}`),
      'unexpected-shape',
    ],
  ])('%s is a typed damaged-record error, not a cast value or a parser crash', async (_what, key, body, read, kind) => {
    const store = await storeWith(key, body);
    const err = await read(store).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DamagedRecordError);
    expect(err).toMatchObject({ code: 'damaged-record', retryable: false, kind });
    expect((err as Error).message).not.toContain('+1415');
  });

  it('a sweep status without its time is a damaged-record error for the admin store too', async () => {
    buckets += 1;
    const bucket = `damaged-${buckets}`;
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: SWEEP_STATUS_KEY, Body: '{"counts": {"sent": 1}}' }));
    await expect(new S3AdminStore(client, bucket).getSweepStatus()).rejects.toMatchObject({
      code: 'damaged-record',
      kind: 'unexpected-shape',
    });
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: SWEEP_STATUS_KEY,
        Body: '{"at": "2026-11-25T00:00:00Z", "counts": {"sent": 1}, "ms": 12}',
      }),
    );
    expect(await new S3AdminStore(client, bucket).getSweepStatus()).toMatchObject({ at: '2026-11-25T00:00:00Z', ms: 12 });
  });
});
