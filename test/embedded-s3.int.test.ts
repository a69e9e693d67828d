import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_S3_CREDENTIALS, startEmbeddedS3, type EmbeddedS3 } from '../src/local/s3/embedded-s3';
import { objectFile } from '../src/local/s3/object-files';
import { createS3Client } from '../src/storage/s3-client';
import { started } from './support/started';

let client: S3Client;
const Bucket = 'guard-test';

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

describe.each(['builtin', 's3rver'] as const)('the embedded S3 server (%s)', (impl) => {
  let s3: EmbeddedS3;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'pam-s3-'));
    s3 = await startEmbeddedS3({ directory: dir, buckets: [Bucket], impl });
    client = createS3Client({ region: 'us-east-1', endpoint: s3.endpoint, credentials: LOCAL_S3_CREDENTIALS });
  });
  afterAll(async () => {
    await started(s3)?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

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
    // Every read (the even ops) got a whole object: one of the versions, never a torn prefix.
    const reads = out.filter((_, i) => i % 2 === 0);
    expect(reads).toHaveLength(15);
    for (const r of reads) {
      expect(typeof r).toBe('string');
      expect((JSON.parse(r as string) as { pad: string }).pad).toHaveLength(200_000);
    }
  });

  it('lists past 1,000 keys (s3rver: continuation tokens need the legacy OpenSSL provider)', async () => {
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

/** A small seeded PRNG (mulberry32), so a failing trial can be replayed with CRASH_SEED. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.join(d.parentPath, d.name));
}

/** A client that tries once, so a request the killed server never answered is never replayed at the new one. */
function oneShotClient(endpoint: string): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: LOCAL_S3_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });
}

