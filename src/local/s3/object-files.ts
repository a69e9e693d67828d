import { createHash, randomBytes } from 'node:crypto';
import { promises as fs, type Dirent } from 'node:fs';
import path from 'node:path';

/**
 * The embedded S3 server's storage: one file per object, holding a one-line JSON header (key,
 * ETag, size, content type, time, user metadata) and then the body, so body and metadata are
 * always replaced together. A write goes to a temporary file in the same folder, which is then
 * renamed over the object (rename(2) is atomic), so a crash at any moment leaves either the old
 * object or the new one; temporary files a crash left behind are removed at start. File names are
 * the SHA-256 of the key, so any key (up to S3's 1,024 bytes) fits a file name.
 *
 * The keys of every bucket are kept in memory in UTF-8 byte order (S3's listing order), rebuilt
 * from the file headers at start, so listings never touch the disk.
 */
export interface ObjectHead {
  key: string;
  /** Hex MD5 of the body, without quotes (S3's ETag of a single-part upload). */
  etag: string;
  size: number;
  contentType: string;
  /** ISO 8601. */
  modified: string;
  meta: Record<string, string>;
}

export class DamagedObjectError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`object file ${path.basename(file)} is damaged: ${reason}`);
  }
}

export class ObjectFiles {
  private readonly buckets = new Map<string, BucketIndex>();
  private readonly locks = new Map<string, Promise<unknown>>();
  /** Folders known to exist, so a write costs no mkdir. */
  private readonly folders = new Set<string>();

  private constructor(
    private readonly root: string,
    private readonly fsync: boolean,
  ) {}

  /**
   * Opens (or creates) the store under `directory`, rebuilding the key index. `warn` hears of
   * damaged files (by file name only; keys can carry ids).
   */
  static async open(directory: string, options: { fsync?: boolean; warn?: (message: string) => void } = {}): Promise<ObjectFiles> {
    // A folder whose name is not a valid bucket name, so an s3rver data folder can sit beside it.
    const root = path.join(directory, '_buckets');
    await fs.mkdir(root, { recursive: true });
    const store = new ObjectFiles(root, options.fsync ?? false);
    for (const bucket of await readDir(root)) {
      if (!bucket.isDirectory()) continue;
      store.buckets.set(bucket.name, await loadBucket(path.join(root, bucket.name), options.warn ?? (() => undefined)));
    }
    return store;
  }

  hasBucket(bucket: string): boolean {
    return this.buckets.has(bucket);
  }

  bucketNames(): string[] {
    return [...this.buckets.keys()].sort();
  }

  async createBucket(bucket: string): Promise<void> {
    if (this.buckets.has(bucket)) return;
    await fs.mkdir(path.join(this.root, bucket), { recursive: true });
    this.buckets.set(bucket, new BucketIndex());
  }

  /** Only an empty bucket can go, as in S3. */
  async deleteBucket(bucket: string): Promise<'deleted' | 'not-empty' | 'missing'> {
    const index = this.buckets.get(bucket);
    if (!index) return 'missing';
    if (index.size() > 0) return 'not-empty';
    this.buckets.delete(bucket);
    this.folders.clear();
    await fs.rm(path.join(this.root, bucket), { recursive: true, force: true });
    return 'deleted';
  }

  head(bucket: string, key: string): ObjectHead | undefined {
    return this.buckets.get(bucket)?.get(key);
  }

