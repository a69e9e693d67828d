import { isIP } from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import { verifyToken } from '../admin/tokens';
import { bearerToken } from '../http/auth';
import { log } from '../log';

/** 127.0.0.0/8, ::1, and IPv4 loopback mapped into IPv6 (what a dual-stack socket reports). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(v4) === 4) return v4.split('.')[0] === '127';
  return address === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(address);
}

/** A host name or address `listen` binds to that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || isLoopbackAddress(host);
}

export type LocalAccess = { ok: true } | { ok: false; reason: 'not-loopback' };

/**
 * Who may use the local stand-ins (virtual phones with the administrator's login codes, the clock,
 * the sandbox EHR's log, the Twilio REST stand-in): this machine, or a caller with an admin session
 * (the password and the texted code) when the stack listens beyond loopback.
 */
export function checkLocalAccess(input: {
  remoteAddress: string | undefined;
  authorization: string | undefined;
  sessionSecret: string;
  nowMs: number;
}): LocalAccess {
  if (isLoopbackAddress(input.remoteAddress)) return { ok: true };
  const token = bearerToken(input.authorization);
  if (token && verifyToken(input.sessionSecret, token, 'session', input.nowMs).ok) return { ok: true };
  return { ok: false, reason: 'not-loopback' };
}

/** Express middleware for `checkLocalAccess`; 403 in the shared error shape otherwise. */
export function localOnly(sessionSecret: () => string) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const access = checkLocalAccess({
      remoteAddress: req.socket.remoteAddress,
      authorization: req.headers.authorization,
      sessionSecret: sessionSecret(),
      nowMs: Date.now(),
    });
    if (access.ok) return next();
    log('warn', 'local endpoint refused', { status: 403, code: access.reason });
    res.status(403).json({
      error: {
        code: 'forbidden',
        message: 'the local stand-ins answer this machine only, or an admin session (log in on the admin page)',
      },
    });
  };
}

/** What `npm start` prints when the stack can be reached from other machines; undefined on loopback. */
export function beyondLoopbackWarning(host: string, port: number): string | undefined {
  if (isLoopbackHost(host)) return undefined;
  return [
    `WARNING: listening on ${host}:${port}, beyond this machine. Other machines on the network can reach the`,
    '  Functions (the admin login, the EHR intake with its key). The local stand-ins (/__local/*, /__twilio/*)',
    '  answer them only with an admin session. Set HOST=127.0.0.1 unless you need this.',
  ].join('\n');
}
