// Runs the embedded S3 server in its own process, so it gets its own core and so a test can kill
// it with SIGKILL mid-write. Started by embedded-s3.ts. The default server is ours
// (s3-server.ts); EMBEDDED_S3_IMPL=s3rver runs the former s3rver + conditional-write guard, kept
// so the benchmark can compare the two (it needs --openssl-legacy-provider: s3rver signs list
// continuation tokens with DES).
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { startConditionalGuard } from './conditional-guard';
import { COUNT_REQUESTS_ENV, LOCAL_S3_CREDENTIALS, type EmbeddedS3Impl } from './embedded-s3';
import { requestLabel, type AnsweredRequest } from './request-label';
import { startS3Server } from './s3-server';

interface StartMessage {
  impl: EmbeddedS3Impl;
  directory: string;
  port: number;
  host: string;
  buckets: string[];
  fsync: boolean;
}

interface Running {
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

interface S3rverStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  getMetadata(bucket: string, key: string): Promise<{ etag: string }>;
  putMetadata(bucket: string, key: string, metadata: unknown, md5: string): Promise<void>;
  putObject(object: {
    bucket: string;
    key: string;
    content: Buffer | NodeJS.ReadableStream;
    metadata: unknown;
  }): Promise<{ size: number; md5: string }>;
}

/**
 * s3rver's filesystem store streams a PUT straight into the object file and answers before the
 * write has finished, so a reader can see a torn object. This replacement writes a temporary file,
 * waits for it to be flushed and renames it into place (its metadata is still written in place).
 */
function makeWritesAtomic(store: S3rverStore): void {
  store.putObject = async (object) => {
    const objectPath = store.getResourcePath(object.bucket, object.key, 'object');
    await fs.mkdir(path.dirname(objectPath), { recursive: true });
    const chunks: Buffer[] = [];
    if (Buffer.isBuffer(object.content)) chunks.push(object.content);
    else for await (const chunk of object.content) chunks.push(Buffer.from(chunk as Buffer));
    const content = Buffer.concat(chunks);
    const md5 = createHash('md5').update(content).digest('hex');
    const temp = `${objectPath}.${randomBytes(6).toString('hex')}.tmp`;
    await fs.writeFile(temp, content);
    await store.putMetadata(object.bucket, object.key, object.metadata, md5);
    await fs.rename(temp, objectPath);
    return { size: content.length, md5 };
  };
}

async function startS3rver(options: StartMessage, onAnswered: ((r: AnsweredRequest) => void) | undefined): Promise<Running> {
  const { default: S3rver } = await import('s3rver');
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory: options.directory,
    silent: true,
    configureBuckets: options.buckets.map((name) => ({ name, configs: [] })),
  });
  const store = (s3rver as unknown as { store: S3rverStore }).store;
  makeWritesAtomic(store);
  const address = await s3rver.run();
  const guard = await startConditionalGuard({
    upstreamPort: address.port,
    port: options.port,
    host: options.host,
    ...(onAnswered ? { onAnswered } : {}),
    currentEtag: async (bucket, key) => {
      try {
        return (await store.getMetadata(bucket, key)).etag;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
    },
  });
  return {
    endpoint: guard.endpoint,
    port: guard.port,
    close: async () => {
      await guard.close();
      await s3rver.close();
    },
  };
}

async function main(options: StartMessage) {
  const counts = process.env[COUNT_REQUESTS_ENV] === '1' ? new Map<string, number>() : null;
  const onAnswered = counts
    ? (r: AnsweredRequest) => {
        const label = requestLabel(r);
        counts.set(label, (counts.get(label) ?? 0) + 1);
      }
    : undefined;
  const server: Running =
    options.impl === 's3rver'
      ? await startS3rver(options, onAnswered)
      : await startS3Server({
          directory: options.directory,
          port: options.port,
          host: options.host,
          buckets: options.buckets,
          credentials: LOCAL_S3_CREDENTIALS,
          fsync: options.fsync,
          ...(onAnswered ? { onAnswered } : {}),
        });
  const stop = async () => {
    await server.close();
    process.exit(0);
  };
  process.on('message', (m: unknown) => {
    if (m === 'stop') void stop();
    const ask = m as { requestCounts?: number } | null;
    if (typeof ask?.requestCounts === 'number') {
      process.send?.({ requestCounts: ask.requestCounts, counts: counts ? Object.fromEntries(counts) : null });
    }
  });
  process.on('disconnect', () => void stop());
  process.send?.({ ready: true, endpoint: server.endpoint, port: server.port });
}

process.once('message', (m: StartMessage) => {
  main(m).catch((err: unknown) => {
    process.send?.({ ready: false, error: (err as Error).message, code: (err as NodeJS.ErrnoException).code });
    process.exit(1);
  });
});