async function listEverything(c: S3Client, Bucket: string, Prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await c.send(new ListObjectsV2Command({ Bucket, Prefix, MaxKeys: 7, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** 200 for any success, the HTTP status of a failure, -1 when there was no answer. */
async function statusOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (err) {
    return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? -1;
  }
}

describe('the embedded S3 server across crashes (builtin)', () => {
  const SEED = Number(process.env.CRASH_SEED ?? 1_2_2026);
  const TRIALS = Number(process.env.CRASH_TRIALS ?? 50);

  it(`leaves every object at its old or its new version, never unreadable, after kill -9 mid-write (${TRIALS} kills, seed ${SEED})`, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pam-s3-crash-'));
    const Bucket = 'crash';
    const s3 = await startEmbeddedS3({ directory: dir, buckets: [Bucket] });
    const c = oneShotClient(s3.endpoint);
    const random = seeded(SEED);
    const WRITERS = 4;
    const keys = Array.from({ length: 24 }, (_, i) => `k/${i % 3}/obj-${i}.json`);
    // What each key may hold now: a version number, or 'absent'.
    const allowed = new Map<string, Set<number | 'absent'>>(keys.map((k) => [k, new Set(['absent'])]));
    const etags = new Map<string, string>();
    let version = 0;
    // Trials in which at least one write was cut off by the kill (so the kill really hit a write).
    let interrupted = 0;
    try {
      for (let trial = 0; trial < TRIALS; trial += 1) {
        const killed = { now: false };
        let cut = false;
        const writer = async (w: number) => {
          const mine = keys.filter((_, i) => i % WRITERS === w);
          while (!killed.now) {
            const key = mine[Math.floor(random() * mine.length)] as string;
            const may = allowed.get(key) as Set<number | 'absent'>;
            const etag = etags.get(key);
            if (etag && random() < 0.1) {
              may.add('absent');
              const ok = (await statusOf(c.send(new DeleteObjectCommand({ Bucket, Key: key })))) === 200;
              if (ok) {
                allowed.set(key, new Set(['absent']));
                etags.delete(key);
                // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the kill below sets killed.now while this write awaits
              } else if (!killed.now) throw new Error('delete failed while the server was up');
              else cut = true;
              continue;
            }
            version += 1;
            const v = version;
            may.add(v);
            const Body = JSON.stringify({ key, v, pad: 'x'.repeat(Math.floor(random() * 64 * 1024)) });
            try {
              const r = await c.send(
                new PutObjectCommand({ Bucket, Key: key, Body, ...(etag ? { IfMatch: etag } : { IfNoneMatch: '*' }) }),
              );
              allowed.set(key, new Set([v]));
              etags.set(key, r.ETag ?? '');
            } catch (err) {
              // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the kill below sets killed.now while this write awaits
              if (!killed.now) throw err;
              cut = true;
            }
          }
        };
        const restarted = s3.nextRestart();
        const writing = Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
        await new Promise((r) => setTimeout(r, 1 + random() * 40));
        killed.now = true;
        process.kill(s3.pid as number, 'SIGKILL');
        await writing;
        await restarted;
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the writers set cut; TypeScript does not see closures assign it
        if (cut) interrupted += 1;

        expect(
          filesUnder(dir).filter((f) => f.endsWith('.tmp')),
          `trial ${trial}: temporary files left after the restart`,
        ).toEqual([]);
        const listed = new Set(await listEverything(c, Bucket, 'k/'));
        for (const key of keys) {
          const got = await c.send(new GetObjectCommand({ Bucket, Key: key })).then(
            async (r) => ({ value: JSON.parse((await r.Body?.transformToString()) ?? '') as { v: number }, etag: r.ETag ?? '' }),
            (err: { name?: string }) => {
              if (err.name === 'NoSuchKey') return 'absent' as const;
              throw new Error(`trial ${trial}: ${key} is unreadable (${err.name})`);
            },
          );
          const now = got === 'absent' ? 'absent' : got.value.v;
          expect([...(allowed.get(key) ?? [])], `trial ${trial}: ${key}`).toContain(now);
          expect(listed.has(key), `trial ${trial}: ${key} listed`).toBe(now !== 'absent');
          allowed.set(key, new Set([now]));
          if (got === 'absent') etags.delete(key);
          else etags.set(key, got.etag);
        }
      }
      expect(s3.restarts).toBe(TRIALS);
      expect(interrupted).toBeGreaterThan(TRIALS / 2);
    } finally {
      await s3.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);

  it('answers 500 for a damaged object only; the listing and every other object stay readable, before and after a restart', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pam-s3-damage-'));
    const Bucket = 'damage';
    const s3 = await startEmbeddedS3({ directory: dir, buckets: [Bucket] });
    const c = oneShotClient(s3.endpoint);
    try {
      for (const k of ['d/good-1', 'd/empty', 'd/flipped', 'd/good-2'])
        await c.send(new PutObjectCommand({ Bucket, Key: k, Body: `{"k":"${k}"}` }));
      truncateSync(objectFile(dir, Bucket, 'd/empty'), 0);
      const flipped = objectFile(dir, Bucket, 'd/flipped');
      const bytes = readFileSync(flipped);
      bytes[bytes.length - 2] = 0x21;
      writeFileSync(flipped, bytes);
      // A crash's leftover temporary file, and a stray one.
      writeFileSync(`${objectFile(dir, Bucket, 'd/good-1')}.0123456789ab.tmp`, 'half a wri');

      const get = (Key: string) => statusOf(c.send(new GetObjectCommand({ Bucket, Key })));
      expect(await get('d/empty')).toBe(500);
      expect(await get('d/flipped')).toBe(500);
      expect(await get('d/good-1')).toBe(200);
      expect(await listEverything(c, Bucket, 'd/')).toEqual(['d/empty', 'd/flipped', 'd/good-1', 'd/good-2']);

      const back = s3.nextRestart();
      process.kill(s3.pid as number, 'SIGKILL');
      await back;
      // An empty file has no key to list it under; a damaged body keeps its key and still answers 500.
      expect(await listEverything(c, Bucket, 'd/')).toEqual(['d/flipped', 'd/good-1', 'd/good-2']);
      expect(await get('d/flipped')).toBe(500);
      expect(await get('d/good-1')).toBe(200);
      expect(await get('d/good-2')).toBe(200);
      expect(filesUnder(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      // Writing the key again replaces the damaged file.
      await c.send(new PutObjectCommand({ Bucket, Key: 'd/flipped', Body: 'fresh' }));
      expect(await get('d/flipped')).toBe(200);
    } finally {
      await s3.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads the data an s3rver data folder holds (a .local/ from before)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pam-s3-import-'));
    const Bucket = 'legacy';
    try {
      const old = await startEmbeddedS3({ directory: dir, buckets: [Bucket], impl: 's3rver', supervise: false });
      const before = oneShotClient(old.endpoint);
      await before.send(
        new PutObjectCommand({
          Bucket,
          Key: 'appointments/QVBU/state.json',
          Body: '{"v":1}',
          ContentType: 'application/json; charset=utf-8',
        }),
      );
      await before.send(new PutObjectCommand({ Bucket, Key: 'optouts/x.json', Body: '{"v":2}' }));
      await old.stop();
      const now = await startEmbeddedS3({ directory: dir, buckets: [Bucket], impl: 'builtin', supervise: false });
      try {
        const after = oneShotClient(now.endpoint);
        const got = await after.send(new GetObjectCommand({ Bucket, Key: 'appointments/QVBU/state.json' }));
        expect(await got.Body?.transformToString()).toBe('{"v":1}');
        expect(got.ContentType).toBe('application/json; charset=utf-8');
        expect(await listEverything(after, Bucket, '')).toEqual(['appointments/QVBU/state.json', 'optouts/x.json']);
      } finally {
        await now.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is restarted on the same endpoint when it dies, and says so', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pam-s3-supervise-'));
    const died: string[] = [];
    const s3 = await startEmbeddedS3({ directory: dir, buckets: ['sup'], supervise: { onDied: (why) => died.push(why) } });
    try {
      const c = oneShotClient(s3.endpoint);
      await c.send(new PutObjectCommand({ Bucket: 'sup', Key: 'a', Body: 'kept' }));
      const first = s3.pid;
      const back = s3.nextRestart();
      process.kill(first as number, 'SIGKILL');
      await back;
      expect(died).toEqual(['SIGKILL']);
      expect(s3.pid).not.toBe(first);
      const got = await c.send(new GetObjectCommand({ Bucket: 'sup', Key: 'a' }));
      expect(await got.Body?.transformToString()).toBe('kept');
    } finally {
      await s3.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives up after repeated failed restarts and says why (here: its port was taken meanwhile)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pam-s3-giveup-'));
    let gaveUp: Error | undefined;
    const s3 = await startEmbeddedS3({ directory: dir, buckets: ['gone'], supervise: { onGaveUp: (err) => (gaveUp = err) } });
    const squatter = createServer();
    try {
      const back = s3.nextRestart();
      process.kill(s3.pid as number, 'SIGKILL');
      // The port is free once the process is gone; take it before the new server can.
      for (let bound = false; !bound;) {
        bound = await new Promise<boolean>((resolve) => {
          squatter.once('error', () => resolve(false));
          squatter.listen(s3.port, '127.0.0.1', () => resolve(true));
        });
      }
      await expect(back).rejects.toThrow(/could not be restarted/);
      expect(gaveUp?.message).toMatch(/embedded S3 could not be restarted: .*EADDRINUSE/);
    } finally {
      squatter.close();
      await s3.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
