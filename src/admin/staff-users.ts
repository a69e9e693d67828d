import { z } from 'zod';
import { normalisePhone, type CountryCode } from '../domain/phone';
import { BusyError } from '../domain/errors';
import { replyForError } from '../http/errors';
import { errorReply, jsonReply, type HttpReply } from '../http/reply';
import type { StaffRole, StaffUser, StaffUsers } from './staff-records';
import type { Actor } from './audit';
import type { AttemptLimiter } from './rate-limit';
import { maskPhone } from './login';
import { hashPassword, passwordProblem, verifyPassword } from './passwords';
import { BUILT_IN_ADMIN } from './tokens';
import type { UsersAnswer } from './api-types';

/** How many staff users the page lists; a clinic has tens, not thousands. */
export const MAX_USERS = 200;

/** Compare-and-set rounds against other admins changing the same user at the same moment. */
const USER_CAS_ATTEMPTS = 10;

const USER_ID = /^[a-z0-9][a-z0-9._-]{1,31}$/;

export const StaffRoleSchema = z.enum(['admin', 'staff'], { error: 'must be admin or staff' });

const UserId = z
  .string({ error: 'is required' })
  .trim()
  .toLowerCase()
  .regex(USER_ID, { error: 'must be 2 to 32 lowercase letters, digits, ".", "_" or "-", starting with a letter or digit' })
  .refine((id) => id !== BUILT_IN_ADMIN, { error: `"${BUILT_IN_ADMIN}" is the built-in administrator` })
  // The audit log writes `unknown` for a login name that is no user's.
  .refine((id) => id !== 'unknown', { error: '"unknown" is reserved for the audit log' });

const NewUser = z.object({
  id: UserId,
  name: z
    .string({ error: 'is required' })
    .trim()
    .min(1, { error: 'is required' })
    .max(100, { error: 'must be at most 100 characters' })
    // A name is shown on the page and in exports: no control or invisible format characters.
    .regex(/^[^\p{Cc}\p{Cf}\u2028\u2029]*$/u, { error: 'must not contain control or invisible characters' }),
  phone: z.string({ error: 'is required' }).min(1, { error: 'is required' }),
  role: StaffRoleSchema,
  password: z.string({ error: 'is required' }),
});

const UserChange = z.object({
  id: UserId,
  disabled: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')], { error: 'must be true or false' }).optional(),
  role: StaffRoleSchema.optional(),
  password: z.string().optional(),
});

export interface StaffUserView {
  id: string;
  name: string;
  /** Masked: enough to recognise, not to dial. */
  phone: string;
  role: StaffRole;
  disabled: boolean;
  created_at: string;
  created_by: string;
  updated_at: string;
  updated_by: string;
}

function view(u: StaffUser): StaffUserView {
  return {
    id: u.id,
    name: u.name,
    phone: maskPhone(u.phone),
    role: u.role,
    disabled: u.disabled,
    created_at: u.created_at,
    created_by: u.created_by,
    updated_at: u.updated_at,
    updated_by: u.updated_by,
  };
}

function invalid(problems: { field: string; message: string }[], requestId: string): HttpReply {
  return errorReply('invalid-request', problems.map((p) => `${p.field} ${p.message}`).join('; '), requestId, { problems });
}

function zodProblems(error: z.ZodError): { field: string; message: string }[] {
  return error.issues.map((i) => ({ field: String(i.path[0] ?? 'body'), message: i.message }));
}

export interface StaffUserDeps {
  users: StaffUsers;
  country: CountryCode;
  now: () => number;
  /** Hash parameters; tests may pass cheaper ones. */
  hash?: typeof hashPassword;
  /**
   * Limits wrong current passwords on the own-password form (5 per user in 15 minutes, like a
   * browser's wrong logins), so a stolen session cannot be used to guess the password.
   */
  limiter?: Pick<AttemptLimiter, 'reserve' | 'release'>;
}

export async function listStaffUsersReply(users: StaffUsers, requestId: string): Promise<HttpReply> {
  const list = await users.listUsers(MAX_USERS);
  return jsonReply(
    200,
    {
      users: [{ id: BUILT_IN_ADMIN, name: 'Administrator (APPLICATION_PASSWORD)', role: 'admin', built_in: true }, ...list.map(view)],
    } satisfies UsersAnswer,
    requestId,
  );
}

