import { bearerToken } from '../http/auth';
import { errorReply, newRequestId, type HttpReply } from '../http/reply';
import { log } from '../log';
import { failureReply, respond, type FunctionCallback, type FunctionContext, type FunctionEvent } from '../runtime/functions';
import { auditClient, recordAudit, type Actor, type AuditAction, type AuditContext } from './audit';
import { ANONYMOUS_CLIENT, clientKey } from './rate-limit';
import { sessionUser } from './staff-users';
import { adminRuntime, type AdminRuntime } from './runtime';
import { verifyToken, type TokenCheck, type TokenClaims, type TokenType } from './tokens';

export type Headers = Record<string, string | string[] | undefined>;

export interface AdminCall {
  context: FunctionContext;
  admin: AdminRuntime;
  /** Query and body fields (Twilio merges both into `event`), without `request`. */
  params: Record<string, unknown>;
  headers: Headers;
  /** The caller as far as rate limits can tell (see rate-limit.ts). */
  client: string;
  /** The id of the browser's device token (`X-Device-Token`), when it presented a valid one. */
  device?: string;
  requestId: string;
  /** The verified token's claims, for Functions that require one. */
  claims?: TokenClaims;
  /** Who is calling, for Functions that require a session: the built-in `admin` or a staff user. */
  actor?: Actor;
  /** For `recordAudit`: the audit log, the actor, the client and the request id. */
  audit: AuditContext;
}

/**
 * Who may call a session Function. `admin`: settings, users, export, audit and the deployment
 * tools; `staff`: also members of staff (appointments, inbox, replies). Admins may do everything.
 */
export interface AdminFunctionOptions {
  role?: 'admin' | 'staff';
}

/** Writes an audit entry for this call (see audit.ts); the Function's own actor unless one is given. */
export function audit(
  call: AdminCall,
  action: AuditAction,
  target: Record<string, string | undefined> = {},
  options: Parameters<typeof recordAudit>[3] = {},
) {
  return recordAudit(call.audit, action, target, options);
}

/** `none` only for the password step and the page's mode probe; everything else needs a token. */
export type AdminAuth = Exclude<TokenType, 'device'> | 'none';

const UNAUTHORIZED: Record<Exclude<TokenCheck, { ok: true }>['reason'], string> = {
  missing: 'log in first: send "Authorization: Bearer <session token>"',
  malformed: 'the token is not valid; log in again',
  forged: 'the token is not valid; log in again',
  'wrong-type': 'the token is not valid here; log in again',
  expired: 'the session has expired; log in again',
};

export function unauthorized(message: string, requestId: string): HttpReply {
  const reply = errorReply('unauthorized', message, requestId);
  reply.headers = { ...reply.headers, 'WWW-Authenticate': 'Bearer realm="admin"' };
  return reply;
}

/** Admin answers carry tokens and patient data: never cached by browsers or proxies. */
function noStore(reply: HttpReply): HttpReply {
  return { ...reply, headers: { ...reply.headers, 'Cache-Control': 'no-store' } };
}

function stringHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function string(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function stringParam(params: Record<string, unknown>, key: string): string | undefined {
  return string(params[key]);
}

/**
 * Wraps an admin Function: loads the admin runtime, checks the token the Function requires (401
 * for a missing, malformed, forged, expired or wrong-kind token), and maps failures onto one
 * error vocabulary. The Function body only turns its input into a use-case call.
 */
export function adminFunction(auth: AdminAuth, body: (call: AdminCall) => Promise<HttpReply>, options: AdminFunctionOptions = {}) {
  const role = options.role ?? 'admin';
  return async (context: FunctionContext, event: FunctionEvent, callback: FunctionCallback): Promise<void> => {
    const requestId = newRequestId();
    try {
      const admin = adminRuntime(context);
      const headers = (event.request as { headers?: Headers } | undefined)?.headers ?? {};
      const params = Object.fromEntries(Object.entries(event).filter(([k]) => k !== 'request'));
      const client = clientKey(headers['x-client-id']);
      const audit: AuditContext = {
        audit: admin.records,
        client: auditClient(headers, client === ANONYMOUS_CLIENT ? undefined : client),
        requestId,
        wallClock: admin.wallClock,
      };
      const call: AdminCall = { context, admin, params, headers, client, requestId, audit };
      const device = verifyToken(admin.config.SESSION_SECRET, stringHeader(headers['x-device-token']), 'device', admin.wallClock());
      if (device.ok) call.device = device.claims.jti;
      if (auth !== 'none') {
        const check = verifyToken(admin.config.SESSION_SECRET, bearerToken(headers.authorization), auth, admin.wallClock());
        if (!check.ok) {
          log('info', 'admin request rejected', { request_id: requestId, status: 401, code: check.reason });
          return respond(callback, noStore(unauthorized(UNAUTHORIZED[check.reason], requestId)));
        }
        call.claims = check.claims;
        // Every token names its user; a staff user's record is read on each request (one S3 GET),
        // so a disabled user or a changed password ends the session at once.
        const who = await sessionUser(admin.records, check.claims);
        if (!who.ok) {
          log('info', 'admin request rejected', { request_id: requestId, status: 401, code: 'user-session-ended' });
          return respond(callback, noStore(unauthorized(who.message, requestId)));
        }
        call.actor = who.actor;
        audit.actor = who.actor;
        if (auth === 'session' && role === 'admin' && who.actor.role !== 'admin') {
          await recordAudit(audit, 'access.denied', { function: functionName(context) }, { outcome: 'failure' });
          log('info', 'admin request forbidden', { request_id: requestId, status: 403, code: 'role' });
          return respond(
            callback,
            noStore(
              errorReply('forbidden', 'this needs the admin role; your user has the staff role', requestId, { required_role: 'admin' }),
            ),
          );
        }
      }
      respond(callback, noStore(await body(call)));
    } catch (err) {
      respond(callback, noStore(failureReply(err, requestId, 'admin request failed')));
    }
  };
}

/** The Function's path when the runtime says it (Twilio sets PATH), for the audit entry of a refusal. */
function functionName(context: FunctionContext): string | undefined {
  const path = (context as { PATH?: unknown }).PATH;
  return typeof path === 'string' ? path.slice(0, 100) : undefined;
}

/** Class, status and code of an error: SDK messages can quote phone numbers, so they stay out of logs. */
export function errorSummary(err: unknown): string {
  const e = err as { name?: string; status?: number; code?: number | string; $metadata?: { httpStatusCode?: number } } | null | undefined;
  const status = e?.status ?? e?.$metadata?.httpStatusCode;
  return [e?.name ?? typeof err, status !== undefined ? `status ${status}` : '', e?.code !== undefined ? `code ${e.code}` : '']
    .filter(Boolean)
    .join(' ');
}
