import { randomUUID } from 'node:crypto';
import type { ErrorCode } from '../domain/errors';

/** What an entry point returns; each runtime maps it onto its own response object. */
export interface HttpReply {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

export type { ErrorCode };

/** The one mapping from an error code to an HTTP status, shared by the Functions and the Lambdas. */
export const STATUS: Record<ErrorCode, number> = {
  'invalid-request': 400,
  'invalid-event': 400,
  'invalid-json': 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  'method-not-allowed': 405,
  conflict: 409,
  'payload-too-large': 413,
  'unsupported-media-type': 415,
  'rate-limited': 429,
  misconfigured: 500,
  'damaged-record': 500,
  internal: 500,
  'upstream-error': 502,
  'storage-unavailable': 503,
  'upstream-unavailable': 503,
  busy: 503,
};

/** Seconds a caller should wait before retrying a retryable failure (sent as Retry-After). */
export const RETRY_AFTER_SECONDS: Partial<Record<ErrorCode, number>> = {
  'rate-limited': 60,
  'storage-unavailable': 30,
  'upstream-unavailable': 30,
  busy: 2,
};

export function newRequestId(): string {
  return randomUUID();
}

/** The single mapping from an expected failure to an HTTP reply. */
export function errorReply(code: ErrorCode, message: string, requestId: string, extra: Record<string, unknown> = {}): HttpReply {
  const retryAfter = RETRY_AFTER_SECONDS[code];
  return {
    status: STATUS[code],
    headers: {
      'Content-Type': 'application/json',
      'X-Request-Id': requestId,
      ...(retryAfter ? { 'Retry-After': String(retryAfter) } : {}),
    },
    body: { error: { code, message, request_id: requestId, ...extra } },
  };
}

export function jsonReply(status: number, body: unknown, requestId: string): HttpReply {
  return { status, headers: { 'Content-Type': 'application/json', 'X-Request-Id': requestId }, body };
}
