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
export type PostFailure = 'connect-timeout' | 'timeout' | 'network';

export class PostError extends Error {
  constructor(readonly kind: PostFailure) {
    super(`EHR request failed: ${kind}`);
    this.name = 'PostError';
  }
}

export type PostJson = (url: string, options: PostOptions) => Promise<{ status: number }>;

/** Bodies are read only to free the connection; an EHR has no reason to answer with megabytes. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * One POST, answered with the status only. node:http never follows redirects, so a 3xx comes back
 * as its status: a request that carries patient ids and an HMAC signature goes only to the URL
 * configured, not wherever a Location header points.
 */
export const postJson: PostJson = (url, o) =>
  new Promise((resolve, reject) => {
    const target = new URL(url);
    const transport = target.protocol === 'https:' ? https : http;
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(total);
      clearTimeout(connect);
      fn();
    };
    const req = transport.request(target, { method: 'POST', headers: { ...o.headers, 'Content-Length': String(Buffer.byteLength(o.body)) }, agent: false });
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
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > MAX_RESPONSE_BYTES) res.destroy();
      });
      res.once('close', () => finish(() => resolve({ status: res.statusCode ?? 0 })));
      res.once('error', () => finish(() => resolve({ status: res.statusCode ?? 0 })));
    });
    req.end(o.body);
  });
