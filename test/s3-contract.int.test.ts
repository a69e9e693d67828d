import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_S3_CREDENTIALS, startEmbeddedS3, type EmbeddedS3 } from '../src/local/s3/embedded-s3';
import { createS3Client } from '../src/storage/s3-client';

/**
 * What the app relies on S3 to do, through standard SDK calls and S3's documented answers only, so
 * the same file passes against AWS S3: S3_CONTRACT_BUCKET=<a bucket of yours> (credentials and
 * region from the usual AWS environment) runs it there, under a fresh prefix. Without it, it runs
 * against the embedded server `npm start` uses.
 */
const AWS_BUCKET = process.env.S3_CONTRACT_BUCKET;

let server: EmbeddedS3 | undefined;
let dir: string | undefined;
let client: S3Client;
let endpoint: string;
let Bucket: string;
let credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
const P = `contract-${randomUUID()}/`;

beforeAll(async () => {
  if (AWS_BUCKET) {
    Bucket = AWS_BUCKET;
    client = createS3Client({ region: process.env.AWS_REGION ?? 'us-east-1' });
    endpoint = `https://${Bucket}.s3.amazonaws.com`;
    return;
  }
  dir = mkdtempSync(path.join(os.tmpdir(), 'pam-s3-contract-'));
  Bucket = 's3-contract';
  server = await startEmbeddedS3({ directory: dir, buckets: [Bucket] });
  credentials = { ...LOCAL_S3_CREDENTIALS };
  client = createS3Client({ region: 'us-east-1', endpoint: server.endpoint, credentials });
  endpoint = `${server.endpoint}/${Bucket}`;
});
afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function failure(p: Promise<unknown>): Promise<{ name: string; status: number | undefined }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected the request to fail');
}

const put = (Key: string, Body: string | Buffer, extra: Partial<ConstructorParameters<typeof PutObjectCommand>[0]> = {}) =>
  client.send(new PutObjectCommand({ Bucket, Key, Body, ...extra }));

async function text(Key: string): Promise<string> {
  const r = await client.send(new GetObjectCommand({ Bucket, Key }));
  return (await r.Body?.transformToString('utf-8')) ?? '';
}

async function listAll(input: { Prefix: string; Delimiter?: string; MaxKeys?: number; StartAfter?: string }) {
  const items: string[] = [];
  const pages: ListObjectsV2CommandOutput[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket, ...input, ContinuationToken: token }));
    pages.push(page);
    items.push(...(page.Contents ?? []).map((o) => o.Key ?? ''), ...(page.CommonPrefixes ?? []).map((c) => c.Prefix ?? ''));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return { items, pages };
}

describe('S3 contract: authentication', () => {
  it('refuses a request without an Authorization header with 403 AccessDenied', async () => {
    const res = await fetch(`${endpoint}/${P}anything`);
    expect(res.status).toBe(403);
    expect(await res.text()).toMatch(/<Code>AccessDenied<\/Code>/);
  });

  it('refuses a request signed with the wrong secret with 403 SignatureDoesNotMatch', async () => {
    if (AWS_BUCKET && !process.env.AWS_ACCESS_KEY_ID) return;
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- tsc needs it: the lint's view of credentials differs
    const accessKeyId = credentials?.accessKeyId ?? (process.env.AWS_ACCESS_KEY_ID as string);
    const wrong = new S3Client({
      region: 'us-east-1',
      ...(server ? { endpoint: server.endpoint, forcePathStyle: true } : {}),
      credentials: { accessKeyId, secretAccessKey: 'not-the-secret' },
      maxAttempts: 1,
    });
    expect(await failure(wrong.send(new GetObjectCommand({ Bucket, Key: `${P}x` })))).toEqual({
      name: 'SignatureDoesNotMatch',
      status: 403,
    });
  });
});

