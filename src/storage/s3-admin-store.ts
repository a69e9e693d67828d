import { GetObjectCommand, HeadBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { BusyError } from '../domain/errors';
import { DamagedRecordError, parseDocument } from './documents';
import { SWEEP_STATUS_KEY } from './keys';
import { isConditionFailure, isNotFound } from './s3-objects';

/** The heartbeat the reminder sweep writes after every run (src/use-cases/sweep.ts). */
export interface SweepStatus {
  at: string;
  counts?: Record<string, number>;
}

/** Other fields the sweep writes (finished_at, ms, sweep_id) are kept as they are. */
const SweepStatusDocument: z.ZodType<SweepStatus> = z.looseObject({ at: z.string(), counts: z.record(z.string(), z.number()).optional() });

/**
 * Read-modify-write of one small JSON object, atomic across processes: the write is conditional
 * on the version read (or on absence), and retried on conflict.
 */
export interface AtomicJsonStore {
  update<T, R>(key: string, change: (current: T | null) => JsonChange<T, R>): Promise<R>;
}

/** What a change decided: its result, and the new value to write (none: leave the object as is). */
export interface JsonChange<T, R> {
  result: R;
  value?: T;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const MAX_ATTEMPTS = 30;

/** What the admin Functions keep in or read from the bucket besides appointments. */
export class S3AdminStore implements AtomicJsonStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  /** Throws when the bucket is missing or not readable with our credentials. */
  async ping(): Promise<void> {
    await this.s3.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  async getSweepStatus(): Promise<SweepStatus | null> {
    const got = await this.read(SWEEP_STATUS_KEY);
    return got ? parseDocument(SweepStatusDocument, got.value, 'sweep status') : null;
  }

  /**
   * `change` sees the current value and returns a result, plus a new value when it wants one
   * written. The result of the attempt that won the conditional write is returned.
   */
  async update<T, R>(key: string, change: (current: T | null) => JsonChange<T, R>): Promise<R> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      const current = await this.read(key);
      const outcome = change((current?.value as T | undefined) ?? null);
      if (outcome.value === undefined) return outcome.result;
      try {
        await this.s3.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: JSON.stringify(outcome.value),
            ContentType: JSON_TYPE,
            ...(current ? { IfMatch: current.etag } : { IfNoneMatch: '*' }),
          }),
        );
        return outcome.result;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
        await this.sleep(Math.random() * Math.min(200, 5 * 2 ** attempt));
      }
    }
    throw new BusyError('an admin record', MAX_ATTEMPTS);
  }

  private async read(key: string): Promise<{ value: unknown; etag: string } | null> {
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const text = (await res.Body?.transformToString('utf-8')) ?? 'null';
      let value: unknown;
      try {
        value = JSON.parse(text) as unknown;
      } catch {
        throw new DamagedRecordError('not-json', 'admin record');
      }
      return { value, etag: res.ETag ?? '' };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }
}
