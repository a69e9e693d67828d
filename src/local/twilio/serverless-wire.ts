import type express from 'express';
import type { Request, Response, Router } from 'express';
import { TwilioApiError } from './contracts';
import { formString, iso, sendTwilioError } from './rest';
import type {
  ResourceKind,
  ServerlessBuild,
  ServerlessDeployment,
  ServerlessEnvironment,
  ServerlessResource,
  ServerlessService,
  ServerlessVariable,
  ServerlessVersion,
} from './serverless-types';

/* Serverless v1 on the wire: resources as Twilio's REST API answers them (snake_case JSON,
 * absolute URLs), and the request fields and pages the routers read and write. */

export const BASE = 'https://serverless.twilio.com/v1';
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

export const serviceUrl = (s: string) => `${BASE}/Services/${s}`;
export const collection = (kind: ResourceKind) => (kind === 'function' ? 'Functions' : 'Assets');

export function serviceJson(s: ServerlessService) {
  const url = serviceUrl(s.sid);
  return {
    sid: s.sid,
    account_sid: s.accountSid,
    friendly_name: s.friendlyName,
    unique_name: s.uniqueName,
    include_credentials: s.includeCredentials,
    ui_editable: s.uiEditable,
    domain_base: s.domainBase,
    date_created: iso(s.dateCreated),
    date_updated: iso(s.dateUpdated),
    url,
    links: { functions: `${url}/Functions`, assets: `${url}/Assets`, environments: `${url}/Environments`, builds: `${url}/Builds` },
  };
}

export function environmentJson(accountSid: string, e: ServerlessEnvironment) {
  const url = `${serviceUrl(e.serviceSid)}/Environments/${e.sid}`;
  return {
    sid: e.sid,
    account_sid: accountSid,
    service_sid: e.serviceSid,
    build_sid: e.buildSid,
    unique_name: e.uniqueName,
    domain_suffix: e.domainSuffix,
    domain_name: e.domainName,
    date_created: iso(e.dateCreated),
    date_updated: iso(e.dateUpdated),
    url,
    links: { variables: `${url}/Variables`, deployments: `${url}/Deployments`, logs: `${url}/Logs` },
  };
}

export function resourceJson(accountSid: string, r: ServerlessResource) {
  const url = `${serviceUrl(r.serviceSid)}/${collection(r.kind)}/${r.sid}`;
  return {
    sid: r.sid,
    account_sid: accountSid,
    service_sid: r.serviceSid,
    friendly_name: r.friendlyName,
    date_created: iso(r.dateCreated),
    date_updated: iso(r.dateUpdated),
    url,
    links: r.kind === 'function' ? { function_versions: `${url}/Versions` } : { asset_versions: `${url}/Versions` },
  };
}

export function versionJson(accountSid: string, v: ServerlessVersion) {
  const url = `${serviceUrl(v.serviceSid)}/${collection(v.kind)}/${v.resourceSid}/Versions/${v.sid}`;
  return {
    sid: v.sid,
    account_sid: accountSid,
    service_sid: v.serviceSid,
    ...(v.kind === 'function' ? { function_sid: v.resourceSid } : { asset_sid: v.resourceSid }),
    path: v.path,
    visibility: v.visibility,
    date_created: iso(v.dateCreated),
    url,
    ...(v.kind === 'function' ? { links: { function_version_content: `${url}/Content` } } : {}),
  };
}

export function buildJson(accountSid: string, b: ServerlessBuild, version: (sid: string) => ServerlessVersion | undefined) {
  const url = `${serviceUrl(b.serviceSid)}/Builds/${b.sid}`;
  const versions = (sids: string[]) =>
    sids.flatMap((sid) => {
      const v = version(sid);
      if (!v) return [];
      const { url: _url, links: _links, ...rest } = versionJson(accountSid, v);
      return [rest];
    });
  return {
    sid: b.sid,
    account_sid: accountSid,
    service_sid: b.serviceSid,
    status: b.status,
    asset_versions: versions(b.assetVersions),
    function_versions: versions(b.functionVersions),
    dependencies: b.dependencies,
    runtime: b.runtime,
    date_created: iso(b.dateCreated),
    date_updated: iso(b.dateUpdated),
    url,
    links: { build_status: `${url}/Status` },
  };
}