describe('S3 contract: objects', () => {
  it('answers HeadBucket for the bucket', async () => {
    const r = await client.send(new HeadBucketCommand({ Bucket }));
    expect(r.$metadata.httpStatusCode).toBe(200);
  });

  it('stores an object and answers its ETag (MD5), Content-Type, Last-Modified, length and metadata', async () => {
    const body = '{"héllo":"wörld"}';
    const written = await put(`${P}obj/a.json`, body, { ContentType: 'application/json; charset=utf-8', Metadata: { origin: 'contract' } });
    const md5 = createHash('md5').update(body).digest('hex');
    expect(written.ETag).toBe(`"${md5}"`);
    const got = await client.send(new GetObjectCommand({ Bucket, Key: `${P}obj/a.json` }));
    expect(await got.Body?.transformToString('utf-8')).toBe(body);
    expect(got.ETag).toBe(`"${md5}"`);
    expect(got.ContentType).toBe('application/json; charset=utf-8');
    expect(got.ContentLength).toBe(Buffer.byteLength(body));
    expect(got.Metadata).toEqual({ origin: 'contract' });
    expect(Math.abs((got.LastModified?.getTime() ?? 0) - Date.now())).toBeLessThan(5 * 60_000);
    const head = await client.send(new HeadObjectCommand({ Bucket, Key: `${P}obj/a.json` }));
    expect(head).toMatchObject({
      ETag: `"${md5}"`,
      ContentType: 'application/json; charset=utf-8',
      ContentLength: Buffer.byteLength(body),
    });
  });

  it('answers 404 NoSuchKey for a missing key, and 404 to HeadObject', async () => {
    expect(await failure(client.send(new GetObjectCommand({ Bucket, Key: `${P}obj/missing` })))).toEqual({
      name: 'NoSuchKey',
      status: 404,
    });
    expect(await failure(client.send(new HeadObjectCommand({ Bucket, Key: `${P}obj/missing` })))).toMatchObject({ status: 404 });
  });

  it('deletes an object (and answers success for one that is not there)', async () => {
    await put(`${P}obj/del`, 'x');
    await client.send(new DeleteObjectCommand({ Bucket, Key: `${P}obj/del` }));
    expect(await failure(client.send(new GetObjectCommand({ Bucket, Key: `${P}obj/del` })))).toMatchObject({ name: 'NoSuchKey' });
    const again = await client.send(new DeleteObjectCommand({ Bucket, Key: `${P}obj/del` }));
    expect(again.$metadata.httpStatusCode).toBe(204);
  });

  it('deletes many objects with one DeleteObjects, listing each as deleted', async () => {
    const keys = ['d/1', 'd/2', 'd/3 & <4>'].map((k) => `${P}${k}`);
    for (const k of keys) await put(k, 'x');
    const r = await client.send(
      new DeleteObjectsCommand({ Bucket, Delete: { Objects: [...keys, `${P}d/never`].map((Key) => ({ Key })) } }),
    );
    expect((r.Deleted ?? []).map((d) => d.Key).sort()).toEqual([...keys, `${P}d/never`].sort());
    expect(r.Errors ?? []).toEqual([]);
    expect((await listAll({ Prefix: `${P}d/` })).items).toEqual([]);
  });

  it('takes a streamed body with the SDK default checksums (aws-chunked with a trailer) and stores only the payload', async () => {
    const defaults = new S3Client({
      region: 'us-east-1',
      ...(server ? { endpoint: server.endpoint, forcePathStyle: true } : {}),
      ...(credentials ? { credentials } : {}),
    });
    const payload = 'streamed-body '.repeat(1000);
    await defaults.send(
      new PutObjectCommand({
        Bucket,
        Key: `${P}obj/stream`,
        Body: Readable.from([Buffer.from(payload)]),
        ContentLength: Buffer.byteLength(payload),
      }),
    );
    expect(await text(`${P}obj/stream`)).toBe(payload);
  });

  it('refuses a body whose Content-MD5 does not match with 400 BadDigest', async () => {
    const wrongMd5 = createHash('md5').update('something else').digest('base64');
    expect(await failure(put(`${P}obj/md5`, 'body', { ContentMD5: wrongMd5 }))).toMatchObject({ name: 'BadDigest', status: 400 });
  });
});

describe('S3 contract: conditional writes', () => {
  it('If-None-Match: * creates once, then answers 412 PreconditionFailed and keeps the first', async () => {
    await put(`${P}c/once`, 'first', { IfNoneMatch: '*' });
    expect(await failure(put(`${P}c/once`, 'second', { IfNoneMatch: '*' }))).toEqual({ name: 'PreconditionFailed', status: 412 });
    expect(await text(`${P}c/once`)).toBe('first');
  });

  it('If-Match replaces only the version it names', async () => {
    const v1 = await put(`${P}c/cas`, 'v1');
    expect(await failure(put(`${P}c/cas`, 'x', { IfMatch: '"0123456789abcdef0123456789abcdef"' }))).toEqual({
      name: 'PreconditionFailed',
      status: 412,
    });
    const v2 = await put(`${P}c/cas`, 'v2', { IfMatch: v1.ETag });
    expect(v2.ETag).not.toBe(v1.ETag);
    expect(await failure(put(`${P}c/cas`, 'v3', { IfMatch: v1.ETag }))).toMatchObject({ status: 412 });
    expect(await text(`${P}c/cas`)).toBe('v2');
  });

  it('If-Match on a missing object answers 404 NoSuchKey', async () => {
    expect(await failure(put(`${P}c/missing`, 'x', { IfMatch: '"0123456789abcdef0123456789abcdef"' }))).toEqual({
      name: 'NoSuchKey',
      status: 404,
    });
  });

  it('lets exactly one of 20 racing creators win; the others get 412 (or 409 ConditionalRequestConflict)', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => put(`${P}c/race-create`, `writer ${i}`, { IfNoneMatch: '*' })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results)
      if (r.status === 'rejected')
        expect([409, 412]).toContain((r.reason as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode);
  });

  it('lets exactly one of 20 racing writers holding the same ETag win', async () => {
    const base = await put(`${P}c/race`, 'base');
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => put(`${P}c/race`, `writer ${i}`, { IfMatch: base.ETag })),
    );
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    expect(won).toHaveLength(1);
    expect(await text(`${P}c/race`)).toBe(`writer ${won[0]}`);
  });
});

