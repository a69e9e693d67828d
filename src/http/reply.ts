import { randomUUID } from 'node:crypto';

/** What an entry point returns; each runtime maps it onto its own response object. */
export interface HttpReply {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

export type ErrorCode =
  | 'unauthorized'
  | 'forbidden'
  | 'unsupported-media-type'
  | 'payload-too-large'
  | 'invalid-json'
  | 'invalid-request'
  | 'invalid-event'
  | 'misconfigured'
  | 'storage-unavailable'
  | 'not-found'
  | 'conflict'
  | 'method-not-allowed'
  | 'rate-limited'
  | 'upstream-error'
  | 'internal';

const STATUS: Record<ErrorCode, number> = {
  unauthorized: 401,
  forbidden: 403,
  'unsupported-media-type': 415,
  'payload-too-large': 413,
  'invalid-json': 400,
  'invalid-request': 400,
  'invalid-event': 400,
  misconfigured: 500,
  'storage-unavailable': 503,
  'not-found': 404,
  conflict: 409,
  'method-not-allowed': 405,
  'rate-limited': 429,
  'upstream-error': 502,
  internal: 500,
};

export function newRequestId(): string {
  return randomUUID();
}

/** The single mapping from an expected failure to an HTTP reply. */
export function errorReply(
  code: ErrorCode,
  message: string,
  requestId: string,
  extra: Record<string, unknown> = {},
): HttpReply {
  return {
    status: STATUS[code],
    headers: { 'Content-Type': 'application/json', 'X-Request-Id': requestId },
    body: { error: { code, message, request_id: requestId, ...extra } },
  };
}

export function jsonReply(status: number, body: unknown, requestId: string): HttpReply {
  return { status, headers: { 'Content-Type': 'application/json', 'X-Request-Id': requestId }, body };
}
