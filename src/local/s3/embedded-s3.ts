import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

/** Our S3-protocol server (s3-server.ts), or the former s3rver + guard, kept for comparison. */
export type EmbeddedS3Impl = 'builtin' | 's3rver';

export interface EmbeddedS3 {
  /** S3 endpoint; the same across restarts. */
  endpoint: string;
  port: number;
  directory: string;
  impl: EmbeddedS3Impl;
  /** The server process now running (tests kill it). */
  readonly pid: number | undefined;
  /** How often the supervisor has restarted the server after it died. */
  readonly restarts: number;
  /** Resolves when the server next comes back after dying (rejects if the supervisor gives up). */
  nextRestart(): Promise<void>;
  /**
   * The requests the server has answered since it (last) started, by `METHOD key-shape status`
   * (e.g. `PUT appointments/*\/state.json 412`); null unless the environment had
   * EMBEDDED_S3_COUNT_REQUESTS=1 when it started (benchmarks set it).
   */
  requestCounts(): Promise<Record<string, number> | null>;
  stop(): Promise<void>;
}

/** Set to 1 in the environment before starting the server to have it count requests. */
export const COUNT_REQUESTS_ENV = 'EMBEDDED_S3_COUNT_REQUESTS';
/** `s3rver` selects the former server (the benchmark compares the two). */
export const IMPL_ENV = 'EMBEDDED_S3_IMPL';

export const LOCAL_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface Supervision {
  /** The server died (signal or exit code) and is being restarted. No data in the message. */
  onDied?: (why: string) => void;
  onRestarted?: () => void;
  /** Restarting failed `MAX_START_FAILURES` times in a row; the server stays down. */
  onGaveUp?: (err: Error) => void;
}

const MAX_START_FAILURES = 5;

export function implFromEnv(env: Record<string, string | undefined> = process.env): EmbeddedS3Impl {
  return env[IMPL_ENV] === 's3rver' ? 's3rver' : 'builtin';
}

interface Started {
  child: ChildProcess;
  endpoint: string;
  port: number;
}

async function startChild(options: {
  impl: EmbeddedS3Impl;
  directory: string;
  buckets: string[];
  port: number;
  host: string;
  fsync: boolean;
}): Promise<Started> {
  const child: ChildProcess = fork(path.join(__dirname, 's3-child.ts'), [], {
    execArgv: ['--import', 'tsx', ...(options.impl === 's3rver' ? ['--openssl-legacy-provider'] : [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  try {
    const ready = await new Promise<{ endpoint: string; port: number }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('embedded S3 did not start within 20 s')), 20_000);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`embedded S3 exited during start (${signal ?? `code ${code}`})`));
      });
      child.once('message', (m: { ready: boolean; endpoint: string; port: number; error?: string; code?: string }) => {
        clearTimeout(timer);
        if (m.ready) resolve(m);
        // The child's error code travels with it, so the caller can tell a busy port from the rest.
        else reject(Object.assign(new Error(`embedded S3 failed to start: ${m.error}`), m.code ? { code: m.code } : {}));
      });
      child.send(options);
    });
    child.removeAllListeners('exit');
    return { child, ...ready };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}

/**
 * Starts the embedded S3-protocol server as a child process and supervises it: when it dies it
 * is started again on the same port, so clients (the Functions, the sweep) recover on their next
 * request. Data lives under `directory` and survives restarts.
 */
export async function startEmbeddedS3(options: {
  directory: string;
  buckets: string[];
  port?: number;
  host?: string;
  impl?: EmbeddedS3Impl;
  /** fsync every write (durable across power loss; a crash of the process needs none). */
  fsync?: boolean;
  /** false: a dead server stays dead (the tests that kill it on purpose and restart it themselves). */
  supervise?: Supervision | false;
}): Promise<EmbeddedS3> {
  mkdirSync(options.directory, { recursive: true });
  const impl = options.impl ?? implFromEnv();
  const host = options.host ?? '127.0.0.1';
  const childOptions = {
    impl,
    directory: options.directory,
    buckets: options.buckets,
    port: options.port ?? 0,
    host,
    fsync: options.fsync ?? false,
  };
  let current = await startChild(childOptions);
  // Restarts reuse the port first given, so the endpoint the clients hold stays right.
  childOptions.port = current.port;
  const supervision = options.supervise === false ? undefined : (options.supervise ?? {});
  let stopping = false;
  let restarts = 0;
  let restarting: Promise<void> | undefined;
  let waiters: { resolve: () => void; reject: (err: Error) => void }[] = [];

  const asked = new Map<number, { resolve: (counts: Record<string, number> | null) => void; reject: (err: Error) => void }>();
  let asks = 0;

  const restart = async () => {
    for (let failures = 0; ; failures += 1) {
      if (stopping) return;
      try {
        current = await startChild(childOptions);
        watch(current.child);
        restarts += 1;
        supervision?.onRestarted?.();
        for (const w of waiters) w.resolve();
        waiters = [];
        return;
      } catch (err) {
        if (failures + 1 >= MAX_START_FAILURES) {
          const gaveUp = new Error(`embedded S3 could not be restarted: ${(err as Error).message}`);
          supervision?.onGaveUp?.(gaveUp);
          for (const w of waiters) w.reject(gaveUp);
          waiters = [];
          return;
        }
        await new Promise((r) => setTimeout(r, 100 * 2 ** failures));
      }
    }
  };

  const watch = (child: ChildProcess) => {
    child.on('message', (m: { requestCounts?: number; counts?: Record<string, number> | null }) => {
      if (typeof m.requestCounts !== 'number') return;
      asked.get(m.requestCounts)?.resolve(m.counts ?? null);
      asked.delete(m.requestCounts);
    });
    child.once('exit', (code, signal) => {
      for (const ask of asked.values()) ask.reject(new Error('embedded S3 stopped before answering'));
      asked.clear();
      if (stopping || !supervision) return;
      supervision.onDied?.(signal ?? `exit code ${code}`);
      restarting = restart().finally(() => {
        restarting = undefined;
      });
    });
  };
  watch(current.child);

  const running = () => current.child.exitCode === null && current.child.signalCode === null;
  return {
    endpoint: current.endpoint,
    port: current.port,
    directory: options.directory,
    impl,
    get pid() {
      return current.child.pid;
    },
    get restarts() {
      return restarts;
    },
    nextRestart: () => new Promise<void>((resolve, reject) => waiters.push({ resolve, reject })),
    requestCounts: () =>
      new Promise((resolve, reject) => {
        if (!running()) return reject(new Error('embedded S3 has stopped'));
        asks += 1;
        asked.set(asks, { resolve, reject });
        current.child.send({ requestCounts: asks });
      }),
    stop: async () => {
      stopping = true;
      await restarting;
      const child = current.child;
      if (child.exitCode !== null || child.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.send('stop');
      });
    },
  };
}
