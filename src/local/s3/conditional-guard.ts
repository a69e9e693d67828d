import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AnsweredRequest } from './request-label';

/**
 * A reverse proxy in front of an S3-protocol server that does not honour conditional writes
 * (s3rver ignores If-Match / If-None-Match on PUT). Writes to one key are serialised, and a PUT
 * carrying a condition is checked against the key's current ETag before it is forwarded; a
 * failed condition gets S3's own answer (412 PreconditionFailed, or 404 NoSuchKey for If-Match on
 * a missing object). Everything else passes through untouched, signatures included.
 */
export interface ConditionalGuard {
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

type Etag = string | null;

/**
 * Per-key readers-writer locks. s3rver writes object files in place, so a GET racing a PUT can read
 * a half-written file; reads therefore wait for writes to the same key, and writes for reads.
 */
class KeyLocks {
  private readonly keys = new Map<string, { readers: number; writing: boolean; queue: { write: boolean; go: () => void }[] }>();

  async run<T>(key: string, write: boolean, fn: () => Promise<T>): Promise<T> {
    let k = this.keys.get(key);
    if (!k) {
      k = { readers: 0, writing: false, queue: [] };
      this.keys.set(key, k);
    }
    const entry = k;
    if (entry.queue.length === 0 && !entry.writing && (!write || entry.readers === 0)) {
      if (write) entry.writing = true;
      else entry.readers += 1;
    } else {
      await new Promise<void>((go) => entry.queue.push({ write, go }));
    }
    try {
      return await fn();
    } finally {
      if (write) entry.writing = false;
      else entry.readers -= 1;
      while (entry.queue.length > 0) {
        const next = entry.queue[0] as { write: boolean; go: () => void };
        if (next.write) {
          if (entry.readers > 0 || entry.writing) break;
          entry.writing = true;
          entry.queue.shift();
          next.go();
          break;
        }
        if (entry.writing) break;
        entry.readers += 1;
        entry.queue.shift();
        next.go();
      }
      if (entry.readers === 0 && !entry.writing && entry.queue.length === 0) this.keys.delete(key);
    }
  }
}

function splitPath(url: string): { bucket: string; key: string; query: URLSearchParams } {
  const u = new URL(url, 'http://guard');
  const [, bucket = '', ...rest] = u.pathname.split('/');
  return { bucket, key: rest.join('/'), query: u.searchParams };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function normaliseEtag(tag: string): string {
  return tag.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
}

function matches(condition: string, current: string): boolean {
  return condition
    .split(',')
    .map((t) => t.trim())
    .some((t) => t === '*' || normaliseEtag(t) === normaliseEtag(current));
}

function s3Error(res: ServerResponse, status: number, code: string, message: string, extra = ''): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>${extra}<RequestId>${randomUUID()}</RequestId></Error>`;
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export async function startConditionalGuard(options: {
  upstreamPort: number;
  port?: number;
  host?: string;
  /** Reads a key's current ETag directly (same process as the server); HEAD upstream otherwise. */
  currentEtag?: (bucket: string, key: string) => Promise<string | null>;
  /**
   * Called once for every request a client sent, when its answer is done (the guard's own probes
   * upstream are not requests). Benchmarks count S3 requests with it.
   */
  onAnswered?: (request: AnsweredRequest) => void;
}): Promise<ConditionalGuard> {
  const host = options.host ?? '127.0.0.1';
  const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
  const locks = new KeyLocks();
  // Known ETags of keys this guard wrote or checked; a miss costs one HEAD upstream. Only entries
  // learned while holding the key's lock are trusted.
  const etags = new Map<string, Etag>();

  const upstream = (req: IncomingMessage, body: NodeJS.ReadableStream | null, method = req.method): Promise<IncomingMessage> =>
    new Promise((resolve, reject) => {
      const out = http.request(
        { host: '127.0.0.1', port: options.upstreamPort, method, path: req.url, headers: req.headers, agent },
        resolve,
      );
      out.on('error', reject);
      if (body) body.pipe(out);
      else out.end();
    });

  const headEtag = async (req: IncomingMessage, cacheKey: string): Promise<Etag> => {
    if (etags.has(cacheKey)) return etags.get(cacheKey) ?? null;
    if (options.currentEtag) {
      const { bucket, key } = splitPath(req.url ?? '/');
      const direct = await options.currentEtag(bucket, decodeURIComponent(key));
      const tag = direct === null ? null : normaliseEtag(direct);
      remember(cacheKey, tag);
      return tag;
    }
    const head = await new Promise<IncomingMessage>((resolve, reject) => {
      const { bucket, key } = splitPath(req.url ?? '/');
      const out = http.request(
        {
          host: '127.0.0.1',
          port: options.upstreamPort,
          method: 'HEAD',
          path: `/${bucket}/${key}`,
          // s3rver checks signatures only when present; this internal probe carries none.
          headers: { host: req.headers.host ?? '' },
          agent,
        },
        resolve,
      );
      out.on('error', reject);
      out.end();
    });
    head.resume();
    const tag = head.statusCode === 200 ? normaliseEtag(String(head.headers.etag ?? '')) : null;
    if (head.statusCode !== 200 && head.statusCode !== 404) {
      throw new Error(`upstream HEAD answered ${head.statusCode}`);
    }
    remember(cacheKey, tag);
    return tag;
  };

  const remember = (cacheKey: string, tag: Etag) => {
    if (etags.size > 200_000) etags.clear();
    etags.set(cacheKey, tag);
  };

  // The key's lock is held until the answer has been streamed completely.
  const pipeBackAndWait = (from: IncomingMessage, res: ServerResponse) =>
    new Promise<void>((resolve) => {
      res.on('finish', resolve);
      res.on('close', resolve);
      res.writeHead(from.statusCode ?? 502, from.headers);
      from.pipe(res);
    });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const { bucket, key, query } = splitPath(req.url ?? '/');
    const method = req.method ?? 'GET';
    const writesKey = key !== '' && (method === 'PUT' || method === 'DELETE' || (method === 'POST' && !query.has('uploads')));
    if (!writesKey) {
      const read = async () => {
        const answer = await upstream(req, method === 'GET' || method === 'HEAD' ? null : req);
        if (method === 'POST' && query.has('delete')) etags.clear();
        await pipeBackAndWait(answer, res);
      };
      if (key !== '' && (method === 'GET' || method === 'HEAD')) await locks.run(`${bucket}/${key}`, false, read);
      else await read();
      return;
    }
    const cacheKey = `${bucket}/${key}`;
    await locks.run(cacheKey, true, async () => {
      const ifMatch = req.headers['if-match'];
      const ifNoneMatch = req.headers['if-none-match'];
      if (method === 'PUT' && (ifMatch || ifNoneMatch)) {
        const current = await headEtag(req, cacheKey);
        if (ifNoneMatch && current !== null && matches(String(ifNoneMatch), current)) {
          req.resume();
          s3Error(
            res,
            412,
            'PreconditionFailed',
            'At least one of the pre-conditions you specified did not hold',
            '<Condition>If-None-Match</Condition>',
          );
          return;
        }
        if (ifMatch && current === null) {
          req.resume();
          s3Error(res, 404, 'NoSuchKey', 'The specified key does not exist.', `<Key>${key}</Key>`);
          return;
        }
        if (ifMatch && current !== null && !matches(String(ifMatch), current)) {
          req.resume();
          s3Error(
            res,
            412,
            'PreconditionFailed',
            'At least one of the pre-conditions you specified did not hold',
            '<Condition>If-Match</Condition>',
          );
          return;
        }
      }
      const answer = await upstream(req, method === 'DELETE' ? null : req);
      const ok = (answer.statusCode ?? 500) < 300;
      if (ok && method === 'PUT' && !query.has('partNumber')) {
        const tag = answer.headers.etag ? normaliseEtag(String(answer.headers.etag)) : undefined;
        if (tag) remember(cacheKey, tag);
        else etags.delete(cacheKey);
      } else if (ok && method === 'DELETE') remember(cacheKey, null);
      else etags.delete(cacheKey);
      await pipeBackAndWait(answer, res);
    });
  };

  const server = http.createServer((req, res) => {
    const onAnswered = options.onAnswered;
    if (onAnswered) {
      res.once('close', () => {
        const { bucket, key, query } = splitPath(req.url ?? '/');
        onAnswered({ method: req.method ?? 'GET', bucket, key: safeDecode(key), query, status: res.statusCode });
      });
    }
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) s3Error(res, 503, 'ServiceUnavailable', `guard: ${(err as Error).message}`);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
