import twilio from 'twilio';
import type { ReadableStreamReadResult } from 'node:stream/web';

/**
 * Studio's outbound HTTP for make-http-request and run-function (docs/studio-engine.md §2.6, §2.7):
 * signed like every Twilio webhook, 10 s timeout, 64 kB response limit.
 */

export const HTTP_TIMEOUT_MS = 10_000;
export const MAX_RESPONSE_BYTES = 64 * 1024;

export interface OutboundRequest {
  method: 'GET' | 'POST';
  url: string;
  /** POST form parameters; they are also part of the signature. */
  form?: Record<string, string>;
  /** A raw body (JSON text…); signed as a URL-only request. */
  body?: string;
  contentType?: string;
  /** Basic auth sent as a header (credentials embedded in the URL are moved here). */
  basicAuth?: { user: string; password: string };
}

export type OutboundResult =
  | { kind: 'response'; status: number; contentType: string; body: string; headers: Headers }
  | { kind: 'error'; reason: 'timeout' | 'too-large' | 'network'; message: string };

export interface OutboundOptions {
  fetch: typeof fetch;
  authToken: string;
  timeoutMs: number;
  /** make-http-request follows 3xx (§2.6); run-function reports them as they are (§2.7). */
  redirect: 'follow' | 'manual';
}

/**
 * X-Twilio-Signature exactly as Twilio computes it: HMAC-SHA1 of the URL followed by the sorted
 * POST parameters, base64. twilio's own helper guarantees `validateRequest` agrees.
 */
export function signature(authToken: string, url: string, form: Record<string, string> = {}): string {
  return twilio.getExpectedTwilioSignature(authToken, url, form);
}

/** Moves `user:pass@` out of a URL: fetch refuses URLs with credentials. */
export function splitCredentials(url: string): { url: string; basicAuth?: { user: string; password: string } } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { url };
  }
  if (!u.username && !u.password) return { url };
  const basicAuth = { user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
  u.username = '';
  u.password = '';
  return { url: u.toString(), basicAuth };
}

async function readLimited(res: Response, limit: number): Promise<string | undefined> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = (await reader.read()) as ReadableStreamReadResult<Uint8Array>;
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function sendOutbound(req: OutboundRequest, opts: OutboundOptions): Promise<OutboundResult> {
  const headers: Record<string, string> = {
    'User-Agent': 'TwilioProxy/1.1',
    'X-Twilio-Signature': signature(opts.authToken, req.url, req.form),
  };
  if (req.basicAuth) headers.Authorization = `Basic ${Buffer.from(`${req.basicAuth.user}:${req.basicAuth.password}`).toString('base64')}`;
  let body: string | undefined;
  if (req.method === 'POST') {
    body = req.form ? new URLSearchParams(req.form).toString() : (req.body ?? '');
    headers['Content-Type'] = req.contentType ?? 'application/x-www-form-urlencoded';
  }
  const signal = AbortSignal.timeout(opts.timeoutMs);
  try {
    const res = await opts.fetch(req.url, { method: req.method, headers, body, redirect: opts.redirect, signal });
    const text = await readLimited(res, MAX_RESPONSE_BYTES);
    if (text === undefined) return { kind: 'error', reason: 'too-large', message: `response body over ${MAX_RESPONSE_BYTES} bytes` };
    return { kind: 'response', status: res.status, contentType: res.headers.get('content-type') ?? '', body: text, headers: res.headers };
  } catch (err) {
    if (signal.aborted) return { kind: 'error', reason: 'timeout', message: `no response within ${opts.timeoutMs} ms` };
    return { kind: 'error', reason: 'network', message: err instanceof Error ? err.message : String(err) };
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** §2.6: `parsed` exists only for an `application/json` response whose top level is an object. */
export function parseJsonObject(contentType: string, body: string): Record<string, unknown> | undefined {
  if (!/^application\/json\s*(;|$)/i.test(contentType.trim())) return undefined;
  try {
    const v: unknown = JSON.parse(body);
    return isRecord(v) ? v : undefined;
  } catch {
    return undefined;
  }
}
