import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SandboxFhir, type SandboxFhirOptions } from './fhir';

export type EhrOutcome = 'delivered' | 'failed-by-config' | 'rejected-signature';

/** One request the app sent to the sandbox EHR, with what the sandbox answered. */
export interface EhrRequest {
  id: number;
  method: string;
  path: string;
  /** Header names lower-case; credentials are redacted to their scheme. */
  headers: Record<string, string>;
  body: string;
  json: unknown;
  jsonError: string | null;
  receivedAt: Date;
  idempotencyKey: string | null;
  /** An earlier delivered request carried the same Idempotency-Key. */
  duplicate: boolean;
  /** null when the sandbox has no secret to check against. */
  signatureValid: boolean | null;
  outcome: EhrOutcome;
  responseStatus: number;
}

export interface EhrBehaviour {
  /** The next N requests fail with `status`. */
  failNext: number;
  status: number;
  /** Every response waits this long (ms) while set, to exercise client timeouts. */
  delayMs: number;
}

export interface EhrSandboxOptions {
  /** Shared secret: `X-Signature: sha256=<hex HMAC-SHA256 of the raw body>` is checked when set. */
  secret?: string;
  /** Answer 401 to a missing or wrong signature (otherwise it is only recorded). */
  requireValidSignature?: boolean;
  clock?: { now(): number };
  /** The sandbox's FHIR server (`/fhir`): its access token and OAuth2 clients. */
  fhir?: SandboxFhirOptions;
}

export interface EhrIncoming {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const REDACTED = new Set(['authorization', 'proxy-authorization', 'cookie']);

function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(', ') : value;
    out[name] = REDACTED.has(name) ? `${text.split(' ')[0] ?? ''} [redacted]`.trim() : text;
  }
  return out;
}

/** The sandbox EHR integration endpoint: records every request and fails on demand. */
export class EhrSandbox {
  private readonly log: EhrRequest[] = [];
  private current: EhrBehaviour = { failNext: 0, status: 503, delayMs: 0 };
  private nextId = 1;
  /** The FHIR R4 server the app reads id-only notifications' resources from. */
  readonly fhir: SandboxFhir;

  constructor(private readonly options: EhrSandboxOptions = {}) {
    this.fhir = new SandboxFhir({ ...options.fhir, ...(options.clock ? { clock: options.clock } : {}) });
  }

  behaviour(): EhrBehaviour {
    return { ...this.current };
  }

  /** Replaces the behaviour as a whole: omitted fields go back to their defaults. */
  setBehaviour(b: Partial<EhrBehaviour>): EhrBehaviour {
    this.current = { failNext: b.failNext ?? 0, status: b.status ?? 503, delayMs: b.delayMs ?? 0 };
    return this.behaviour();
  }

  requests(): EhrRequest[] {
    return this.log.map((r) => ({ ...r, headers: { ...r.headers } }));
  }

  clear(): void {
    this.log.length = 0;
  }

  /** Records a request and decides the answer; the caller waits `delayMs` before sending it. */
  handle(incoming: EhrIncoming): { request: EhrRequest; delayMs: number } {
    const body = incoming.body.toString('utf8');
    let json: unknown = null;
    let jsonError: string | null = null;
    if (body.length > 0) {
      try {
        json = JSON.parse(body);
      } catch (err) {
        jsonError = err instanceof Error ? err.message : String(err);
      }
    }
    const key = incoming.headers['idempotency-key'];
    const idempotencyKey = (Array.isArray(key) ? key[0] : key) ?? null;
    const signatureValid = this.options.secret ? this.verify(incoming.body, incoming.headers['x-signature']) : null;

    let outcome: EhrOutcome = 'delivered';
    let responseStatus = 200;
    if (this.options.requireValidSignature && signatureValid === false) {
      outcome = 'rejected-signature';
      responseStatus = 401;
    } else if (this.current.failNext > 0) {
      this.current.failNext -= 1;
      outcome = 'failed-by-config';
      responseStatus = this.current.status;
    }
    const duplicate = idempotencyKey !== null && this.log.some((r) => r.idempotencyKey === idempotencyKey && r.outcome === 'delivered');
    const request: EhrRequest = {
      id: this.nextId++,
      method: incoming.method,
      path: incoming.path,
      headers: flatHeaders(incoming.headers),
      body,
      json,
      jsonError,
      receivedAt: new Date(this.options.clock?.now() ?? Date.now()),
      idempotencyKey,
      duplicate,
      signatureValid,
      outcome,
      responseStatus,
    };
    this.log.push(request);
    return { request: { ...request }, delayMs: this.current.delayMs };
  }

  private verify(raw: Buffer, header: string | string[] | undefined): boolean {
    const value = Array.isArray(header) ? header[0] : header;
    const m = /^sha256=([0-9a-f]{64})$/i.exec(value?.trim() ?? '');
    if (!m || !this.options.secret) return false;
    const expected = createHmac('sha256', this.options.secret).update(raw).digest();
    return timingSafeEqual(expected, Buffer.from(m[1] ?? '', 'hex'));
  }
}

/** The `X-Signature` value for a body, as the app computes it. */
export function signEhrBody(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
