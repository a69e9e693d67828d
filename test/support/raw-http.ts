import http from 'node:http';

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The answer parsed as JSON, or `{ raw: text }` when it is not JSON. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read JSON answers loosely and assert on them
  json: any;
}

export interface RawRequest {
  method?: string;
  /** Path and query, e.g. `/ehr/events?x=1`. */
  path: string;
  headers?: Record<string, string>;
  /** Sent as is: no re-encoding, so invalid UTF-8 reaches the server byte for byte. */
  body?: Buffer;
  /** Send the body with `Transfer-Encoding: chunked` in pieces of this many bytes (no Content-Length). */
  chunkBytes?: number;
}

/** One HTTP/1.1 request with exactly the method, headers, bytes and framing given (fetch normalises them). */
export function rawRequest(baseUrl: string, r: RawRequest): Promise<RawAnswer> {
  const url = new URL(r.path, baseUrl);
  const headers: Record<string, string> = { ...(r.headers ?? {}) };
  if (r.body && !r.chunkBytes) headers['content-length'] = String(r.body.byteLength);
  if (r.chunkBytes) headers['transfer-encoding'] = 'chunked';
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: r.method ?? 'POST', headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = { raw: text };
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (r.body && r.chunkBytes) {
      for (let i = 0; i < r.body.byteLength; i += r.chunkBytes) req.write(r.body.subarray(i, i + r.chunkBytes));
    } else if (r.body) req.write(r.body);
    req.end();
  });
}
