import { randomBytes } from 'node:crypto';
import type { AtomicJsonStore } from '../storage/s3-admin-store';
import { attemptLogKey } from '../storage/keys';

/**
 * Login attempt limits. Each password attempt can lead to a code texted to the administrator and
 * each code check to a Verify check, which Twilio bills, so attempts are limited per client and in
 * total. The logs live in S3 and change only by conditional writes, so the limits hold across all
 * Functions containers and a burst of parallel attempts cannot overshoot them.
 *
 * Twilio Functions hide the caller's IP address (X-Forwarded-* and X-Real-IP are not passed on),
 * so "client" is the id the page sends in `X-Client-Id`. A determined attacker can change it; the
 * total limit is what bounds the cost, the per-client limit keeps one browser from locking out
 * the others by accident.
 *
 * A browser with a device token (README.md, "Lockout") counts its attempts under the token's id
 * instead, with the per-client limit, and outside the total: the total is what an attacker who
 * rotates client ids fills, and it must not lock out the administrator's own browsers.
 */
export type AttemptKind = 'password' | 'code' | 'sms';

export interface AttemptLimit {
  perClient: number;
  total: number;
  windowMs: number;
}

const FIFTEEN_MINUTES = 15 * 60_000;

export const ATTEMPT_LIMITS: Record<AttemptKind, AttemptLimit> = {
  /** Wrong passwords. */
  password: { perClient: 5, total: 20, windowMs: FIFTEEN_MINUTES },
  /** Wrong codes. */
  code: { perClient: 5, total: 20, windowMs: FIFTEEN_MINUTES },
  /** Codes texted after a right password. */
  sms: { perClient: 5, total: 20, windowMs: FIFTEEN_MINUTES },
};

interface AttemptLog {
  attempts: { at: number; id: string }[];
}

export type Reservation = { ok: true; id: string } | { ok: false; scope: 'client' | 'device' | 'total'; retryAfterSeconds: number };

export const ANONYMOUS_CLIENT = 'anonymous';

/** The client id the page sent, if it looks like one; otherwise every such caller shares a bucket. */
export function clientKey(header: string | string[] | undefined): string {
  const v = Array.isArray(header) ? header[0] : header;
  return v && /^[A-Za-z0-9_-]{8,64}$/.test(v) ? v : ANONYMOUS_CLIENT;
}

export class AttemptLimiter {
  constructor(
    private readonly store: AtomicJsonStore,
    private readonly limits: Record<AttemptKind, AttemptLimit> = ATTEMPT_LIMITS,
  ) {}

  /**
   * Takes one attempt from the client's and the total allowance, or says how long to wait. A
   * reservation counts until the window passes unless it is released (a right answer). With
   * `device` (the id of a verified device token) the attempt counts for that device alone.
   */
  async reserve(kind: AttemptKind, client: string, nowMs: number, device?: string): Promise<Reservation> {
    const limit = this.limits[kind];
    const id = randomBytes(9).toString('base64url');
    if (device !== undefined) {
      const deviceWait = await this.take(attemptLogKey(kind, `device-${device}`), limit.perClient, limit.windowMs, id, nowMs);
      return deviceWait === undefined ? { ok: true, id } : { ok: false, scope: 'device', retryAfterSeconds: deviceWait };
    }
    const clientWait = await this.take(attemptLogKey(kind, `client-${client}`), limit.perClient, limit.windowMs, id, nowMs);
    if (clientWait !== undefined) return { ok: false, scope: 'client', retryAfterSeconds: clientWait };
    const totalWait = await this.take(attemptLogKey(kind, 'total'), limit.total, limit.windowMs, id, nowMs);
    if (totalWait !== undefined) {
      await this.drop(attemptLogKey(kind, `client-${client}`), id);
      return { ok: false, scope: 'total', retryAfterSeconds: totalWait };
    }
    return { ok: true, id };
  }

  /** Gives a reserved attempt back (the answer was right, so it was no failure). */
  async release(kind: AttemptKind, client: string, id: string, device?: string): Promise<void> {
    if (device !== undefined) return this.drop(attemptLogKey(kind, `device-${device}`), id);
    await this.drop(attemptLogKey(kind, `client-${client}`), id);
    await this.drop(attemptLogKey(kind, 'total'), id);
  }

  /** Appends the attempt when under the limit; otherwise returns the seconds until a slot frees. */
  private take(key: string, max: number, windowMs: number, id: string, nowMs: number): Promise<number | undefined> {
    return this.store.update<AttemptLog, number | undefined>(key, (current) => {
      const live = (current?.attempts ?? []).filter((a) => a.at > nowMs - windowMs).sort((a, b) => a.at - b.at);
      if (live.length >= max) {
        const frees = (live[live.length - max]?.at ?? nowMs) + windowMs;
        return { result: Math.max(1, Math.ceil((frees - nowMs) / 1000)) };
      }
      return { result: undefined, value: { attempts: [...live, { at: nowMs, id }] } };
    });
  }

  private async drop(key: string, id: string): Promise<void> {
    await this.store.update<AttemptLog, undefined>(key, (current) => {
      const attempts = current?.attempts ?? [];
      if (!attempts.some((a) => a.id === id)) return { result: undefined };
      return { result: undefined, value: { attempts: attempts.filter((a) => a.id !== id) } };
    });
  }
}
