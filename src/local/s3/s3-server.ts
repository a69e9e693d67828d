import { createHash, randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DamagedObjectError, importS3rverData, ObjectFiles, type ObjectHead } from './object-files';
import type { AnsweredRequest } from './request-label';
import { SigV4Verifier } from './sigv4';
import {
  decodeAwsChunked,
  decodeToken,
  encodeToken,
  type ListToken,
  matchesAny,
  objectHeaders,
  readBody,
  S3Error,
  sendError,
  sendXml,
  splitPath,
  unxml,
  userMeta,
  xml,
  XMLNS,
} from './s3-wire';

export { decodeAwsChunked } from './s3-wire';

/**
 * The embedded S3-protocol server `npm start` and the tests run: what the unmodified AWS SDK v3
 * needs of S3, over node:http, path-style. It exists because no maintained npm package fits:
 * s3rver (the usual choice) is unmaintained, ignores conditional writes, fails ListObjectsV2
 * paging on Node ≥ 17 and writes metadata in place, so a crash can leave an object unreadable.
 *
 * Speaks: CreateBucket, HeadBucket, DeleteBucket, ListBuckets, PutObject (If-None-Match: * and
 * If-Match, decided one at a time per key; Content-MD5; aws-chunked bodies), GetObject and
 * HeadObject (ETag, Content-Type, Last-Modified, x-amz-meta-*, If-Match / If-None-Match),
 * DeleteObject, DeleteObjects, ListObjectsV2 (prefix, delimiter, max-keys, continuation-token,
 * start-after, encoding-type=url; UTF-8 byte order). Every request must carry a valid SigV4
 * Authorization header. Storage: src/local/s3/object-files.ts.
 */
