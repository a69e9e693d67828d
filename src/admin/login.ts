import type { AdminConfig } from '../config/admin-config';
import { secretsEqual } from '../http/auth';
import { errorReply, jsonReply, type HttpReply } from '../http/reply';
import { log } from '../log';
import { unauthorized } from './handler';
import type { StaffRole, StaffUsers } from './staff-records';
import { decoyHash, verifyPassword } from './passwords';
import type { AttemptKind, AttemptLimiter, Reservation } from './rate-limit';
import { isUserId, loginName, sessionUser } from './staff-users';
import { BUILT_IN_ADMIN, issueToken, SESSION_MAX_AGE_SECONDS, type TokenClaims, type TokenSubject } from './tokens';
import { VerifyError, type VerifyCodes } from './verify-codes';
import type { LoginChallenge, LoginResult } from './api-types';

/** What a login step reports to the audit log: the user it was for and how it ended, never a secret. */
export interface LoginAuditEvent {
  step: 'password' | 'code';
  user_id: string;
  role: StaffRole | 'none';
  outcome: 'success' | 'failure';
  reason?: string;
}

export interface LoginDeps {
  config: Pick<AdminConfig, 'APPLICATION_PASSWORD' | 'ADMINISTRATOR_PHONE' | 'SESSION_SECRET'>;
  codes: VerifyCodes;
  limiter: AttemptLimiter;
  wallClock: () => number;
  /** Staff users; without them only the built-in administrator can log in. */
  records?: StaffUsers;
  onAudit?: (event: LoginAuditEvent) => Promise<void>;
}

/** Who is logging in: the built-in administrator or a staff user, with the phone their codes go to. */
interface LoginSubject {
  subject: TokenSubject;
  role: StaffRole;
  phone: string;
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
  return errorReply(
    'upstream-error',
    `Twilio Verify refused the request (status ${err.status ?? '?'}, code ${err.code ?? '?'}); check VERIFY_SERVICE_SID and ADMINISTRATOR_PHONE`,
    requestId,
  );
}

/**
 * Step 1: the password. A wrong one counts against the limits; a right one texts a code to the
 * administrator (which counts against the SMS limits) and returns a challenge token for step 2.
 */
export async function startLogin(deps: LoginDeps, input: { password: unknown; username?: unknown }, caller: Caller): Promise<HttpReply> {
  if (typeof input.password !== 'string' || input.password === '') {
    return errorReply('invalid-request', 'password is required', caller.requestId, {
      problems: [{ field: 'password', message: 'is required' }],
    });
  }
  if (input.username !== undefined && typeof input.username !== 'string') {
    return errorReply('invalid-request', 'username must be text', caller.requestId, {
      problems: [{ field: 'username', message: 'must be text' }],
    });
  }
  const name = loginName(input.username);
  // Only wrong passwords are the attacker's to send without knowing anything: a known browser
  // counts them on its own, outside the total an attacker fills (README.md, "Lockout").
  const attempt = await deps.limiter.reserve('password', caller.client, deps.wallClock(), caller.device);
  if (!attempt.ok) return rateLimited(attempt, 'password', caller.requestId);
  const { who, known } = await checkPassword(deps, name, input.password);
  if (!who) {
    log('warn', 'admin login: wrong password', { request_id: caller.requestId, status: 401, code: caller.device ? 'device' : 'client' });
    // A name that is no user's is not recorded: people type their password into the name field.
    await deps.onAudit?.({
      step: 'password',
      user_id: known ? name : 'unknown',
      role: 'none',
      outcome: 'failure',
      reason: 'wrong-credentials',
    });
    // One answer for an unknown name, a disabled user and a wrong password: names stay unguessable.
    return unauthorized(name === BUILT_IN_ADMIN ? 'wrong password' : 'wrong username or password', caller.requestId);
  }
  await deps.limiter.release('password', caller.client, attempt.id, caller.device);

  const sms = await deps.limiter.reserve('sms', caller.client, deps.wallClock());
  if (!sms.ok) return rateLimited(sms, 'sms', caller.requestId);
  try {
    await deps.codes.send(who.phone);
  } catch (err) {
    return upstream(err, caller.requestId);
  }
  const { token, claims } = issueToken(deps.config.SESSION_SECRET, 'challenge', deps.wallClock(), undefined, undefined, who.subject);
  log('info', 'admin login: code sent', { request_id: caller.requestId });
  await deps.onAudit?.({ step: 'password', user_id: who.subject.sub, role: who.role, outcome: 'success' });
  return jsonReply(
    200,
    { challenge: token, expires_at: new Date(claims.exp * 1000).toISOString(), sent_to: maskPhone(who.phone) } satisfies LoginChallenge,
    caller.requestId,
  );
}

/** The user whose password this is, or undefined; an unknown or disabled user costs a hash all the same. */
async function checkPassword(deps: LoginDeps, name: string, password: string): Promise<{ who?: LoginSubject; known: boolean }> {
  if (name === BUILT_IN_ADMIN) {
    if (!secretsEqual(password, deps.config.APPLICATION_PASSWORD)) return { known: true };
    return { who: { subject: { sub: BUILT_IN_ADMIN, ver: 0 }, role: 'admin', phone: deps.config.ADMINISTRATOR_PHONE }, known: true };
  }
  const got = isUserId(name) && deps.records ? await deps.records.getUser(name) : null;
  const user = got?.value;
  const right = await verifyPassword(password, user?.password ?? (await decoyHash()));
  if (!user || !right || user.disabled) return { known: user !== undefined };
  return { who: { subject: { sub: user.id, ver: user.session_version }, role: user.role, phone: user.phone }, known: true };
}

