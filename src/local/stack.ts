import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import { createFunctionsApp, jsonErrorHandler } from './functions-server';
import { LOCAL_S3_CREDENTIALS, startEmbeddedS3, type EmbeddedS3 } from './s3/embedded-s3';

export const LOCAL_BUCKET = 'appointments-local';

export interface LocalStackOptions {
  /** Where data and generated local secrets live (git-ignored `.local/` for `npm start`). */
  dataDir: string;
  /** The built Twilio Functions service (build/service). */
  serviceDir: string;
  port?: number;
  host?: string;
  /** Values from `.env` / the environment; local plumbing (S3 endpoint, bucket) is always ours. */
  env?: Record<string, string | undefined>;
}

export interface LocalStack {
  url: string;
  port: number;
  s3: EmbeddedS3;
  /** The environment the Functions run with (contains local secrets; never log it). */
  env: Record<string, string>;
  bucket: string;
  stop(): Promise<void>;
}

interface LocalSecrets {
  EHR_API_KEY: string;
  AUTH_TOKEN: string;
}

/** Local-only secrets are generated once and kept with the local data, so restarts keep them. */
export function localSecrets(dataDir: string): LocalSecrets {
  const file = path.join(dataDir, 'local-secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as LocalSecrets;
  const secrets: LocalSecrets = {
    EHR_API_KEY: `local-${randomBytes(24).toString('hex')}`,
    AUTH_TOKEN: randomBytes(16).toString('hex'),
  };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}

function defined(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')) as Record<string, string>;
}

/** Starts everything `npm start` runs: embedded S3, the Functions, and the local stand-ins. */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const host = options.host ?? '127.0.0.1';
  const secrets = localSecrets(options.dataDir);
  const s3 = await startEmbeddedS3({ directory: path.join(options.dataDir, 's3'), buckets: [LOCAL_BUCKET] });
  try {
    const outer = express();
    outer.disable('x-powered-by');
    const server = http.createServer(outer);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    const url = `http://${host === '0.0.0.0' ? 'localhost' : host}:${port}`;

    const given = defined(options.env ?? {});
    const env: Record<string, string> = {
      ...given,
      ACCOUNT_SID: given.ACCOUNT_SID ?? `AC${'0'.repeat(32)}`,
      AUTH_TOKEN: given.AUTH_TOKEN ?? secrets.AUTH_TOKEN,
      EHR_API_KEY: given.EHR_API_KEY ?? secrets.EHR_API_KEY,
      S3_BUCKET: LOCAL_BUCKET,
      S3_ENDPOINT: s3.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
    };

    const functions = await createFunctionsApp({ serviceDir: options.serviceDir, env, url, port });
    // Deployed, Twilio serves the index.html asset at the service root; the local runtime does not.
    outer.get('/', (req, _res, next) => {
      req.url = '/index.html';
      next();
    });
    outer.use(functions);
    outer.use(jsonErrorHandler);

    return {
      url,
      port,
      s3,
      env,
      bucket: LOCAL_BUCKET,
      stop: async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await s3.stop();
      },
    };
  } catch (err) {
    await s3.stop();
    throw err;
  }
}