export interface S3Server {
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

export interface S3ServerOptions {
  directory: string;
  port?: number;
  host?: string;
  buckets?: string[];
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** fsync each object file and its folder before answering a write (survives power loss, not only crashes). */
  fsync?: boolean;
  onAnswered?: (request: AnsweredRequest) => void;
  warn?: (message: string) => void;
}

export async function startS3Server(options: S3ServerOptions): Promise<S3Server> {
  const warn = options.warn ?? ((m: string) => console.error(`embedded S3: ${m}`));
  const store = await ObjectFiles.open(options.directory, { fsync: options.fsync ?? false, warn });
  const imported = await importS3rverData(options.directory, store, warn);
  if (imported > 0) warn(`imported ${imported} objects from the s3rver data folder (left in place; safe to delete)`);
  for (const b of options.buckets ?? []) await store.createBucket(b);
  const verifier = new SigV4Verifier(new Map([[options.credentials.accessKeyId, options.credentials.secretAccessKey]]));

  const needBucket = (bucket: string) => {
    if (!store.hasBucket(bucket)) throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
  };

  const body = async (req: IncomingMessage, payloadHash: string): Promise<Buffer> => {
    const raw = await readBody(req);
    const chunked =
      payloadHash.startsWith('STREAMING-') ||
      String(req.headers['content-encoding'] ?? '')
        .split(',')
        .some((e) => e.trim() === 'aws-chunked');
    if (chunked) return decodeAwsChunked(raw);
    if (payloadHash !== 'UNSIGNED-PAYLOAD' && createHash('sha256').update(raw).digest('hex') !== payloadHash) {
      throw new S3Error(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
    return raw;
  };

  const putObject = async (req: IncomingMessage, res: ServerResponse, bucket: string, key: string, payloadHash: string) => {
    needBucket(bucket);
    if (Buffer.byteLength(key) > 1024) throw new S3Error(400, 'KeyTooLongError', 'Your key is too long');
    if (req.headers['x-amz-copy-source'])
      throw new S3Error(501, 'NotImplemented', 'CopyObject is not implemented by the embedded S3 server');
    const content = await body(req, payloadHash);
    const md5 = req.headers['content-md5'];
    if (typeof md5 === 'string' && createHash('md5').update(content).digest('base64') !== md5) {
      throw new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
    }
    const ifMatch = req.headers['if-match'];
    const ifNoneMatch = req.headers['if-none-match'];
    const result = await store.write(
      bucket,
      key,
      {
        body: content,
        contentType: String(req.headers['content-type'] ?? 'application/octet-stream'),
        meta: userMeta(req.headers),
        modified: new Date(),
      },
      (current) => {
        if (ifNoneMatch !== undefined && current && matchesAny(ifNoneMatch, current.etag)) {
          return new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
            Condition: 'If-None-Match',
          });
        }
        if (ifMatch !== undefined && !current) return new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
        if (ifMatch !== undefined && current && !matchesAny(ifMatch, current.etag)) {
          return new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
            Condition: 'If-Match',
          });
        }
        return undefined;
      },
    );
    if ('refused' in result) throw result.refused;
    res.writeHead(200, { ETag: `"${result.written.etag}"`, 'Content-Length': 0 });
    res.end();
  };

  const getObject = async (req: IncomingMessage, res: ServerResponse, bucket: string, key: string) => {
    needBucket(bucket);
    const found = await store.read(bucket, key);
    if (!found) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
    const { head, body: content } = found;
    const ifMatch = req.headers['if-match'];
    const ifNoneMatch = req.headers['if-none-match'];
    if (ifMatch !== undefined && !matchesAny(ifMatch, head.etag)) {
      throw new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
        Condition: 'If-Match',
      });
    }
    if (ifNoneMatch !== undefined && matchesAny(ifNoneMatch, head.etag)) {
      res.writeHead(304, { ETag: `"${head.etag}"` });
      res.end();
      return;
    }
    res.writeHead(200, objectHeaders(head));
    res.end(req.method === 'HEAD' ? undefined : content);
  };

  const deleteObjects = async (req: IncomingMessage, res: ServerResponse, bucket: string, payloadHash: string) => {
    needBucket(bucket);
    const text = (await body(req, payloadHash)).toString('utf8');
    if (!/<Delete[\s>]/.test(text))
      throw new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    const quiet = /<Quiet>\s*true\s*<\/Quiet>/i.test(text);
    const keys = [...text.matchAll(/<Object>[\s\S]*?<Key>([\s\S]*?)<\/Key>[\s\S]*?<\/Object>/g)].map((m) => unxml(m[1] ?? ''));
    if (keys.length > 1000) throw new S3Error(400, 'MalformedXML', 'at most 1,000 keys per request');
    for (const key of keys) await store.delete(bucket, key);
    const deleted = quiet ? '' : keys.map((k) => `<Deleted><Key>${xml(k)}</Key></Deleted>`).join('');
    sendXml(res, 200, `<DeleteResult xmlns="${XMLNS}">${deleted}</DeleteResult>`);
  };

  const listObjectsV2 = (res: ServerResponse, bucket: string, query: URLSearchParams) => {
    needBucket(bucket);
    const prefix = query.get('prefix') ?? '';
    const delimiter = query.get('delimiter') ?? '';
    const maxKeysText = query.get('max-keys');
    const maxKeys = maxKeysText === null ? 1000 : Number(maxKeysText);
    if (!Number.isInteger(maxKeys) || maxKeys < 0)
      throw new S3Error(400, 'InvalidArgument', 'Provided max-keys not an integer or within integer range', { ArgumentName: 'max-keys' });
    const limit = Math.min(maxKeys, 1000);
    const tokenText = query.get('continuation-token');
    const startAfter = query.get('start-after') ?? '';
    const token = tokenText !== null ? decodeToken(tokenText) : undefined;
    const urlEncode = query.get('encoding-type') === 'url';
    const out = (s: string) => xml(urlEncode ? encodeURIComponent(s).replace(/%2F/g, '/') : s);

    const after = token ? token.a : startAfter !== '' ? startAfter : undefined;
    const skipUnder = token?.p ? token.a : undefined;
    const contents: ObjectHead[] = [];
    const prefixes: string[] = [];
    let last: ListToken | undefined;
    let truncated = false;
    for (const head of store.keys(bucket, prefix, after)) {
      if (skipUnder !== undefined && head.key.startsWith(skipUnder)) continue;
      const at = delimiter === '' ? -1 : head.key.indexOf(delimiter, prefix.length);
      const common = at < 0 ? undefined : head.key.slice(0, at + delimiter.length);
      if (common !== undefined && last?.p && last.a === common) continue;
      if (contents.length + prefixes.length >= limit) {
        truncated = true;
        break;
      }
      if (common !== undefined) {
        prefixes.push(common);
        last = { a: common, p: true };
      } else {
        contents.push(head);
        last = { a: head.key, p: false };
      }
    }
    const parts = [
      `<Name>${xml(bucket)}</Name>`,
      `<Prefix>${out(prefix)}</Prefix>`,
      `<KeyCount>${contents.length + prefixes.length}</KeyCount>`,
      `<MaxKeys>${maxKeys}</MaxKeys>`,
      delimiter !== '' ? `<Delimiter>${out(delimiter)}</Delimiter>` : '',
      `<IsTruncated>${truncated}</IsTruncated>`,
      tokenText !== null ? `<ContinuationToken>${xml(tokenText)}</ContinuationToken>` : '',
      truncated && last ? `<NextContinuationToken>${encodeToken(last)}</NextContinuationToken>` : '',
      startAfter !== '' ? `<StartAfter>${out(startAfter)}</StartAfter>` : '',
      urlEncode ? '<EncodingType>url</EncodingType>' : '',
      ...contents.map(
        (h) =>
          `<Contents><Key>${out(h.key)}</Key><LastModified>${h.modified}</LastModified><ETag>&quot;${h.etag}&quot;</ETag><Size>${h.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
      ),
      ...prefixes.map((p) => `<CommonPrefixes><Prefix>${out(p)}</Prefix></CommonPrefixes>`),
    ];
    sendXml(res, 200, `<ListBucketResult xmlns="${XMLNS}">${parts.join('')}</ListBucketResult>`);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const auth = verifier.verify(method, url, req.headers);
    if (!auth.ok) throw new S3Error(auth.status, auth.code, auth.message);
    const { bucket, key, query } = splitPath(url);
    if (bucket === '') {
      if (method !== 'GET') throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
      const list = store
        .bucketNames()
        .map((b) => `<Bucket><Name>${xml(b)}</Name><CreationDate>${new Date(0).toISOString()}</CreationDate></Bucket>`)
        .join('');
      sendXml(
        res,
        200,
        `<ListAllMyBucketsResult xmlns="${XMLNS}"><Owner><ID>local</ID></Owner><Buckets>${list}</Buckets></ListAllMyBucketsResult>`,
      );
      return;
    }
    if (key === '') {
      if (method === 'PUT') {
        await readBody(req);
        if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
          throw new S3Error(400, 'InvalidBucketName', 'The specified bucket is not valid.', { BucketName: bucket });
        // us-east-1 answers 200 when the caller already owns the bucket.
        await store.createBucket(bucket);
        res.writeHead(200, { Location: `/${bucket}`, 'Content-Length': 0 });
        res.end();
        return;
      }
      if (method === 'HEAD') {
        needBucket(bucket);
        res.writeHead(200, { 'x-amz-bucket-region': 'us-east-1' });
        res.end();
        return;
      }
      if (method === 'DELETE') {
        const outcome = await store.deleteBucket(bucket);
        if (outcome === 'missing') needBucket(bucket);
        if (outcome === 'not-empty')
          throw new S3Error(409, 'BucketNotEmpty', 'The bucket you tried to delete is not empty', { BucketName: bucket });
        res.writeHead(204);
        res.end();
        return;
      }
      if (method === 'POST' && query.has('delete')) return deleteObjects(req, res, bucket, auth.payloadHash);
      if (method === 'GET' && query.get('list-type') === '2') return listObjectsV2(res, bucket, query);
      if (method === 'GET' && query.has('location')) {
        needBucket(bucket);
        sendXml(res, 200, `<LocationConstraint xmlns="${XMLNS}"></LocationConstraint>`);
        return;
      }
      throw new S3Error(501, 'NotImplemented', 'This bucket operation is not implemented by the embedded S3 server');
    }
    if ([...query.keys()].some((k) => ['uploads', 'uploadId', 'partNumber', 'acl', 'tagging', 'versionId', 'attributes'].includes(k))) {
      throw new S3Error(501, 'NotImplemented', 'This object operation is not implemented by the embedded S3 server');
    }
    if (method === 'PUT') return putObject(req, res, bucket, key, auth.payloadHash);
    if (method === 'GET' || method === 'HEAD') return getObject(req, res, bucket, key);
    if (method === 'DELETE') {
      needBucket(bucket);
      await store.delete(bucket, key);
      res.writeHead(204);
      res.end();
      return;
    }
    throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
  };

  const server = http.createServer((req, res) => {
    const requestId = randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase();
    res.setHeader('x-amz-request-id', requestId);
    const onAnswered = options.onAnswered;
    if (onAnswered) {
      res.once('close', () => {
        const { bucket, key, query } = splitPath(req.url ?? '/');
        onAnswered({ method: req.method ?? 'GET', bucket, key, query, status: res.statusCode });
      });
    }
    handle(req, res).catch((err: unknown) => {
      const e =
        err instanceof S3Error
          ? err
          : err instanceof DamagedObjectError
            ? new S3Error(500, 'InternalError', 'The stored object is damaged and cannot be read.')
            : new S3Error(500, 'InternalError', 'We encountered an internal error. Please try again.');
      if (!(err instanceof S3Error)) warn(`${req.method} answered 500: ${(err as Error).message}`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // Drain what the client is still sending, so the connection can be reused.
      if (!req.complete) req.resume();
      sendError(res, req.method ?? 'GET', e, requestId);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