/** Adds a user with their own password and phone; every problem is reported at once, by field. */
export async function addStaffUser(
  deps: StaffUserDeps,
  params: Record<string, unknown>,
  actor: Actor,
  requestId: string,
): Promise<{ reply: HttpReply; userId?: string }> {
  const parsed = NewUser.safeParse(params);
  const problems = parsed.success ? [] : zodProblems(parsed.error);
  const pw = passwordProblem(params.password);
  if (pw && !problems.some((p) => p.field === 'password')) problems.push({ field: 'password', message: pw });
  const phone = normalisePhone(typeof params.phone === 'string' ? params.phone : '', deps.country);
  if (!phone.ok && !problems.some((p) => p.field === 'phone')) problems.push({ field: 'phone', message: phone.reason });
  if (!parsed.success || problems.length > 0 || !phone.ok) return { reply: invalid(problems, requestId) };
  const at = new Date(deps.now()).toISOString();
  const user: StaffUser = {
    id: parsed.data.id,
    name: parsed.data.name,
    phone: phone.value,
    role: parsed.data.role,
    password: await (deps.hash ?? hashPassword)(parsed.data.password),
    disabled: false,
    session_version: 1,
    created_at: at,
    created_by: actor.user_id,
    updated_at: at,
    updated_by: actor.user_id,
  };
  if ((await deps.users.createUser(user)) === 'exists')
    return { reply: invalid([{ field: 'id', message: 'is taken by another user' }], requestId) };
  return { reply: jsonReply(201, { user: view(user) }, requestId), userId: user.id };
}

export type UserChanges = { disabled?: boolean; role?: StaffRole; password?: true };

/**
 * Disables or enables a user, changes their role or sets a new password. Any of these raises the
 * session version, so the user's sessions end at their next request.
 */
export async function updateStaffUser(
  deps: StaffUserDeps,
  params: Record<string, unknown>,
  actor: Actor,
  requestId: string,
): Promise<{ reply: HttpReply; changes?: UserChanges; userId?: string }> {
  const parsed = UserChange.safeParse({ ...params, password: params.password === '' ? undefined : params.password });
  const problems = parsed.success ? [] : zodProblems(parsed.error);
  if (parsed.success && parsed.data.password !== undefined) {
    const pw = passwordProblem(parsed.data.password);
    if (pw) problems.push({ field: 'password', message: pw });
  }
  if (parsed.success && parsed.data.disabled === undefined && parsed.data.role === undefined && parsed.data.password === undefined) {
    problems.push({ field: 'disabled', message: 'or role or password must be given' });
  }
  if (!parsed.success || problems.length > 0) return { reply: invalid(problems, requestId) };
  const change = parsed.data;
  const newHash = change.password !== undefined ? await (deps.hash ?? hashPassword)(change.password) : undefined;
  for (let attempt = 0; attempt < USER_CAS_ATTEMPTS; attempt += 1) {
    const got = await deps.users.getUser(change.id);
    if (!got) return { reply: errorReply('not-found', 'no user with this id', requestId) };
    const before = got.value;
    const changes: UserChanges = {
      ...(change.disabled !== undefined && change.disabled !== before.disabled ? { disabled: change.disabled } : {}),
      ...(change.role !== undefined && change.role !== before.role ? { role: change.role } : {}),
      ...(newHash ? { password: true as const } : {}),
    };
    if (Object.keys(changes).length === 0) return { reply: jsonReply(200, { user: view(before), changed: [] }, requestId) };
    const next: StaffUser = {
      ...before,
      ...(changes.disabled !== undefined ? { disabled: changes.disabled } : {}),
      ...(changes.role ? { role: changes.role } : {}),
      ...(newHash ? { password: newHash } : {}),
      session_version: before.session_version + 1,
      updated_at: new Date(deps.now()).toISOString(),
      updated_by: actor.user_id,
    };
    if ((await deps.users.replaceUser(next, got.etag)) === 'ok') {
      return { reply: jsonReply(200, { user: view(next), changed: Object.keys(changes) }, requestId), changes, userId: next.id };
    }
  }
  return { reply: replyForError(new BusyError('the user', USER_CAS_ATTEMPTS), requestId, 'staff user not changed') };
}

