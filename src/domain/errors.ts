/**
 * The one internal error vocabulary. Every failure an entry point can answer with is an AppError
 * with a code from this closed list; whether a caller should retry follows from the code, so an
 * integration engine is told "retry" only for failures that can go away by themselves (storage or
 * a peer briefly unavailable), never for a bug, which would otherwise be retried for ever.
 *
 * Messages are written for the caller and the log alike: they name fields and reasons, never a
 * value (a value may be a patient's name, phone or message text).
 */
export const ERROR_CODES = [
  'invalid-request',
  'invalid-event',
  'invalid-json',
  'unauthorized',
  'forbidden',
  'not-found',
  'method-not-allowed',
  'conflict',
  'payload-too-large',
  'unsupported-media-type',
  'rate-limited',
  'misconfigured',
  'damaged-record',
  'internal',
  'upstream-error',
  'storage-unavailable',
  'upstream-unavailable',
  'busy',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * Transient codes: the same request may succeed later, unchanged. `rate-limited` is the caller's
 * to slow down; `busy` is contention on one record (a compare-and-set loop ran out of attempts).
 */
const RETRYABLE: Record<ErrorCode, boolean> = {
  'invalid-request': false,
  'invalid-event': false,
  'invalid-json': false,
  unauthorized: false,
  forbidden: false,
  'not-found': false,
  'method-not-allowed': false,
  conflict: false,
  'payload-too-large': false,
  'unsupported-media-type': false,
  'rate-limited': true,
  misconfigured: false,
  'damaged-record': false,
  internal: false,
  'upstream-error': false,
  'storage-unavailable': true,
  'upstream-unavailable': true,
  busy: true,
};

export function isRetryable(code: ErrorCode): boolean {
  return RETRYABLE[code];
}

export class AppError extends Error {
  readonly retryable: boolean;
  /** The input field a validation error is about (`patient_phone`, `[3].event_type`). */
  readonly field?: string;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: { field?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.retryable = RETRYABLE[code];
    if (options.field !== undefined) this.field = options.field;
  }
}

/**
 * The one answer when a compare-and-set loop runs out of attempts: contention, not a bug, so the
 * same request succeeds once the other writers are done (503, Retry-After, retryable). `what`
 * names the kind of record that was contended ("the appointment", "an inbox item"), never its id
 * or contents, which may be a phone or a name.
 */
export class BusyError extends AppError {
  constructor(
    readonly what: string,
    readonly attempts: number,
  ) {
    super(
      'busy',
      `${what} is being changed by too many requests at once (gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}); retry the request`,
    );
    this.name = 'BusyError';
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
