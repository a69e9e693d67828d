import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

export interface EmbeddedS3 {
  /** S3 endpoint (the guard in front of s3rver). */
  endpoint: string;
  port: number;
  directory: string;
  stop(): Promise<void>;
}

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
  return {
    endpoint: ready.endpoint,
    port: ready.port,
    directory: options.directory,
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
