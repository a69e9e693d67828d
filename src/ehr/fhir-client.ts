import { exchange, PostError, type PostFailure } from './http-post';

/**
 * Reads resources from the EHR's FHIR R4 server: what an id-only notification or a bare
 * Appointment leaves out. The port the FHIR intake uses; `FhirHttpReader` is the adapter.
 */
export interface FhirReader {
  /** The resource, or null when the server says it does not exist (404, 410). */
  read(type: string, id: string): Promise<Record<string, unknown> | null>;
  /** `GET [base]/Appointment?identifier=system|value`: the matching resources. */
  searchByIdentifier(type: string, system: string | undefined, value: string): Promise<Record<string, unknown>[]>;
  /** Whether an absolute reference points into this server (only those are fetched). */
  owns(reference: string): boolean;
}

/** Why a read failed; only the kind and status, never a URL, header or body (they may carry patient ids). */
export type FhirFailure = 'timeout' | 'network' | 'redirect' | 'unauthorized' | 'status' | 'invalid-response' | 'token';

export class FhirFetchError extends Error {
  constructor(
    readonly kind: FhirFailure,
    readonly status?: number,
  ) {
    super(`FHIR request failed: ${kind}${status ? ` (${status})` : ''}`);
    this.name = 'FhirFetchError';
  }
}

/**
 * The one rule for a failed read of the EHR's FHIR server (docs/errors.md, "Upstream failures"):
 * a timeout, an unreachable server, 429 or a 5xx (from the server or its token endpoint) may pass
 * by itself, so the sender should retry (503); a refusal, a redirect, another status or a
 * response we cannot read will fail the same way again (502).
 */
export function isTransientFhirFailure(err: FhirFetchError): boolean {
  return err.kind === 'timeout' || err.kind === 'network' || (err.status !== undefined && (err.status === 429 || err.status >= 500));
}

export type FhirAuth =
  | { kind: 'bearer'; token: string }
  | { kind: 'client-credentials'; tokenUrl: string; clientId: string; clientSecret: string; scope?: string };

export interface FhirHttpOptions {
  baseUrl: string;
  auth: FhirAuth;
  /** Until the connection is up, and for the whole exchange (a notification must be answered in 2 s at athena). */
  connectTimeoutMs?: number;
  totalTimeoutMs?: number;
  now?: () => number;
}

const MAX_RESPONSE_BYTES = 1024 * 1024;
const ID = /^[A-Za-z0-9\-.]{1,64}$/;
const TYPE = /^[A-Z][A-Za-z]{1,63}$/;

interface Exchange {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  connectTimeoutMs: number;
  totalTimeoutMs: number;
}

const FAILURES: Record<PostFailure, FhirFailure> = {
  'connect-timeout': 'timeout',
  timeout: 'timeout',
  network: 'network',
  'too-large': 'invalid-response',
};

/** One request to the FHIR server (src/ehr/http-post.ts: no redirects followed, timeouts), failures in FHIR terms. */
async function fetchFhir(url: URL, o: Exchange): Promise<{ status: number; body: string }> {
  try {
    return await exchange(url, { ...o, maxResponseBytes: MAX_RESPONSE_BYTES, overflow: 'fail' });
  } catch (err) {
    throw err instanceof PostError ? new FhirFetchError(FAILURES[err.kind]) : err;
  }
}

export class FhirHttpReader implements FhirReader {
  private readonly base: string;
  private token: { value: string; until: number } | undefined;
  private readonly now: () => number;

  constructor(private readonly options: FhirHttpOptions) {
    this.base = options.baseUrl.replace(/\/+$/, '');
    this.now = options.now ?? Date.now;
  }

  owns(reference: string): boolean {
    return reference.startsWith(`${this.base}/`);
  }

  async read(type: string, id: string): Promise<Record<string, unknown> | null> {
    if (!TYPE.test(type) || !ID.test(id)) return null;
    return this.get(`${this.base}/${type}/${id}`, (json) => (json.resourceType === type ? json : null));
  }

  async searchByIdentifier(type: string, system: string | undefined, value: string): Promise<Record<string, unknown>[]> {
    if (!TYPE.test(type)) return [];
    const url = new URL(`${this.base}/${type}`);
    url.searchParams.set('identifier', system ? `${system}|${value}` : value);
    const bundle = await this.get(url.toString(), (json) => json);
    const entries = Array.isArray(bundle?.entry)
      ? (bundle.entry as { resource?: Record<string, unknown>; search?: { mode?: string } }[])
      : [];
    return entries
      .filter((e) => e.resource?.resourceType === type && (e.search?.mode ?? 'match') === 'match')
      .map((e) => e.resource as Record<string, unknown>);
  }

  private async get<T>(url: string, pick: (json: Record<string, unknown>) => T): Promise<T | null> {
    for (let attempt = 1; ; attempt += 1) {
      const token = await this.accessToken();
      const res = await fetchFhir(new URL(url), {
        method: 'GET',
        headers: { Accept: 'application/fhir+json', Authorization: `Bearer ${token}` },
        ...this.timeouts(),
      });
      // A cached client-credentials token may have been revoked: fetch a new one, once.
      if (res.status === 401 && this.options.auth.kind === 'client-credentials' && attempt === 1) {
        this.token = undefined;
        continue;
      }
      if (res.status === 404 || res.status === 410) return null;
      if (res.status >= 300 && res.status < 400) throw new FhirFetchError('redirect', res.status);
      if (res.status === 401 || res.status === 403) throw new FhirFetchError('unauthorized', res.status);
      if (res.status !== 200) throw new FhirFetchError('status', res.status);
      const json = parseObject(res.body);
      if (!json) throw new FhirFetchError('invalid-response', res.status);
      return pick(json);
    }
  }

  private timeouts() {
    return { connectTimeoutMs: this.options.connectTimeoutMs ?? 1000, totalTimeoutMs: this.options.totalTimeoutMs ?? 2500 };
  }

  /** The fixed token, or a client_credentials token (RFC 6749 §4.4, client_secret_basic) cached until shortly before it expires. */
  private async accessToken(): Promise<string> {
    const auth = this.options.auth;
    if (auth.kind === 'bearer') return auth.token;
    if (this.token && this.token.until > this.now()) return this.token.value;
    const form = new URLSearchParams({ grant_type: 'client_credentials', ...(auth.scope ? { scope: auth.scope } : {}) }).toString();
    const basic = Buffer.from(`${encodeURIComponent(auth.clientId)}:${encodeURIComponent(auth.clientSecret)}`).toString('base64');
    const res = await fetchFhir(new URL(auth.tokenUrl), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json', Authorization: `Basic ${basic}` },
      body: form,
      ...this.timeouts(),
    });
    if (res.status >= 300 && res.status < 400) throw new FhirFetchError('redirect', res.status);
    const json = res.status === 200 ? parseObject(res.body) : undefined;
    const value = json?.access_token;
    if (typeof value !== 'string' || value === '') throw new FhirFetchError('token', res.status);
    const seconds = typeof json?.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : 300;
    this.token = { value, until: this.now() + Math.max(0, seconds - 30) * 1000 };
    return value;
  }
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