/** The challenge's user, read again: one disabled between the two steps gets no session. */
async function challengeSubject(deps: LoginDeps, claims: TokenClaims | undefined): Promise<LoginSubject | { ended: string }> {
  if (!claims?.sub || claims.sub === BUILT_IN_ADMIN)
    return { subject: { sub: BUILT_IN_ADMIN, ver: 0 }, role: 'admin', phone: deps.config.ADMINISTRATOR_PHONE };
  if (!deps.records) return { ended: 'staff users are not available here' };
  const who = await sessionUser(deps.records, claims);
  if (!who.ok || !who.user) return { ended: who.ok ? 'log in again' : who.message };
  return { subject: { sub: who.user.id, ver: who.user.session_version }, role: who.user.role, phone: who.user.phone };
}

/** Step 2: the code from the SMS, presented with the challenge token. Returns the session token. */
export async function finishLogin(deps: LoginDeps, input: { code: unknown }, caller: Caller, challenge?: TokenClaims): Promise<HttpReply> {
  const code = typeof input.code === 'string' ? input.code.trim() : typeof input.code === 'number' ? String(input.code) : '';
  if (!/^\d{4,10}$/.test(code)) {
    return errorReply('invalid-request', 'code must be the digits from the SMS', caller.requestId, {
      problems: [{ field: 'code', message: 'must be 4 to 10 digits' }],
    });
  }
  const who = await challengeSubject(deps, challenge);
  if ('ended' in who) {
    await deps.onAudit?.({ step: 'code', user_id: challenge?.sub ?? 'unknown', role: 'none', outcome: 'failure', reason: 'user-ended' });
    return unauthorized(who.ended, caller.requestId);
  }
  const attempt = await deps.limiter.reserve('code', caller.client, deps.wallClock());
  if (!attempt.ok) return rateLimited(attempt, 'code', caller.requestId);
  let result;
  try {
    result = await deps.codes.check(who.phone, code);
  } catch (err) {
    return upstream(err, caller.requestId);
  }
  if (result === 'too-many-checks') {
    return errorReply(
      'rate-limited',
      'too many wrong codes for this SMS; start again with the password to get a new code',
      caller.requestId,
      { scope: 'verification' },
    );
  }
  if (result !== 'approved') {
    log('warn', 'admin login: wrong code', { request_id: caller.requestId, status: 401, code: result });
    await deps.onAudit?.({ step: 'code', user_id: who.subject.sub, role: who.role, outcome: 'failure', reason: result });
    return unauthorized(
      result === 'expired' ? 'the code has expired or was already used; start again with the password' : 'wrong code',
      caller.requestId,
    );
  }
  await deps.limiter.release('code', caller.client, attempt.id);
  log('info', 'admin login: session started', { request_id: caller.requestId });
  await deps.onAudit?.({ step: 'code', user_id: who.subject.sub, role: who.role, outcome: 'success' });
  // This browser has now passed both steps: its device token (renewed, same id) lets it log in
  // while a global lock holds (README.md, "Lockout").
  const device = issueToken(deps.config.SESSION_SECRET, 'device', deps.wallClock(), undefined, caller.device);
  return sessionReply(deps, undefined, who.subject, caller.requestId, {
    device_token: device.token,
    device_expires_at: new Date(device.claims.exp * 1000).toISOString(),
    user_id: who.subject.sub,
    role: who.role,
  });
}

/** A fresh session token for a live session; the login time carries over, so sessions still end. */
export function refreshSession(
  deps: LoginDeps,
  claims: TokenClaims | undefined,
  requestId: string,
  actor?: { user_id: string; role: StaffRole },
): HttpReply {
  if (!claims || claims.auth_time + SESSION_MAX_AGE_SECONDS <= Math.floor(deps.wallClock() / 1000)) {
    return unauthorized('the session has reached its maximum age; log in again', requestId);
  }
  return sessionReply(
    deps,
    claims.auth_time,
    { sub: claims.sub ?? BUILT_IN_ADMIN, ver: claims.ver ?? 0 },
    requestId,
    actor ? { user_id: actor.user_id, role: actor.role } : {},
  );
}

function sessionReply(
  deps: LoginDeps,
  authTime: number | undefined,
  subject: TokenSubject,
  requestId: string,
  extra: Omit<LoginResult, 'token' | 'expires_at' | 'session_ends_at'> = {},
): HttpReply {
  const { token, claims } = issueToken(deps.config.SESSION_SECRET, 'session', deps.wallClock(), authTime, undefined, subject);
  return jsonReply(
    200,
    {
      token,
      expires_at: new Date(claims.exp * 1000).toISOString(),
      session_ends_at: new Date((claims.auth_time + SESSION_MAX_AGE_SECONDS) * 1000).toISOString(),
      ...extra,
    } satisfies LoginResult,
    requestId,
  );
}