export function deploymentJson(accountSid: string, d: ServerlessDeployment) {
  return {
    sid: d.sid,
    account_sid: accountSid,
    service_sid: d.serviceSid,
    environment_sid: d.environmentSid,
    build_sid: d.buildSid,
    date_created: iso(d.dateCreated),
    date_updated: iso(d.dateCreated),
    url: `${serviceUrl(d.serviceSid)}/Environments/${d.environmentSid}/Deployments/${d.sid}`,
  };
}

export function variableJson(accountSid: string, v: ServerlessVariable) {
  return {
    sid: v.sid,
    account_sid: accountSid,
    service_sid: v.serviceSid,
    environment_sid: v.environmentSid,
    key: v.key,
    value: v.value,
    date_created: iso(v.dateCreated),
    date_updated: iso(v.dateUpdated),
    url: `${serviceUrl(v.serviceSid)}/Environments/${v.environmentSid}/Variables/${v.sid}`,
  };
}

export function param(req: Request, name: string): string {
  const v = req.params[name];
  if (v === undefined) throw new TwilioApiError(400, 20001, `missing path segment ${name}`);
  return v;
}

export function bool(req: Request, key: string): boolean | undefined {
  const v = formString(req, key);
  return v === undefined ? undefined : v.toLowerCase() === 'true';
}

/** Repeated form keys (`FunctionVersions=ZN1&FunctionVersions=ZN2`) as a list. */
export function formList(req: Request, key: string): string[] {
  const v = (req.body as Record<string, unknown> | undefined)?.[key];
  const list = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return list.filter((x): x is string => typeof x === 'string' && x !== '');
}

/**
 * `Dependencies` is a JSON array of `{name, version}`; serverless-api wraps it in an extra pair of
 * double quotes, which Twilio tolerates, so the stand-in does too.
 */
export function dependencies(req: Request): { name: string; version: string }[] {
  const raw = formString(req, 'Dependencies');
  if (raw === undefined || raw === '') return [];
  const text = raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new TwilioApiError(400, 20001, 'Dependencies is not a JSON array');
  }
  if (!Array.isArray(parsed)) throw new TwilioApiError(400, 20001, 'Dependencies is not a JSON array');
  return parsed.map((d: unknown) => {
    const o = (d ?? {}) as { name?: unknown; version?: unknown };
    if (typeof o.name !== 'string' || typeof o.version !== 'string') {
      throw new TwilioApiError(400, 20001, 'each dependency needs a string name and version');
    }
    return { name: o.name, version: o.version };
  });
}

/** One page in the v1 envelope: `{ <key>: [...], meta: { key, page, page_size, next_page_url, … } }`. */
export function page<T>(req: Request, items: T[], path: string, key: string) {
  const q = (name: string) => (typeof req.query[name] === 'string' ? req.query[name] : undefined);
  const size = Number(q('PageSize') ?? DEFAULT_PAGE_SIZE);
  const pageNo = Number(q('Page') ?? 0);
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE)
    throw new TwilioApiError(400, 20001, `PageSize must be 1-${MAX_PAGE_SIZE}`);
  if (!Number.isInteger(pageNo) || pageNo < 0) throw new TwilioApiError(400, 20001, 'Page must be a non-negative integer');
  const url = (p: number) => `${BASE}${path}?PageSize=${size}&Page=${p}`;
  const start = pageNo * size;
  return {
    [key]: items.slice(start, start + size),
    meta: {
      first_page_url: url(0),
      key,
      next_page_url: start + size < items.length ? url(pageNo + 1) : null,
      page: pageNo,
      page_size: size,
      previous_page_url: pageNo > 0 ? url(pageNo - 1) : null,
      url: url(pageNo),
    },
  };
}

export function errors(r: Router): void {
  r.use((req: Request, _res: Response, next: express.NextFunction) =>
    next(new TwilioApiError(404, 20404, `The requested resource ${req.path} was not found`)),
  );
  r.use((err: unknown, _req: Request, res: Response, next: express.NextFunction) => {
    if (err instanceof TwilioApiError) sendTwilioError(res, err);
    else next(err);
  });
}
