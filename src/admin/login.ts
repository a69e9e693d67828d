import type { AdminConfig } from '../config/admin-config';
import { secretsEqual } from '../http/auth';
import { errorReply, jsonReply, type HttpReply } from '../http/reply';
import { log } from '../log';
import { unauthorized } from './handler';
import type { AttemptKind, AttemptLimiter, Reservation } from './rate-limit';
import { issueToken, SESSION_MAX_AGE_SECONDS, type TokenClaims } from './tokens';
import { VerifyError, type VerifyCodes } from './verify-codes';

export interface LoginDeps {
  config: Pick<AdminConfig, 'APPLICATION_PASSWORD' | 'ADMINISTRATOR_PHONE' | 'SESSION_SECRET'>;
  codes: VerifyCodes;
  limiter: AttemptLimiter;
  wallClock: () => number;
}

export interface Caller {
  client: string;
  /** The id of a valid device token the browser presented (see tokens.ts). */
  device?: string;
  requestId: string;
}

/** "+1 ••• ••• 0199": enough for the administrator to recognise their phone, not enough to dial it. */
export function maskPhone(e164: string): string {
  return `${e164.slice(0, 2)} ••• ••• ${e164.slice(-4)}`;
}

function rateLimited(r: Exclude<Reservation, { ok: true }>, kind: AttemptKind, requestId: string): HttpReply {
  const what = kind === 'password' ? 'wrong passwords' : kind === 'code' ? 'wrong codes' : 'codes sent';
  const who = r.scope === 'total' ? 'in total' : 'from this browser';
  log('warn', 'admin login rate-limited', { request_id: requestId, status: 429, code: `${kind}-${r.scope}` });
  const reply = errorReply('rate-limited', `too many ${what} ${who}; try again in ${Math.ceil(r.retryAfterSeconds / 60)} min`, requestId, {
    retry_after_seconds: r.retryAfterSeconds,
    scope: r.scope,
  });
  reply.headers = { ...reply.headers, 'Retry-After': String(r.retryAfterSeconds) };
  return reply;
}

function upstream(err: unknown, requestId: string): HttpReply {
  if (!(err instanceof VerifyError)) throw err;
  log('error', 'admin login: Twilio Verify failed', { request_id: requestId, status: err.status, code: String(err.code ?? '') });
  return errorReply('upstream-error', `Twilio Verify refused the request (status ${err.status ?? '?'}, code ${err.code ?? '?'}); check VERIFY_SERVICE_SID and ADMINISTRATOR_PHONE`, requestId);
}

/**
 * Step 1: the password. A wrong one counts against the limits; a right one texts a code to the
 * administrator (which counts against the SMS limits) and returns a challenge token for step 2.
 */
export async function startLogin(deps: LoginDeps, input: { password: unknown }, caller: Caller): Promise<HttpReply> {
  if (typeof input.password !== 'string' || input.password === '') {
    return errorReply('invalid-request', 'password is required', caller.requestId, { problems: [{ field: 'password', message: 'is required' }] });
  }
  // Only wrong passwords are the attacker's to send without knowing anything: a known browser
  // counts them on its own, outside the total an attacker fills (README.md, "Lockout").
  const attempt = await deps.limiter.reserve('password', caller.client, deps.wallClock(), caller.device);
  if (!attempt.ok) return rateLimited(attempt, 'password', caller.requestId);
  if (!secretsEqual(input.password, deps.config.APPLICATION_PASSWORD)) {
    log('warn', 'admin login: wrong password', { request_id: caller.requestId, status: 401, code: caller.device ? 'device' : 'client' });
    return unauthorized('wrong password', caller.requestId);
  }
  await deps.limiter.release('password', caller.client, attempt.id, caller.device);

  const sms = await deps.limiter.reserve('sms', caller.client, deps.wallClock());
  if (!sms.ok) return rateLimited(sms, 'sms', caller.requestId);
  try {
    await deps.codes.send(deps.config.ADMINISTRATOR_PHONE);
  } catch (err) {
    return upstream(err, caller.requestId);
  }
  const { token, claims } = issueToken(deps.config.SESSION_SECRET, 'challenge', deps.wallClock());
  log('info', 'admin login: code sent', { request_id: caller.requestId });
  return jsonReply(200, { challenge: token, expires_at: new Date(claims.exp * 1000).toISOString(), sent_to: maskPhone(deps.config.ADMINISTRATOR_PHONE) }, caller.requestId);
}

/** Step 2: the code from the SMS, presented with the challenge token. Returns the session token. */
export async function finishLogin(deps: LoginDeps, input: { code: unknown }, caller: Caller): Promise<HttpReply> {
  const code = typeof input.code === 'string' ? input.code.trim() : typeof input.code === 'number' ? String(input.code) : '';
  if (!/^\d{4,10}$/.test(code)) {
    return errorReply('invalid-request', 'code must be the digits from the SMS', caller.requestId, { problems: [{ field: 'code', message: 'must be 4 to 10 digits' }] });
  }
  const attempt = await deps.limiter.reserve('code', caller.client, deps.wallClock());
  if (!attempt.ok) return rateLimited(attempt, 'code', caller.requestId);
  let result;
  try {
    result = await deps.codes.check(deps.config.ADMINISTRATOR_PHONE, code);
  } catch (err) {
    return upstream(err, caller.requestId);
  }
  if (result === 'too-many-checks') {
    return errorReply('rate-limited', 'too many wrong codes for this SMS; start again with the password to get a new code', caller.requestId, { scope: 'verification' });
  }
  if (result !== 'approved') {
    log('warn', 'admin login: wrong code', { request_id: caller.requestId, status: 401, code: result });
    return unauthorized(result === 'expired' ? 'the code has expired or was already used; start again with the password' : 'wrong code', caller.requestId);
  }
  await deps.limiter.release('code', caller.client, attempt.id);
  log('info', 'admin login: session started', { request_id: caller.requestId });
  // This browser has now passed both steps: its device token (renewed, same id) lets it log in
  // while a global lock holds (README.md, "Lockout").
  const device = issueToken(deps.config.SESSION_SECRET, 'device', deps.wallClock(), undefined, caller.device);
  return sessionReply(deps, undefined, caller.requestId, { device_token: device.token, device_expires_at: new Date(device.claims.exp * 1000).toISOString() });
}

/** A fresh session token for a live session; the login time carries over, so sessions still end. */
export function refreshSession(deps: LoginDeps, claims: TokenClaims | undefined, requestId: string): HttpReply {
  if (!claims || claims.auth_time + SESSION_MAX_AGE_SECONDS <= Math.floor(deps.wallClock() / 1000)) {
    return unauthorized('the session has reached its maximum age; log in again', requestId);
  }
  return sessionReply(deps, claims.auth_time, requestId);
}

function sessionReply(deps: LoginDeps, authTime: number | undefined, requestId: string, extra: Record<string, string> = {}): HttpReply {
  const { token, claims } = issueToken(deps.config.SESSION_SECRET, 'session', deps.wallClock(), authTime);
  return jsonReply(
    200,
    {
      token,
      expires_at: new Date(claims.exp * 1000).toISOString(),
      session_ends_at: new Date((claims.auth_time + SESSION_MAX_AGE_SECONDS) * 1000).toISOString(),
      ...extra,
    },
    requestId,
  );
}