describe('S3 contract: ListObjectsV2', () => {
  const tree = ['t/a.json', 't/b/1', 't/b/2', 't/b/3', 't/c/1', 't/d', 't/e/x/1', 't/f'];
  beforeAll(async () => {
    await Promise.all(tree.map((k) => put(`${P}${k}`, k)));
  });

  it('lists keys under a prefix with size and ETag', async () => {
    const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix: `${P}t/b/` }));
    expect(page.Contents?.map((o) => o.Key)).toEqual([`${P}t/b/1`, `${P}t/b/2`, `${P}t/b/3`]);
    expect(page.Contents?.[0]).toMatchObject({ Size: 5, ETag: `"${createHash('md5').update('t/b/1').digest('hex')}"` });
    expect(page.KeyCount).toBe(3);
    expect(page.IsTruncated).toBe(false);
  });

  it('groups keys by the delimiter into CommonPrefixes', async () => {
    const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix: `${P}t/`, Delimiter: '/' }));
    expect(page.Contents?.map((o) => o.Key)).toEqual([`${P}t/a.json`, `${P}t/d`, `${P}t/f`]);
    expect(page.CommonPrefixes?.map((c) => c.Prefix)).toEqual([`${P}t/b/`, `${P}t/c/`, `${P}t/e/`]);
    expect(page.KeyCount).toBe(6);
  });

  it('pages with MaxKeys and continuation tokens, keys and prefixes together, each once', async () => {
    for (const MaxKeys of [1, 2, 4]) {
      const { items, pages } = await listAll({ Prefix: `${P}t/`, Delimiter: '/', MaxKeys });
      expect(items.sort()).toEqual([`${P}t/a.json`, `${P}t/b/`, `${P}t/c/`, `${P}t/d`, `${P}t/e/`, `${P}t/f`]);
      expect(pages).toHaveLength(Math.ceil(6 / MaxKeys));
      for (const p of pages) expect((p.Contents?.length ?? 0) + (p.CommonPrefixes?.length ?? 0)).toBeLessThanOrEqual(MaxKeys);
    }
    const flat = await listAll({ Prefix: `${P}t/`, MaxKeys: 3 });
    expect(flat.items).toEqual(tree.map((k) => `${P}${k}`));
  });

  it('starts after StartAfter', async () => {
    const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix: `${P}t/`, StartAfter: `${P}t/b/2` }));
    expect(page.Contents?.map((o) => o.Key)).toEqual(['t/b/3', 't/c/1', 't/d', 't/e/x/1', 't/f'].map((k) => `${P}${k}`));
  });

  it('lists in UTF-8 byte order, not UTF-16 order', async () => {
    const keys = ['u/a', 'u/a~', 'u/aé', 'u/a\uE000', 'u/a😀', 'u/b'];
    await Promise.all([...keys].reverse().map((k) => put(`${P}${k}`, 'x')));
    const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix: `${P}u/` }));
    expect(page.Contents?.map((o) => o.Key)).toEqual(keys.map((k) => `${P}${k}`));
  });

  it('pages past 1,000 keys with the default page size', async () => {
    for (let i = 0; i < 1100; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => put(`${P}many/${String(i + j).padStart(5, '0')}`, 'x')));
    }
    const { items, pages } = await listAll({ Prefix: `${P}many/` });
    expect(items).toHaveLength(1100);
    expect(new Set(items).size).toBe(1100);
    expect(pages.map((p) => p.KeyCount)).toEqual([1000, 100]);
  });
});
