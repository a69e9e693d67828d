import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ObjectHead } from './object-files';

/* The S3 wire format the embedded server speaks: errors, XML, bodies, conditional headers, list tokens. */

export const MAX_BODY = 64 * 1024 * 1024;
export const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function xml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

export function unxml(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|apos|#x[0-9a-fA-F]+|#\d+);/g, (_, e: string) => {
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    if (named[e]) return named[e];
    return String.fromCodePoint(e.startsWith('#x') ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  });
}

export function sendXml(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, method: string, err: S3Error, requestId: string): void {
  if (method === 'HEAD') {
    res.writeHead(err.status, { 'x-amz-request-id': requestId });
    res.end();
    return;
  }
  const extra = Object.entries(err.extra)
    .map(([k, v]) => `<${k}>${xml(v)}</${k}>`)
    .join('');
  sendXml(
    res,
    err.status,
    `<Error><Code>${err.code}</Code><Message>${xml(err.message)}</Message>${extra}<RequestId>${requestId}</RequestId></Error>`,
    {
      'x-amz-request-id': requestId,
    },
  );
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new S3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed object size.'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The payload of an aws-chunked body: `size[;chunk-signature=…]\r\n data \r\n … 0\r\n trailers \r\n`. */
export function decodeAwsChunked(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = raw.indexOf('\r\n', at);
    if (eol < 0) throw new S3Error(400, 'IncompleteBody', 'The aws-chunked body ended early.');
    const size = parseInt(raw.subarray(at, eol).toString('latin1').split(';')[0] ?? '', 16);
    if (!Number.isFinite(size) || size < 0) throw new S3Error(400, 'InvalidRequest', 'Malformed aws-chunked chunk header.');
    if (size === 0) return Buffer.concat(parts);
    const start = eol + 2;
    if (start + size > raw.length) throw new S3Error(400, 'IncompleteBody', 'The aws-chunked body ended early.');
    parts.push(raw.subarray(start, start + size));
    at = start + size + 2;
  }
}

export function etagList(header: string | undefined): string[] {
  return (header ?? '')
    .split(',')
    .map((t) => t.trim().replace(/^W\//, '').replace(/^"|"$/g, ''))
    .filter((t) => t !== '');
}

export function matchesAny(header: string | undefined, etag: string): boolean {
  return etagList(header).some((t) => t === '*' || t === etag);
}

export function userMeta(headers: IncomingMessage['headers']): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (k.startsWith('x-amz-meta-') && typeof v === 'string') meta[k.slice(11)] = v;
  return meta;
}

export function objectHeaders(head: ObjectHead): Record<string, string | number> {
  const h: Record<string, string | number> = {
    ETag: `"${head.etag}"`,
    'Content-Type': head.contentType,
    'Content-Length': head.size,
    'Last-Modified': new Date(head.modified).toUTCString(),
    'Accept-Ranges': 'bytes',
  };
  for (const [k, v] of Object.entries(head.meta)) h[`x-amz-meta-${k}`] = v;
  return h;
}

export interface ListToken {
  /** The last key or common prefix returned. */
  a: string;
  /** `a` is a common prefix: resume after every key under it. */
  p: boolean;
}

export function encodeToken(t: ListToken): string {
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

export function decodeToken(s: string): ListToken {
  try {
    const t = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as ListToken;
    if (typeof t.a === 'string' && typeof t.p === 'boolean') return t;
  } catch {
    // answered below
  }
  throw new S3Error(400, 'InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
}

export function splitPath(url: string): { bucket: string; key: string; query: URLSearchParams } {
  const q = url.indexOf('?');
  const pathname = q < 0 ? url : url.slice(0, q);
  const slash = pathname.indexOf('/', 1);
  const rawBucket = slash < 0 ? pathname.slice(1) : pathname.slice(1, slash);
  const rawKey = slash < 0 ? '' : pathname.slice(slash + 1);
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  return { bucket: decode(rawBucket), key: decode(rawKey), query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)) };
}
