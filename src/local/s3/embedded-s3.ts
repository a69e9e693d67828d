import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

export interface EmbeddedS3 {
  /** S3 endpoint (the guard in front of s3rver). */
  endpoint: string;
  port: number;
  directory: string;
  /**
   * The requests the server has answered since it started, by `METHOD key-shape status` (e.g.
   * `PUT appointments/*\/state.json 412`); null unless the environment had
   * EMBEDDED_S3_COUNT_REQUESTS=1 when it started (benchmarks set it).
   */
  requestCounts(): Promise<Record<string, number> | null>;
  stop(): Promise<void>;
}

/** Set to 1 in the environment before starting the server to have it count requests. */
export const COUNT_REQUESTS_ENV = 'EMBEDDED_S3_COUNT_REQUESTS';

export const LOCAL_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/**
 * Starts the embedded S3-protocol server as a child process. Data lives under `directory` and
 * survives restarts.
 */
export async function startEmbeddedS3(options: {
  directory: string;
  buckets: string[];
  port?: number;
  host?: string;
}): Promise<EmbeddedS3> {
  mkdirSync(options.directory, { recursive: true });
  const child: ChildProcess = fork(path.join(__dirname, 's3-child.ts'), [], {
    execArgv: ['--import', 'tsx', '--openssl-legacy-provider'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const ready = await new Promise<{ endpoint: string; port: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('embedded S3 did not start within 20 s')), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`embedded S3 exited during start (code ${code})`));
    });
    child.once('message', (m: { ready: boolean; endpoint: string; port: number; error?: string }) => {
      clearTimeout(timer);
      if (m.ready) resolve(m);
      else reject(new Error(`embedded S3 failed to start: ${m.error}`));
    });
    child.send({
      directory: options.directory,
      port: options.port ?? 0,
      host: options.host ?? '127.0.0.1',
      buckets: options.buckets,
    });
  });
  child.removeAllListeners('exit');
  const asked = new Map<number, { resolve: (counts: Record<string, number> | null) => void; reject: (err: Error) => void }>();
  let asks = 0;
  child.on('message', (m: { requestCounts?: number; counts?: Record<string, number> | null }) => {
    if (typeof m.requestCounts !== 'number') return;
    asked.get(m.requestCounts)?.resolve(m.counts ?? null);
    asked.delete(m.requestCounts);
  });
  child.on('exit', () => {
    for (const ask of asked.values()) ask.reject(new Error('embedded S3 stopped before answering'));
    asked.clear();
  });
  return {
    endpoint: ready.endpoint,
    port: ready.port,
    directory: options.directory,
    requestCounts: () =>
      new Promise((resolve, reject) => {
        if (child.exitCode !== null || child.signalCode !== null) return reject(new Error('embedded S3 has stopped'));
        asks += 1;
        asked.set(asks, { resolve, reject });
        child.send({ requestCounts: asks });
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.send('stop');
      }),
  };
}
