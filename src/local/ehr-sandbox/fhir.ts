import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';

/**
 * The sandbox EHR's FHIR R4 server: holds resources (Appointment, Patient, Practitioner,
 * Location…) and serves them by id and Appointments by identifier, to a bearer token — the fixed
 * one, or one it issued for a client's credentials (OAuth2 client_credentials). What the FHIR
 * intake fetches for id-only notifications, locally.
 */
export interface SandboxFhirOptions {
  /** A fixed access token (what FHIR_BEARER_TOKEN is set to). */
  token?: string;
  /** Clients that may obtain tokens at `POST /fhir/auth/token` (FHIR_CLIENT_ID / FHIR_CLIENT_SECRET). */
  clients?: { id: string; secret: string }[];
  /** How long issued tokens live, in seconds. */
  tokenSeconds?: number;
  clock?: { now(): number };
}

export interface FhirRead {
  method: string;
  path: string;
  status: number;
  /** Which credential the request presented: the fixed token, an issued one, or none that is valid. */
  auth: 'fixed' | 'issued' | 'invalid' | 'none';
}

type Resource = Record<string, unknown> & { resourceType: string; id: string };

const TYPE = /^[A-Z][A-Za-z]{1,63}$/;
const ID = /^[A-Za-z0-9\-.]{1,64}$/;

function same(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y) && a === b;
}

function outcome(code: string, diagnostics: string) {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] };
}

export class SandboxFhir {
  private readonly resources = new Map<string, Resource>();
  private readonly issued = new Map<string, number>();
  private readonly log: FhirRead[] = [];

  constructor(private readonly options: SandboxFhirOptions = {}) {}

  /** Stores (or replaces) a resource; it needs a resourceType and an id. */
  put(resource: object): void {
    const r = resource as Partial<Resource>;
    if (typeof r.resourceType !== 'string' || !TYPE.test(r.resourceType) || typeof r.id !== 'string' || !ID.test(r.id)) {
      throw new Error('a sandbox FHIR resource needs a resourceType and an id');
    }
    this.resources.set(`${r.resourceType}/${r.id}`, structuredClone(r as Resource));
  }

  get(type: string, id: string): Resource | undefined {
    const r = this.resources.get(`${type}/${id}`);
    return r ? structuredClone(r) : undefined;
  }

  remove(type: string, id: string): void {
    this.resources.delete(`${type}/${id}`);
  }

  clear(): void {
    this.resources.clear();
    this.log.length = 0;
  }

  /** The requests served, oldest first (no tokens, no bodies). */
  reads(): FhirRead[] {
    return this.log.map((r) => ({ ...r }));
  }

  private now(): number {
    return this.options.clock?.now() ?? Date.now();
  }

  private authOf(req: Request): FhirRead['auth'] {
    const m = /^Bearer +(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!m?.[1]) return 'none';
    if (this.options.token && same(m[1], this.options.token)) return 'fixed';
    const until = this.issued.get(m[1]);
    return until !== undefined && until > this.now() ? 'issued' : 'invalid';
  }

  /** POST /fhir/auth/token: client_credentials with client_secret_basic or form credentials (RFC 6749 §2.3.1, §4.4). */
  private token(req: Request, res: Response): void {
    const form = (req.body ?? {}) as Record<string, string | undefined>;
    let id = form.client_id;
    let secret = form.client_secret;
    const basic = /^Basic +(\S+)$/i.exec(req.headers.authorization ?? '');
    if (basic?.[1]) {
      const [u, p] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
      id = decodeURIComponent(u ?? '');
      secret = decodeURIComponent(p ?? '');
    }
    if (form.grant_type !== 'client_credentials') {
      res.status(400).json({ error: 'unsupported_grant_type' });
      return;
    }
    const client = (this.options.clients ?? []).find((c) => c.id === id && same(c.secret, secret ?? ''));
    if (!client) {
      res.status(401).json({ error: 'invalid_client' });
      return;
    }
    const seconds = this.options.tokenSeconds ?? 3600;
    const token = randomBytes(24).toString('base64url');
    this.issued.set(token, this.now() + seconds * 1000);
    res.json({ access_token: token, token_type: 'Bearer', expires_in: seconds });
  }

  router(): Router {
    const router = express.Router();
    router.post('/auth/token', express.urlencoded({ extended: false, limit: '16kb' }), (req, res) => this.token(req, res));
    router.use((req, res, next) => {
      const auth = this.authOf(req);
      if (auth === 'fixed' || auth === 'issued') {
        res.locals.auth = auth;
        next();
        return;
      }
      this.log.push({ method: req.method, path: req.path, status: 401, auth });
      res
        .status(401)
        .set('WWW-Authenticate', 'Bearer realm="sandbox-fhir"')
        .type('application/fhir+json')
        .send(outcome('security', 'send a valid bearer token'));
    });
    const served = (req: Request, res: Response, status: number, body: unknown) => {
      this.log.push({ method: req.method, path: req.path, status, auth: res.locals.auth as FhirRead['auth'] });
      res.status(status).type('application/fhir+json').send(JSON.stringify(body));
    };
    router.get('/:type/:id', (req, res) => {
      const { type, id } = req.params;
      const found = TYPE.test(type) && ID.test(id) ? this.get(type, id) : undefined;
      if (found) served(req, res, 200, found);
      else served(req, res, 404, outcome('not-found', `${type}/${id} is not on this server`));
    });
    router.get('/:type', (req, res) => {
      const { type } = req.params;
      const wanted = typeof req.query.identifier === 'string' ? req.query.identifier : undefined;
      if (!wanted) {
        served(req, res, 400, outcome('not-supported', 'this server searches by identifier only'));
        return;
      }
      const [system, value] = wanted.includes('|') ? wanted.split('|', 2) : [undefined, wanted];
      const matches = [...this.resources.values()].filter(
        (r) =>
          r.resourceType === type &&
          ((r.identifier ?? []) as { system?: string; value?: string }[]).some(
            (i) => i.value === value && (!system || i.system === system),
          ),
      );
      served(req, res, 200, {
        resourceType: 'Bundle',
        type: 'searchset',
        total: matches.length,
        entry: matches.map((resource) => ({ resource, search: { mode: 'match' } })),
      });
    });
    router.put('/:type/:id', express.json({ limit: '256kb', type: ['application/json', 'application/fhir+json'] }), (req, res) => {
      const { type, id } = req.params;
      const body = (req.body ?? {}) as Record<string, unknown>;
      if (body.resourceType !== type || body.id !== id) {
        served(req, res, 400, outcome('invalid', 'the body must be a resource whose resourceType and id match the URL'));
        return;
      }
      this.put(body);
      served(req, res, 200, body);
    });
    return router;
  }
}