  /** The object as stored; throws DamagedObjectError when its file does not check out. */
  async read(bucket: string, key: string): Promise<{ head: ObjectHead; body: Buffer } | null> {
    if (!this.head(bucket, key)) return null;
    const file = this.fileOf(bucket, key);
    let raw: Buffer;
    try {
      raw = await fs.readFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    const parsed = parseObjectFile(file, raw, true);
    if (parsed.head.key !== key) throw new DamagedObjectError(file, 'it holds another key');
    return parsed;
  }

  /**
   * Writes the object if `check` (run under the key's lock, with the current head) allows it.
   * Writes to one key are serialised, so conditional writes are decided one at a time.
   */
  async write<T>(
    bucket: string,
    key: string,
    object: { body: Buffer; contentType: string; meta: Record<string, string>; modified: Date },
    check: (current: ObjectHead | undefined) => T | undefined,
  ): Promise<{ written: ObjectHead } | { refused: T }> {
    return this.locked(bucket, key, async () => {
      const index = this.indexOf(bucket);
      const refused = check(index.get(key));
      if (refused !== undefined) return { refused };
      const head: ObjectHead = {
        key,
        etag: createHash('md5').update(object.body).digest('hex'),
        size: object.body.length,
        contentType: object.contentType,
        modified: object.modified.toISOString(),
        meta: object.meta,
      };
      const file = this.fileOf(bucket, key);
      const folder = path.dirname(file);
      if (!this.folders.has(folder)) {
        await fs.mkdir(folder, { recursive: true });
        this.folders.add(folder);
      }
      const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
      const handle = await fs.open(temp, 'w');
      try {
        await handle.writev([Buffer.from(`${JSON.stringify(head)}\n`), object.body]);
        if (this.fsync) await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(temp, file);
      if (this.fsync) await syncDir(folder);
      index.set(head);
      return { written: head };
    });
  }

  async delete(bucket: string, key: string): Promise<void> {
    await this.locked(bucket, key, async () => {
      const index = this.indexOf(bucket);
      await fs.rm(this.fileOf(bucket, key), { force: true });
      if (this.fsync) await syncDir(path.dirname(this.fileOf(bucket, key)));
      index.delete(key);
    });
  }

  /** Keys after `after` (exclusive) and starting with `prefix`, in UTF-8 byte order. */
  *keys(bucket: string, prefix: string, after: string | undefined): IterableIterator<ObjectHead> {
    yield* this.indexOf(bucket).from(prefix, after);
  }

  private indexOf(bucket: string): BucketIndex {
    const index = this.buckets.get(bucket);
    if (!index) throw new Error('no such bucket');
    return index;
  }

  private fileOf(bucket: string, key: string): string {
    return objectFile(path.dirname(this.root), bucket, key);
  }

  private async locked<T>(bucket: string, key: string, fn: () => Promise<T>): Promise<T> {
    const id = `${bucket}\u0000${key}`;
    const before = this.locks.get(id) ?? Promise.resolve();
    const run = before.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(id, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(id) === tail) this.locks.delete(id);
    }
  }
}

/** Where the object `bucket/key` of the store under `directory` lives (tests damage it on purpose). */
export function objectFile(directory: string, bucket: string, key: string): string {
  const name = createHash('sha256').update(key).digest('hex');
  return path.join(directory, '_buckets', bucket, name.slice(0, 2), name);
}

/** Imports an s3rver data folder (`<bucket>/<key>._S3rver_object` plus metadata) once, into buckets not yet here. */
export async function importS3rverData(directory: string, store: ObjectFiles, warn: (message: string) => void): Promise<number> {
  let imported = 0;
  for (const bucket of await readDir(directory)) {
    if (!bucket.isDirectory() || bucket.name.startsWith('_') || store.hasBucket(bucket.name)) continue;
    const bucketDir = path.join(directory, bucket.name);
    await store.createBucket(bucket.name);
    for (const file of await walk(bucketDir)) {
      if (!file.endsWith('._S3rver_object')) continue;
      const key = path.relative(bucketDir, file).split(path.sep).join('/').slice(0, -'._S3rver_object'.length);
      let meta: Record<string, unknown> = {};
      try {
        meta = JSON.parse(await fs.readFile(`${file.slice(0, -'object'.length)}metadata.json`, 'utf8')) as Record<string, unknown>;
      } catch {
        warn(`s3rver metadata of ${path.basename(file)} is unreadable; imported with defaults`);
      }
      const contentType = typeof meta['content-type'] === 'string' ? meta['content-type'] : 'application/octet-stream';
      const userMeta = Object.fromEntries(
        Object.entries(meta)
          .filter((e): e is [string, string] => e[0].startsWith('x-amz-meta-') && typeof e[1] === 'string')
          .map(([k, v]) => [k.slice(11), v]),
      );
      const stat = await fs.stat(file);
      await store.write(
        bucket.name,
        key,
        { body: await fs.readFile(file), contentType, meta: userMeta, modified: stat.mtime },
        () => undefined,
      );
      imported += 1;
    }
  }
  return imported;
}

function parseObjectFile(file: string, raw: Buffer, verifyBody: boolean): { head: ObjectHead; body: Buffer } {
  const end = raw.indexOf(10);
  if (end < 0) throw new DamagedObjectError(file, raw.length === 0 ? 'it is empty' : 'no header');
  let head: ObjectHead;
  try {
    head = JSON.parse(raw.subarray(0, end).toString('utf8')) as ObjectHead;
  } catch {
    throw new DamagedObjectError(file, 'unreadable header');
  }
  if (typeof head.key !== 'string' || typeof head.etag !== 'string' || typeof head.size !== 'number')
    throw new DamagedObjectError(file, 'incomplete header');
  const body = raw.subarray(end + 1);
  if (body.length !== head.size) throw new DamagedObjectError(file, `body is ${body.length} bytes, header says ${head.size}`);
  if (verifyBody && createHash('md5').update(body).digest('hex') !== head.etag)
    throw new DamagedObjectError(file, 'body does not match its ETag');
  return { head, body };
}

async function loadBucket(dir: string, warn: (message: string) => void): Promise<BucketIndex> {
  const index = new BucketIndex();
  for (const file of await walk(dir)) {
    if (file.endsWith('.tmp')) {
      await fs.rm(file, { force: true });
      continue;
    }
    try {
      // Only the header is needed here; a bad body is found (and answered 500) when it is read.
      index.set(parseObjectFile(file, await fs.readFile(file), false).head);
    } catch (err) {
      if (err instanceof DamagedObjectError) {
        index.damaged += 1;
        warn(err.message);
      } else throw err;
    }
  }
  return index;
}

async function readDir(dir: string): Promise<Dirent[]> {
  try {
    return await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readDir(dir)) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * JavaScript compares strings by UTF-16 code unit; S3 lists in UTF-8 byte order, which is code
 * point order. The two differ only where a surrogate meets a unit from U+E000 up.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 1) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return fixup(x) - fixup(y);
  }
  return a.length - b.length;
}

