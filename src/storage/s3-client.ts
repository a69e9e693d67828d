import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';

export interface S3Settings {
  region: string;
  /** Set for S3-compatible servers (the embedded one locally); unset for AWS S3. */
  endpoint?: string | undefined;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string | undefined } | undefined;
  maxSockets?: number;
}

/**
 * One S3 client per process. Checksums are only sent when an operation requires them: S3-compatible
 * servers that do not understand aws-chunked trailers would otherwise store the framing verbatim.
 */
export function createS3Client(settings: S3Settings): S3Client {
  const maxSockets = settings.maxSockets ?? 64;
  return new S3Client({
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint, forcePathStyle: true } : {}),
    ...(settings.credentials ? { credentials: settings.credentials } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
    requestHandler: new NodeHttpHandler({
      httpAgent: new Agent({ keepAlive: true, maxSockets }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
      connectionTimeout: 5_000,
      requestTimeout: 15_000,
    }),
  });
}

/** The S3 settings every runtime's config carries (AWS_REGION, S3_ENDPOINT, optional static keys). */
export function s3SettingsFrom(config: {
  AWS_REGION: string;
  S3_ENDPOINT?: string | undefined;
  AWS_ACCESS_KEY_ID?: string | undefined;
  AWS_SECRET_ACCESS_KEY?: string | undefined;
}): S3Settings {
  return {
    region: config.AWS_REGION,
    endpoint: config.S3_ENDPOINT,
    credentials:
      config.AWS_ACCESS_KEY_ID && config.AWS_SECRET_ACCESS_KEY
        ? { accessKeyId: config.AWS_ACCESS_KEY_ID, secretAccessKey: config.AWS_SECRET_ACCESS_KEY }
        : undefined,
  };
}