/**
 * A user sets their own password, giving the current one. Raises the session version like any
 * password change, so this session ends too and the user logs in with the new password.
 */
export async function changeOwnPassword(
  deps: StaffUserDeps,
  params: Record<string, unknown>,
  actor: Actor,
  requestId: string,
): Promise<{ reply: HttpReply; changed: boolean }> {
  if (actor.user_id === BUILT_IN_ADMIN) {
    return {
      reply: errorReply(
        'invalid-request',
        "the administrator's password is APPLICATION_PASSWORD, set where the service is deployed",
        requestId,
        { problems: [{ field: 'new_password', message: 'cannot be set here for the built-in administrator' }] },
      ),
      changed: false,
    };
  }
  const problems: { field: string; message: string }[] = [];
  if (typeof params.current_password !== 'string' || params.current_password === '')
    problems.push({ field: 'current_password', message: 'is required' });
  const pw = passwordProblem(params.new_password);
  if (pw) problems.push({ field: 'new_password', message: pw });
  if (problems.length > 0) return { reply: invalid(problems, requestId), changed: false };
  // Counted under a scope of the user's own, outside the login total, so it cannot lock anyone else out.
  const scope = `self-${actor.user_id}`;
  const attempt = deps.limiter ? await deps.limiter.reserve('password', scope, deps.now(), scope) : { ok: true as const, id: '' };
  if (!attempt.ok) {
    return {
      reply: errorReply(
        'rate-limited',
        `too many wrong current passwords; try again in ${Math.ceil(attempt.retryAfterSeconds / 60)} min`,
        requestId,
        { retry_after_seconds: attempt.retryAfterSeconds },
      ),
      changed: false,
    };
  }
  const got = await deps.users.getUser(actor.user_id);
  const right = got ? await verifyPassword(params.current_password as string, got.value.password) : false;
  if (!got || !right) {
    return { reply: invalid([{ field: 'current_password', message: 'is not your current password' }], requestId), changed: false };
  }
  if (deps.limiter) await deps.limiter.release('password', scope, attempt.id, scope);
  const next: StaffUser = {
    ...got.value,
    password: await (deps.hash ?? hashPassword)(params.new_password as string),
    session_version: got.value.session_version + 1,
    updated_at: new Date(deps.now()).toISOString(),
    updated_by: actor.user_id,
  };
  if ((await deps.users.replaceUser(next, got.etag)) !== 'ok') {
    // One attempt: the password was checked against the version read, so a retry must check it again.
    return { reply: replyForError(new BusyError('your user', 1), requestId, 'own password not changed'), changed: false };
  }
  return { reply: jsonReply(200, { user: view(next), changed: ['password'], logged_out: true }, requestId), changed: true };
}

/** Why a user's session no longer holds, or the actor it stands for. */
export type SessionUser = { ok: true; actor: Actor; user?: StaffUser } | { ok: false; message: string };

/**
 * The user behind a session or challenge token. The built-in administrator needs no read; a staff
 * user costs one storage read per request, which is what makes disabling them take effect at once.
 */
export async function sessionUser(users: StaffUsers, claims: { sub?: string; ver?: number }): Promise<SessionUser> {
  if (claims.sub === undefined || claims.sub === BUILT_IN_ADMIN) return { ok: true, actor: { user_id: BUILT_IN_ADMIN, role: 'admin' } };
  const got = await users.getUser(claims.sub);
  if (!got) return { ok: false, message: 'this user no longer exists; log in again' };
  if (got.value.disabled) return { ok: false, message: 'this user has been disabled' };
  if (got.value.session_version !== claims.ver)
    return { ok: false, message: 'this session has ended (the password or role changed); log in again' };
  return { ok: true, actor: { user_id: got.value.id, role: got.value.role }, user: got.value };
}

/** A login name as the form sends it: blank or "admin" is the built-in administrator. */
export function loginName(raw: unknown): string {
  const name = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
  return name === '' ? BUILT_IN_ADMIN : name;
}

export function isUserId(id: string): boolean {
  return USER_ID.test(id);
}
