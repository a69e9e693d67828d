import { randomBytes, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { TwilioApiError } from './contracts';

/** Shared plumbing for the local Twilio REST stand-in's routers. */

export interface StandInCredentials {
  accountSid: string;
  authToken: string;
  /** API keys (SK…) with their secrets, as production uses for the Lambda. */
  apiKeys?: { sid: string; secret: string }[];
}

/** Twilio SIDs: two-letter prefix and 32 hex digits. */
export function newSid(prefix: string): string {
  return `${prefix}${randomBytes(16).toString('hex')}`;
}

/** Twilio's date format in REST JSON (RFC 2822), e.g. `Wed, 25 Nov 2026 08:10:07 +0000`. */
export function rfc2822(d: Date): string {
  return d.toUTCString().replace('GMT', '+0000');
}

/** Twilio v2 APIs (Studio, Verify) use ISO 8601 dates. */
export function iso(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** HTTP Basic auth as Twilio checks it: account SID + auth token, or API key SID + secret. */
export function twilioAuth(credentials: () => StandInCredentials): RequestHandler {
  return (req, res, next) => {
    const m = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
    const decoded = m ? Buffer.from(m[1] ?? '', 'base64').toString('utf8') : '';
    const i = decoded.indexOf(':');
    const user = i >= 0 ? decoded.slice(0, i) : '';
    const pass = i >= 0 ? decoded.slice(i + 1) : '';
    const c = credentials();
    const ok =
      (same(user, c.accountSid) && same(pass, c.authToken)) || (c.apiKeys ?? []).some((k) => same(user, k.sid) && same(pass, k.secret));
    if (!ok) {
      sendTwilioError(res, new TwilioApiError(401, 20003, 'Authenticate'));
      return;
    }
    next();
  };
}

export function sendTwilioError(res: Response, err: TwilioApiError): void {
  res.status(err.status).json(err.toJSON());
}

/** Wraps an async route so a TwilioApiError becomes Twilio's JSON error and anything else a 500. */
export function route(fn: (req: Request, res: Response) => Promise<void> | void): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    // A handler may throw before its first await; treat that like a rejection.
    new Promise<void>((resolve) => resolve(fn(req, res))).catch((err: unknown) => {
      if (err instanceof TwilioApiError) sendTwilioError(res, err);
      else next(err);
    });
  };
}

/** The SDK sends form-encoded bodies; repeated keys (MediaUrl) become arrays. */
export const formBody = express.urlencoded({ extended: false, limit: '1mb' });

export function formString(req: Request, key: string): string | undefined {
  const v = (req.body as Record<string, unknown> | undefined)?.[key];
  if (Array.isArray(v)) return typeof v[0] === 'string' ? v[0] : undefined;
  return typeof v === 'string' ? v : undefined;
}

/**
 * Twilio's answer to a request without a parameter the operation requires, in its own words: 400
 * with code 20001 and `Missing required parameter <Name> in the post body` (the Serverless, Studio
 * v2 and Verify v2 APIs answer so; the 2010-04-01 Messages API has its own codes, 21602–21604).
 */
export function missingParameter(key: string): TwilioApiError {
  return new TwilioApiError(400, 20001, `Missing required parameter ${key} in the post body`);
}

export function requireForm(req: Request, key: string): string {
  const v = formString(req, key);
  if (v === undefined || v === '') throw missingParameter(key);
  return v;
}
