import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { PasswordHash } from './staff-records';

/**
 * Staff passwords, hashed with scrypt (memory-hard, in Node's crypto). N = 2^15, r = 8, p = 1 uses
 * 32 MiB and about 0.1-0.3 s per hash on one core: slow enough to make an offline guess expensive,
 * fast enough for a login Function that must answer within Twilio's 10 s. The parameters are stored
 * with each hash, so raising them later leaves older hashes verifiable.
 */
export const SCRYPT_PARAMS = { N: 2 ** 15, r: 8, p: 1, keylen: 32 } as const;

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;

/** Parameters outside these bounds are refused when verifying: a tampered record must not make a login hang or allocate gigabytes. */
const LIMITS = { maxN: 2 ** 20, maxR: 32, maxP: 4, maxKeylen: 64 };

function derive(password: string, salt: Buffer, params: { N: number; r: number; p: number; keylen: number }): Promise<Buffer> {
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, params.keylen, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Why a password is refused, in words naming the field; undefined when it is acceptable. */
export function passwordProblem(password: unknown): string | undefined {
  if (typeof password !== 'string' || password === '') return 'is required';
  // Counted in code points, so a passphrase in any script is measured as a person counts it.
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return `must be at least ${PASSWORD_MIN_LENGTH} characters`;
  if (length > PASSWORD_MAX_LENGTH) return `must be at most ${PASSWORD_MAX_LENGTH} characters`;
  if (password.trim() !== password) return 'must not start or end with a space';
  return undefined;
}

export async function hashPassword(
  password: string,
  params: { N: number; r: number; p: number; keylen: number } = SCRYPT_PARAMS,
): Promise<PasswordHash> {
  const salt = randomBytes(16);
  const hash = await derive(password, salt, params);
  return {
    algorithm: 'scrypt',
    N: params.N,
    r: params.r,
    p: params.p,
    keylen: params.keylen,
    salt: salt.toString('base64url'),
    hash: hash.toString('base64url'),
  };
}

/**
 * True when `password` is the one `stored` was made from; compares in constant time. `stored` is
 * read back from storage, so a tampered record can name another algorithm.
 */
export async function verifyPassword(password: string, stored: Omit<PasswordHash, 'algorithm'> & { algorithm: string }): Promise<boolean> {
  const { N, r, p, keylen } = stored;
  const sane =
    stored.algorithm === 'scrypt' &&
    Number.isInteger(N) &&
    N > 1 &&
    N <= LIMITS.maxN &&
    (N & (N - 1)) === 0 &&
    Number.isInteger(r) &&
    r >= 1 &&
    r <= LIMITS.maxR &&
    Number.isInteger(p) &&
    p >= 1 &&
    p <= LIMITS.maxP &&
    Number.isInteger(keylen) &&
    keylen >= 16 &&
    keylen <= LIMITS.maxKeylen;
  if (!sane) return false;
  const expected = Buffer.from(stored.hash, 'base64url');
  if (expected.length !== keylen) return false;
  const actual = await derive(password, Buffer.from(stored.salt, 'base64url'), { N, r, p, keylen });
  return timingSafeEqual(actual, expected);
}

/**
 * A hash of a password nobody has, verified when the login name is unknown so that an unknown
 * name takes as long as a wrong password and does not tell an attacker which names exist.
 */
let decoy: Promise<PasswordHash> | undefined;
export function decoyHash(): Promise<PasswordHash> {
  decoy ??= hashPassword(randomBytes(24).toString('base64url'));
  return decoy;
}