function fixup(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}

class BucketIndex {
  private readonly heads = new Map<string, ObjectHead>();
  private readonly sorted: string[] = [];
  damaged = 0;

  size(): number {
    return this.heads.size;
  }

  get(key: string): ObjectHead | undefined {
    return this.heads.get(key);
  }

  set(head: ObjectHead): void {
    if (!this.heads.has(head.key)) this.sorted.splice(this.lowerBound(head.key), 0, head.key);
    this.heads.set(head.key, head);
  }

  delete(key: string): void {
    if (!this.heads.delete(key)) return;
    const i = this.lowerBound(key);
    if (this.sorted[i] === key) this.sorted.splice(i, 1);
  }

  *from(prefix: string, after: string | undefined): IterableIterator<ObjectHead> {
    let i = this.lowerBound(after !== undefined && compareUtf8(after, prefix) >= 0 ? after : prefix);
    if (after !== undefined && this.sorted[i] === after) i += 1;
    for (; i < this.sorted.length; i += 1) {
      const key = this.sorted[i] as string;
      if (!key.startsWith(prefix)) return;
      const head = this.heads.get(key);
      if (head) yield head;
    }
  }

  /** The first index whose key is not below `key`. */
  private lowerBound(key: string): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareUtf8(this.sorted[mid] as string, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
