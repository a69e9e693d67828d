import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DamagedRecordError } from './documents';

/**
 * JSON objects in one bucket: the S3 mechanics every S3 adapter shares (conditional create,
 * compare-and-set on the ETag, listing), so each adapter says only which keys it keeps.
 */

interface S3ErrorShape {
  name?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

export function s3Status(err: unknown): number | undefined {
  return (err as S3ErrorShape | null | undefined)?.$metadata?.httpStatusCode;
}

export function isNotFound(err: unknown): boolean {
  const e = err as S3ErrorShape | null | undefined;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || s3Status(err) === 404;
}

/** 412 when the condition failed; AWS answers 409 when two conditional writes race. */
export function isConditionFailure(err: unknown): boolean {
  const e = err as S3ErrorShape | null | undefined;
  return s3Status(err) === 412 || s3Status(err) === 409 || e?.name === 'PreconditionFailed' || e?.name === 'ConditionalRequestConflict';
}

export const JSON_TYPE = 'application/json; charset=utf-8';

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // The parser's message quotes the content; the error says only what kind of damage it is.
    throw new DamagedRecordError('not-json', 'object');
  }
}

/** What a conditional create did: made the object (with its ETag), or found one there. */
export type Creation = { created: true; etag: string } | { created: false };

export class S3Objects {
  constructor(
    readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  async getJson(key: string): Promise<{ value: unknown; etag: string } | null> {
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const text = (await res.Body?.transformToString('utf-8')) ?? '';
      return { value: parseJson(text), etag: res.ETag ?? '' };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async putJson(key: string, value: unknown): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: JSON.stringify(value), ContentType: JSON_TYPE }));
  }

  /** Writes the object only if none is there (If-None-Match: *). */
  async putNew(key: string, value: unknown): Promise<Creation> {
    try {
      const res = await this.s3.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: JSON.stringify(value), ContentType: JSON_TYPE, IfNoneMatch: '*' }),
      );
      return { created: true, etag: res.ETag ?? '' };
    } catch (err) {
      if (isConditionFailure(err)) return { created: false };
      throw err;
    }
  }

  /** Writes the object only if the condition holds; a failed condition (or a vanished object) is a `conflict`. */
  async putConditional(key: string, value: unknown, condition: { IfMatch?: string; IfNoneMatch?: string }): Promise<'ok' | 'conflict'> {
    try {
      await this.s3.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: JSON.stringify(value), ContentType: JSON_TYPE, ...condition }),
      );
      return 'ok';
    } catch (err) {
      if (isConditionFailure(err) || isNotFound(err)) return 'conflict';
      throw err;
    }
  }

  /** Every key under `prefix` (after `startAfter`), page by page. */
  async *listKeys(prefix: string, startAfter?: string): AsyncIterable<string> {
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          ContinuationToken: token,
          ...(startAfter && !token ? { StartAfter: startAfter } : {}),
        }),
      );
      for (const o of page.Contents ?? []) if (o.Key) yield o.Key;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** One listing of at most `max` keys; `more` when the listing was cut there. */
  async listAfter(prefix: string, startAfter: string | undefined, max: number): Promise<{ keys: string[]; more: boolean }> {
    const page = await this.s3.send(
      new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, MaxKeys: max, ...(startAfter ? { StartAfter: startAfter } : {}) }),
    );
    return { keys: (page.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : [])), more: page.IsTruncated === true };
  }
}
