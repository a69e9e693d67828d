import { describe, expect, it } from 'vitest';
import { hashPassword, passwordProblem, SCRYPT_PARAMS, verifyPassword } from './passwords';

// Small parameters keep the unit tests quick; one test checks the production parameters once.
const FAST = { N: 1024, r: 8, p: 1, keylen: 32 };

describe('staff password hashes', () => {
  it('verifies the password it was made from and no other', async () => {
    const stored = await hashPassword('correct horse battery', FAST);
    expect(await verifyPassword('correct horse battery', stored)).toBe(true);
    for (const wrong of ['correct horse batterY', 'correct horse battery ', '', 'correct horse']) {
      expect(await verifyPassword(wrong, stored), wrong).toBe(false);
    }
  });

  it('stores the algorithm and its parameters with a per-hash salt, never the password', async () => {
    const [a, b] = await Promise.all([hashPassword('same password here', FAST), hashPassword('same password here', FAST)]);
    expect(a).toMatchObject({ algorithm: 'scrypt', N: 1024, r: 8, p: 1, keylen: 32 });
    expect(a.salt).not.toBe(b.salt);
    expect(a.hash).not.toBe(b.hash);
    expect(JSON.stringify(a)).not.toContain('same password');
    expect(Buffer.from(a.hash, 'base64url')).toHaveLength(32);
  });

  it('uses the production parameters by default (N = 2^15, r = 8, p = 1)', async () => {
    const stored = await hashPassword('a production passphrase');
    expect(stored).toMatchObject({ N: SCRYPT_PARAMS.N, r: 8, p: 1 });
    expect(await verifyPassword('a production passphrase', stored)).toBe(true);
  });

  it('treats composed and decomposed accents as the same password (NFC)', async () => {
    const stored = await hashPassword('Zo\u00eb lives in Montr\u00e9al', FAST);
    expect(await verifyPassword('Zoe\u0308 lives in Montre\u0301al', stored)).toBe(true);
  });

  it('refuses a stored record with tampered or absurd parameters instead of running them', async () => {
    const stored = await hashPassword('correct horse battery', FAST);
    for (const bad of [{ N: 2 ** 30 }, { N: 1000 }, { r: 0 }, { p: 99 }, { keylen: 8 }, { algorithm: 'md5' }, { hash: 'c2hvcnQ' }]) {
      expect(await verifyPassword('correct horse battery', { ...stored, ...bad }), JSON.stringify(bad)).toBe(false);
    }
  });
});

describe('the staff password policy', () => {
  it.each([
    [undefined, 'is required'],
    ['', 'is required'],
    ['short pass', 'must be at least 12 characters'],
    ['x'.repeat(257), 'must be at most 256 characters'],
    [' leading space pass', 'must not start or end with a space'],
    ['twelve chars', undefined],
    ['日本語のパスフレーズ十二文字', undefined],
  ])('%s: %s', (password, problem) => {
    expect(passwordProblem(password)).toBe(problem);
  });

  it('counts characters, not UTF-16 units: eleven emoji are too short', () => {
    expect(passwordProblem('🔑'.repeat(11))).toBe('must be at least 12 characters');
    expect(passwordProblem('🔑'.repeat(12))).toBeUndefined();
  });
});
