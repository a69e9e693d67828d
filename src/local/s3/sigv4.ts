import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * AWS Signature Version 4 checked the way S3 checks it ("Authenticating Requests: Using the
 * Authorization Header", S3 API Reference): the canonical request is rebuilt from what arrived and
 * signed again with the secret of the access key named in the credential scope.
 */
export type SigV4Result =
  | { ok: true; payloadHash: string }
  | {
      ok: false;
      status: 400 | 403;
      code: 'AccessDenied' | 'InvalidAccessKeyId' | 'SignatureDoesNotMatch' | 'AuthorizationHeaderMalformed';
      message: string;
    };

const HEADER =
  /^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;_-]+),\s*Signature=([0-9a-f]{64})$/;

/** RFC 3986 unreserved characters stay; everything else is %XX (SigV4's UriEncode). */
function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function canonicalQuery(raw: string): string {
  if (raw === '') return '';
  return raw
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      const [k, v] = eq < 0 ? [p, ''] : [p.slice(0, eq), p.slice(eq + 1)];
      return [uriEncode(decode(k)), uriEncode(decode(v))] as const;
    })
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

export class SigV4Verifier {
  private readonly signingKeys = new Map<string, Buffer>();

  constructor(private readonly secrets: ReadonlyMap<string, string>) {}

  verify(method: string, rawUrl: string, headers: IncomingHttpHeaders): SigV4Result {
    const auth = headers.authorization;
    if (!auth) return { ok: false, status: 403, code: 'AccessDenied', message: 'Access Denied' };
    const m = HEADER.exec(auth.trim());
    if (!m) return { ok: false, status: 400, code: 'AuthorizationHeaderMalformed', message: 'The authorization header is malformed.' };
    const [, accessKey = '', date = '', region = '', service = '', signedHeaders = '', signature = ''] = m;
    const secret = this.secrets.get(accessKey);
    if (secret === undefined)
      return {
        ok: false,
        status: 403,
        code: 'InvalidAccessKeyId',
        message: 'The AWS Access Key Id you provided does not exist in our records.',
      };
    const amzDate = String(headers['x-amz-date'] ?? '');
    const payloadHash = String(headers['x-amz-content-sha256'] ?? '');
    if (!amzDate.startsWith(date) || payloadHash === '') {
      return {
        ok: false,
        status: 400,
        code: 'AuthorizationHeaderMalformed',
        message: 'x-amz-date and x-amz-content-sha256 are required and must match the credential scope.',
      };
    }
    const q = rawUrl.indexOf('?');
    const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const names = signedHeaders.split(';');
    const canonicalHeaders = names
      .map(
        (n) =>
          `${n}:${String(headers[n] ?? '')
            .trim()
            .replace(/\s+/g, ' ')}\n`,
      )
      .join('');
    const canonicalRequest = [
      method,
      rawPath,
      canonicalQuery(q < 0 ? '' : rawUrl.slice(q + 1)),
      canonicalHeaders,
      signedHeaders,
      payloadHash,
    ].join('\n');
    const scope = `${date}/${region}/${service}/aws4_request`;
    const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
    const expected = createHmac('sha256', this.signingKey(secret, date, region, service))
      .update(toSign)
      .digest();
    const given = Buffer.from(signature, 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return {
        ok: false,
        status: 403,
        code: 'SignatureDoesNotMatch',
        message: 'The request signature we calculated does not match the signature you provided.',
      };
    }
    return { ok: true, payloadHash };
  }

  private signingKey(secret: string, date: string, region: string, service: string): Buffer {
    const id = `${secret}\u0000${date}\u0000${region}\u0000${service}`;
    let key = this.signingKeys.get(id);
    if (!key) {
      key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
      if (this.signingKeys.size > 64) this.signingKeys.clear();
      this.signingKeys.set(id, key);
    }
    return key;
  }
}
