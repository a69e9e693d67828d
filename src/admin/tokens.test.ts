import { describe, expect, it } from 'vitest';
import { issueToken, SESSION_MAX_AGE_SECONDS, SESSION_TTL_SECONDS, verifyToken } from './tokens';

const SECRET = 's'.repeat(40);
const NOW = Date.UTC(2026, 10, 25, 9, 0, 0);

describe('admin tokens', () => {
  it('accepts a fresh session token of the expected kind', () => {
    const { token } = issueToken(SECRET, 'session', NOW);
    const check = verifyToken(SECRET, token, 'session', NOW + 1000);
    expect(check.ok).toBe(true);
  });

  it.each([
    ['missing', undefined],
    ['malformed', 'not-a-token'],
    ['malformed', 'v1..'],
  ])('refuses a %s token', (reason, token) => {
    expect(verifyToken(SECRET, token, 'session', NOW)).toEqual({ ok: false, reason });
  });

  it('refuses a token signed with another secret', () => {
    const { token } = issueToken('x'.repeat(40), 'session', NOW);
    expect(verifyToken(SECRET, token, 'session', NOW)).toEqual({ ok: false, reason: 'forged' });
  });

  it('refuses a token whose payload was changed (a later expiry) after signing', () => {
    const { token, claims } = issueToken(SECRET, 'session', NOW);
    const [v, , sig] = token.split('.');
    const longer = Buffer.from(JSON.stringify({ ...claims, exp: claims.exp + 86_400 })).toString('base64url');
    expect(verifyToken(SECRET, `${v}.${longer}.${sig}`, 'session', NOW)).toEqual({ ok: false, reason: 'forged' });
  });

  it('expires a session after 30 minutes', () => {
    const { token } = issueToken(SECRET, 'session', NOW);
    expect(verifyToken(SECRET, token, 'session', NOW + (SESSION_TTL_SECONDS - 1) * 1000).ok).toBe(true);
    expect(verifyToken(SECRET, token, 'session', NOW + SESSION_TTL_SECONDS * 1000)).toEqual({ ok: false, reason: 'expired' });
  });

  it('keeps the two kinds apart: a challenge is no session and a session no challenge', () => {
    const challenge = issueToken(SECRET, 'challenge', NOW).token;
    const session = issueToken(SECRET, 'session', NOW).token;
    expect(verifyToken(SECRET, challenge, 'session', NOW)).toEqual({ ok: false, reason: 'wrong-type' });
    expect(verifyToken(SECRET, session, 'challenge', NOW)).toEqual({ ok: false, reason: 'wrong-type' });
  });

  it('never lets refreshes carry a session past its maximum age', () => {
    const authTime = Math.floor(NOW / 1000);
    const late = NOW + (SESSION_MAX_AGE_SECONDS - 60) * 1000;
    const { claims } = issueToken(SECRET, 'session', late, authTime);
    expect(claims.exp).toBe(authTime + SESSION_MAX_AGE_SECONDS);
    expect(claims.auth_time).toBe(authTime);
  });

  it('carries the user and session version it was issued for, and refuses them changed after signing', () => {
    const { token, claims } = issueToken(SECRET, 'session', NOW, undefined, undefined, { sub: 'ann', ver: 3 });
    const check = verifyToken(SECRET, token, 'session', NOW);
    expect(check.ok && [check.claims.sub, check.claims.ver]).toEqual(['ann', 3]);
    const [v, , sig] = token.split('.');
    const other = Buffer.from(JSON.stringify({ ...claims, sub: 'admin' })).toString('base64url');
    expect(verifyToken(SECRET, `${v}.${other}.${sig}`, 'session', NOW)).toEqual({ ok: false, reason: 'forged' });
  });
});
