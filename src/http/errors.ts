import { AppError, isAppError } from '../domain/errors';
import { PostError } from '../ehr/http-post';
import { FhirFetchError, isTransientFhirFailure } from '../ehr/fhir-client';
import { FlowStartError } from '../messaging/flow-starter';
import { log } from '../log';
import { errorReply, type HttpReply } from './reply';

interface ForeignErrorShape {
  name?: string;
  code?: unknown;
  status?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

// Node socket errors and undici's: the peer was unreachable or went away mid-request.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);
// S3's documented retryable error codes (AWS S3 API reference, "Error responses") and the SDK's own timeout.
const S3_TRANSIENT_NAMES = new Set([
  'SlowDown',
  'ServiceUnavailable',
  'InternalError',
  'RequestTimeout',
  'ThrottlingException',
  'TooManyRequestsException',
  'TimeoutError',
  'RequestTimeTooSkewed',
]);

function isNetworkFailure(e: ForeignErrorShape): boolean {
  return typeof e.code === 'string' && NETWORK_CODES.has(e.code);
}

/**
 * Any thrown value in the vocabulary of src/domain/errors.ts. Only failures known to be transient
 * become retryable codes; everything unrecognised is `internal` (a bug), so it answers 500 and
 * an engine stops resending it.
 */
export function toAppError(err: unknown): AppError {
  if (isAppError(err)) return err;
  if (err instanceof FlowStartError) {
    return err.retryable
      ? new AppError('upstream-unavailable', 'Twilio is unavailable; retry later', { cause: err })
      : new AppError('upstream-error', 'Twilio refused the request', { cause: err });
  }
  if (err instanceof PostError) {
    return err.kind === 'too-large'
      ? new AppError('upstream-error', 'the EHR answered with an oversized response', { cause: err })
      : new AppError('upstream-unavailable', 'the EHR endpoint could not be reached; retry later', { cause: err });
  }
  if (err instanceof FhirFetchError) {
    return isTransientFhirFailure(err)
      ? new AppError('upstream-unavailable', 'the EHR FHIR server could not be read; retry later', { cause: err })
      : new AppError('upstream-error', `the EHR FHIR server could not be read (${err.kind})`, { cause: err });
  }
  const e = (typeof err === 'object' && err !== null ? err : {}) as ForeignErrorShape;
  const fromSdk = e.$metadata !== undefined;
  const status = e.$metadata?.httpStatusCode;
  if (
    fromSdk &&
    ((status !== undefined && [500, 502, 503, 504].includes(status)) ||
      (e.name !== undefined && S3_TRANSIENT_NAMES.has(e.name)) ||
      e.$retryable !== undefined ||
      isNetworkFailure(e))
  ) {
    return new AppError('storage-unavailable', 'storage is unavailable; nothing was lost, retry the request', { cause: err });
  }
  if (isNetworkFailure(e))
    return new AppError('upstream-unavailable', 'a service we depend on could not be reached; retry later', { cause: err });
  return new AppError('internal', 'the request failed because of an internal error; the logs have this request id', { cause: err });
}

/**
 * What may be logged about an error that is not ours: class, code and status, and the stack's
 * frames without its first line (messages from SDKs and parsers can quote phones or bodies).
 */
export function errorFields(err: unknown): { error: string; stack?: string } {
  const e = (typeof err === 'object' && err !== null ? err : {}) as ForeignErrorShape & { stack?: unknown };
  const status = (typeof e.status === 'number' ? e.status : undefined) ?? e.$metadata?.httpStatusCode;
  const summary = [
    e.name ?? typeof err,
    typeof e.code === 'string' || typeof e.code === 'number' ? `code ${e.code}` : '',
    status !== undefined ? `status ${status}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  const frames =
    typeof e.stack === 'string'
      ? e.stack
          .split('\n')
          .filter((l) => /^\s+at /.test(l))
          .slice(0, 12)
          .map((l) => l.trim())
          .join(' | ')
      : '';
  return frames ? { error: summary, stack: frames } : { error: summary };
}

/**
 * The one mapping from a failure to an HTTP reply, for every runtime (Twilio Functions, the
 * Lambdas, the local servers): the status follows the code (src/http/reply.ts), retryable codes
 * carry Retry-After, and a bug answers 500 with the request id, which is also in the log line
 * that has the stack. The body never carries a stack or a foreign error's message.
 */
export function replyForError(err: unknown, requestId: string, what: string): HttpReply {
  const app = toAppError(err);
  const cause = app.cause ?? app;
  if (app.code === 'internal' || app.code === 'damaged-record' || app.code === 'misconfigured') {
    log('error', what, { request_id: requestId, code: app.code, ...errorFields(cause) });
  } else {
    // An expected failure: no stack, it says nothing a maintainer needs.
    log('warn', what, { request_id: requestId, code: app.code, error: errorFields(cause).error });
  }
  return errorReply(app.code, app.message, requestId, { retryable: app.retryable, ...(app.field ? { field: app.field } : {}) });
}
