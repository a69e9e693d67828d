import http from 'node:http';
import https from 'node:https';

export interface PostOptions {
  headers: Record<string, string>;
  body: string;
  /** Until the TCP (and TLS) connection is up. */
  connectTimeoutMs: number;
  /** From the start until the whole response has been read. */
  totalTimeoutMs: number;
}

/** Why a request got no status; only the kind, never an address, header or body. */
export type PostFailure = 'connect-timeout' | 'timeout' | 'network' | 'too-large';

export class PostError extends Error {
  constructor(readonly kind: PostFailure) {
    super(`EHR request failed: ${kind}`);
    this.name = 'PostError';
  }
}

export type PostJson = (url: string, options: PostOptions) => Promise<{ status: number }>;

/** Bodies are read only to free the connection; an EHR has no reason to answer with megabytes. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export interface ExchangeOptions {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  /** Until the TCP (and TLS) connection is up. */
  connectTimeoutMs: number;
  /** From the start until the whole response has been read. */
  totalTimeoutMs: number;
  maxResponseBytes: number;
  /** What a response over `maxResponseBytes` is: dropped (the status still counts) or a failure. */
  overflow: 'drop' | 'fail';
}

/**
 * One HTTP request with a connect and a total timeout, answered with status and body. node:http
 * never follows redirects, so a 3xx comes back as its status: a request that carries patient ids,
 * a signature or a token goes only to the URL configured, not wherever a Location header points.
 */
export function exchange(url: string | URL, o: ExchangeOptions): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const target = typeof url === 'string' ? new URL(url) : url;
    const transport = target.protocol === 'https:' ? https : http;
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(total);
      clearTimeout(connect);
      fn();
    };
    const headers = { ...o.headers, ...(o.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(o.body)) } : {}) };
    const req = transport.request(target, { method: o.method, headers, agent: false });
    const fail = (kind: PostFailure) => {
      finish(() => reject(new PostError(kind)));
      req.destroy();
    };
    const total = setTimeout(() => fail('timeout'), o.totalTimeoutMs);
    const connect = setTimeout(() => fail('connect-timeout'), Math.min(o.connectTimeoutMs, o.totalTimeoutMs));
    req.once('socket', (socket) => {
      const up = () => clearTimeout(connect);
      if (!socket.connecting) up();
      else socket.once(target.protocol === 'https:' ? 'secureConnect' : 'connect', up);
    });
    req.once('error', () => fail('network'));
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      const answer = () => finish(() => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes <= o.maxResponseBytes) chunks.push(chunk);
        else if (o.overflow === 'fail') fail('too-large');
        else res.destroy();
      });
      res.once('end', answer);
      res.once('close', () => (o.overflow === 'drop' ? answer() : fail('network')));
      res.once('error', () => (o.overflow === 'drop' ? answer() : fail('network')));
    });
    req.end(o.body);
  });
}

/** One POST, answered with the status only (the body is read only to free the connection). */
export const postJson: PostJson = async (url, o) => {
  const { status } = await exchange(url, {
    method: 'POST',
    headers: o.headers,
    body: o.body,
    connectTimeoutMs: o.connectTimeoutMs,
    totalTimeoutMs: o.totalTimeoutMs,
    maxResponseBytes: MAX_RESPONSE_BYTES,
    overflow: 'drop',
  });
  return { status };
};
