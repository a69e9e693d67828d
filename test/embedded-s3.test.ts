import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_S3_CREDENTIALS, startEmbeddedS3, type EmbeddedS3 } from '../src/local/s3/embedded-s3';
import { createS3Client } from '../src/storage/s3-client';

let s3: EmbeddedS3;
let client: S3Client;
let dir: string;
const Bucket = 'guard-test';

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pam-s3-'));
  s3 = await startEmbeddedS3({ directory: dir, buckets: [Bucket] });
  client = createS3Client({ region: 'us-east-1', endpoint: s3.endpoint, credentials: LOCAL_S3_CREDENTIALS });
});
afterAll(async () => {
  await s3?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function put(Key: string, Body: string, cond: { IfMatch?: string; IfNoneMatch?: string } = {}) {
  try {
    const r = await client.send(new PutObjectCommand({ Bucket, Key, Body, ...cond }));
    return { ok: true as const, etag: r.ETag ?? '' };
  } catch (err) {
    const e = err as { name: string; $metadata: { httpStatusCode: number } };
    return { ok: false as const, name: e.name, status: e.$metadata.httpStatusCode };
  }
}

async function read(Key: string) {
  const r = await client.send(new GetObjectCommand({ Bucket, Key }));
  return (await r.Body?.transformToString()) ?? '';
}

describe('conditional-write guard in front of s3rver', () => {
  it('If-None-Match: * creates once, then answers 412', async () => {
    expect((await put('c/once', 'first', { IfNoneMatch: '*' })).ok).toBe(true);
    expect(await put('c/once', 'second', { IfNoneMatch: '*' })).toEqual({ ok: false, name: 'PreconditionFailed', status: 412 });
    expect(await read('c/once')).toBe('first');
  });

  it('If-Match replaces only the version it names', async () => {
    const v1 = await put('c/cas', 'v1');
    if (!v1.ok) throw new Error('setup');
    expect(await put('c/cas', 'x', { IfMatch: '"0123456789abcdef0123456789abcdef"' })).toMatchObject({ ok: false, status: 412 });
    const v2 = await put('c/cas', 'v2', { IfMatch: v1.etag });
    expect(v2.ok).toBe(true);
    expect(await put('c/cas', 'v3', { IfMatch: v1.etag })).toMatchObject({ ok: false, status: 412 });
    expect(await read('c/cas')).toBe('v2');
  });

  it('If-Match on a missing object answers 404 NoSuchKey, as S3 does', async () => {
    expect(await put('c/missing', 'x', { IfMatch: '"abc"' })).toEqual({ ok: false, name: 'NoSuchKey', status: 404 });
  });

  it('lets exactly one of 20 racing writers with the same If-Match win', async () => {
    const base = await put('c/race', 'base');
    if (!base.ok) throw new Error('setup');
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => put('c/race', `writer ${i}`, { IfMatch: base.etag })));
    const winners = results.filter((r) => r.ok);
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.status === 412)).toHaveLength(19);
    expect(await read('c/race')).toMatch(/^writer \d+$/);
  });

  it('never serves a half-written object to a reader racing a writer', async () => {
    const big = (n: number) => JSON.stringify({ n, pad: 'x'.repeat(200_000) });
    await put('c/torn', big(0));
    const ops = Array.from({ length: 30 }, (_, i) => (i % 2 ? put('c/torn', big(i)) : read('c/torn')));
    const out = await Promise.all(ops);
    for (const r of out) if (typeof r === 'string') expect(() => JSON.parse(r)).not.toThrow();
  });

  it('lists past 1,000 keys (s3rver continuation tokens need the legacy OpenSSL provider)', async () => {
    for (let i = 0; i < 1100; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => put(`l/${String(i + j).padStart(5, '0')}`, 'x')));
    }
    let n = 0;
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix: 'l/', ContinuationToken: token }));
      n += page.Contents?.length ?? 0;
      token = page.NextContinuationToken;
    } while (token);
    expect(n).toBe(1100);
  });
});
