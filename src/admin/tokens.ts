import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Admin tokens: `v1.<payload>.<signature>`, base64url JSON signed with HMAC-SHA256 under
 * SESSION_SECRET. Stateless, so every Functions container can check them without shared storage.
 *
 * - `challenge`: the password was right and a code was texted; only the code check accepts it.
 * - `session`: the administrator passed both steps; every other admin Function accepts it.
 * - `device`: this browser once passed both steps (OWASP's "device cookie"). Only the password step
 *   reads it, to give the browser attempts of its own that a global lock does not take away.
 */
export type TokenType = 'challenge' | 'session' | 'device';

export interface TokenClaims {
  typ: TokenType;
  /** Issued at and expiry, in seconds since the epoch. */
  iat: number;
  exp: number;
  /** When the administrator entered the code; refreshes keep it, so a session cannot live forever. */
  auth_time: number;
  jti: string;
  /**
   * Whose token it is (challenge and session). Absent in tokens of the built-in administrator
   * issued before staff accounts existed, which are read as `admin`.
   */
  sub?: string;
  /** The user's session version when it was issued; a record with another one ends the session. */
  ver?: number;
}

/** The built-in administrator (APPLICATION_PASSWORD + ADMINISTRATOR_PHONE). */
export const BUILT_IN_ADMIN = 'admin';

/** Who a token is for: the user id and the user record's session version. */
export interface TokenSubject {
  sub: string;
  ver: number;
}

export const CHALLENGE_TTL_SECONDS = 10 * 60;
export const SESSION_TTL_SECONDS = 30 * 60;
/** However often the page refreshes, the administrator logs in again after this long. */
export const SESSION_MAX_AGE_SECONDS = 12 * 60 * 60;
/** Renewed at every login, so only a browser unused for this long loses its own attempts. */
export const DEVICE_TTL_SECONDS = 90 * 24 * 60 * 60;

const TTL_SECONDS: Record<TokenType, number> = {
  challenge: CHALLENGE_TTL_SECONDS,
  session: SESSION_TTL_SECONDS,
  device: DEVICE_TTL_SECONDS,
};

export type TokenCheck =
  { ok: true; claims: TokenClaims } | { ok: false; reason: 'missing' | 'malformed' | 'forged' | 'expired' | 'wrong-type' };

function sign(secret: string, payload: string): Buffer {
  return createHmac('sha256', secret).update(`v1.${payload}`, 'utf8').digest();
}

/** `jti`: a device token renewed at login keeps its id, so the browser keeps one attempt log. */
export function issueToken(
  secret: string,
  typ: TokenType,
  nowMs: number,
  authTime?: number,
  jti?: string,
  subject?: TokenSubject,
): { token: string; claims: TokenClaims } {
  const iat = Math.floor(nowMs / 1000);
  const ttl = TTL_SECONDS[typ];
  const auth_time = authTime ?? iat;
  const exp = typ === 'session' ? Math.min(iat + ttl, auth_time + SESSION_MAX_AGE_SECONDS) : iat + ttl;
  const claims: TokenClaims = {
    typ,
    iat,
    exp,
    auth_time,
    jti: jti ?? randomBytes(12).toString('base64url'),
    ...(subject ? { sub: subject.sub, ver: subject.ver } : {}),
  };
  const payload = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
  return { token: `v1.${payload}.${sign(secret, payload).toString('base64url')}`, claims };
}

export function verifyToken(secret: string, token: string | undefined, expected: TokenType, nowMs: number): TokenCheck {
  if (!token) return { ok: false, reason: 'missing' };
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== 'v1' || !parts[1] || !parts[2]) return { ok: false, reason: 'malformed' };
  const [, payload, signature] = parts as [string, string, string];
  const presented = Buffer.from(signature, 'base64url');
  const wanted = sign(secret, payload);
  if (presented.length !== wanted.length || !timingSafeEqual(presented, wanted)) return { ok: false, reason: 'forged' };
  let claims: TokenClaims;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TokenClaims;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (typeof claims.exp !== 'number' || typeof claims.auth_time !== 'number') return { ok: false, reason: 'malformed' };
  if ((claims.sub !== undefined && typeof claims.sub !== 'string') || (claims.ver !== undefined && typeof claims.ver !== 'number'))
    return { ok: false, reason: 'malformed' };
  if (claims.typ !== expected) return { ok: false, reason: 'wrong-type' };
  if (Math.floor(nowMs / 1000) >= claims.exp) return { ok: false, reason: 'expired' };
  return { ok: true, claims };
}
