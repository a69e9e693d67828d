import express, { type Request, type Response, type Router } from 'express';
import { TwilioApiError } from './contracts';
import {
  formBody,
  formString,
  iso,
  missingParameter,
  requireForm,
  route,
  sendTwilioError,
  twilioAuth,
  type StandInCredentials,
} from './rest';
import type {
  LocalServerless,
  ResourceKind,
  ServerlessBuild,
  ServerlessDeployment,
  ServerlessEnvironment,
  ServerlessResource,
  ServerlessService,
  ServerlessVariable,
  ServerlessVersion,
} from './serverless';

/**
 * Serverless v1 as `@twilio-labs/serverless-api` and twilio-node call it. Two routers, as Twilio has
 * two hosts: `serverless.twilio.com` for everything and `serverless-upload.twilio.com` for the
 * multipart uploads of Function and Asset versions. Mount them under the `serverless` and
 * `serverless-upload` product prefixes.
 */

const BASE = 'https://serverless.twilio.com/v1';
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1000;

const serviceUrl = (s: string) => `${BASE}/Services/${s}`;
const collection = (kind: ResourceKind) => (kind === 'function' ? 'Functions' : 'Assets');

function serviceJson(s: ServerlessService) {
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

function environmentJson(accountSid: string, e: ServerlessEnvironment) {
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

function resourceJson(accountSid: string, r: ServerlessResource) {
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

function versionJson(accountSid: string, v: ServerlessVersion) {
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

function buildJson(accountSid: string, b: ServerlessBuild, version: (sid: string) => ServerlessVersion | undefined) {
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

function deploymentJson(accountSid: string, d: ServerlessDeployment) {
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

function variableJson(accountSid: string, v: ServerlessVariable) {
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

function param(req: Request, name: string): string {
  const v = req.params[name];
  if (v === undefined) throw new TwilioApiError(400, 20001, `missing path segment ${name}`);
  return v;
}

function bool(req: Request, key: string): boolean | undefined {
  const v = formString(req, key);
  return v === undefined ? undefined : v.toLowerCase() === 'true';
}

/** Repeated form keys (`FunctionVersions=ZN1&FunctionVersions=ZN2`) as a list. */
function formList(req: Request, key: string): string[] {
  const v = (req.body as Record<string, unknown> | undefined)?.[key];
  const list = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return list.filter((x): x is string => typeof x === 'string' && x !== '');
}

/**
 * `Dependencies` is a JSON array of `{name, version}`; serverless-api wraps it in an extra pair of
 * double quotes, which Twilio tolerates, so the stand-in does too.
 */
function dependencies(req: Request): { name: string; version: string }[] {
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
function page<T>(req: Request, items: T[], path: string, key: string) {
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

function errors(r: Router): void {
  r.use((req: Request, _res: Response, next: express.NextFunction) =>
    next(new TwilioApiError(404, 20404, `The requested resource ${req.path} was not found`)),
  );
  r.use((err: unknown, _req: Request, res: Response, next: express.NextFunction) => {
    if (err instanceof TwilioApiError) sendTwilioError(res, err);
    else next(err);
  });
}

export function createServerlessRouter(model: LocalServerless, credentials: () => StandInCredentials): Router {
  const r = express.Router();
  const ac = model.accountSid;
  r.use(twilioAuth(credentials));
  r.use(formBody);
  const svc = '/v1/Services/:service';
  const env = `${svc}/Environments/:environment`;

  r.post(
    '/v1/Services',
    route((req, res) => {
      const created = model.createService({
        uniqueName: requireForm(req, 'UniqueName'),
        friendlyName: requireForm(req, 'FriendlyName'),
        ...(bool(req, 'IncludeCredentials') !== undefined ? { includeCredentials: bool(req, 'IncludeCredentials') } : {}),
        ...(bool(req, 'UiEditable') !== undefined ? { uiEditable: bool(req, 'UiEditable') } : {}),
      });
      res.status(201).json(serviceJson(created));
    }),
  );
  r.get(
    '/v1/Services',
    route((req, res) => {
      res.json(page(req, model.listServices().map(serviceJson), '/Services', 'services'));
    }),
  );
  r.get(
    svc,
    route((req, res) => {
      res.json(serviceJson(model.getService(param(req, 'service'))));
    }),
  );
  r.delete(
    svc,
    route((req, res) => {
      model.deleteService(param(req, 'service'));
      res.status(204).end();
    }),
  );

  r.post(
    `${svc}/Environments`,
    route((req, res) => {
      const suffix = formString(req, 'DomainSuffix');
      const created = model.createEnvironment(param(req, 'service'), {
        uniqueName: requireForm(req, 'UniqueName'),
        ...(suffix !== undefined ? { domainSuffix: suffix } : {}),
      });
      res.status(201).json(environmentJson(ac, created));
    }),
  );
  r.get(
    `${svc}/Environments`,
    route((req, res) => {
      const service = model.getService(param(req, 'service'));
      const items = model.listEnvironments(service.sid).map((e) => environmentJson(ac, e));
      res.json(page(req, items, `/Services/${service.sid}/Environments`, 'environments'));
    }),
  );
  r.get(
    env,
    route((req, res) => {
      res.json(environmentJson(ac, model.getEnvironment(param(req, 'service'), param(req, 'environment'))));
    }),
  );
  r.delete(
    env,
    route((req, res) => {
      model.deleteEnvironment(param(req, 'service'), param(req, 'environment'));
      res.status(204).end();
    }),
  );

  for (const kind of ['function', 'asset'] as const) {
    const list = `${svc}/${collection(kind)}`;
    const one = `${list}/:resource`;
    r.post(
      list,
      route((req, res) => {
        res.status(201).json(resourceJson(ac, model.createResource(param(req, 'service'), kind, requireForm(req, 'FriendlyName'))));
      }),
    );
    r.get(
      list,
      route((req, res) => {
        const service = model.getService(param(req, 'service'));
        const items = model.listResources(service.sid, kind).map((x) => resourceJson(ac, x));
        res.json(page(req, items, `/Services/${service.sid}/${collection(kind)}`, kind === 'function' ? 'functions' : 'assets'));
      }),
    );
    r.get(
      one,
      route((req, res) => {
        res.json(resourceJson(ac, model.getResource(param(req, 'service'), kind, param(req, 'resource'))));
      }),
    );
    r.delete(
      one,
      route((req, res) => {
        model.deleteResource(param(req, 'service'), kind, param(req, 'resource'));
        res.status(204).end();
      }),
    );
    r.get(
      `${one}/Versions`,
      route((req, res) => {
        const service = model.getService(param(req, 'service'));
        const resource = param(req, 'resource');
        const items = model.listVersions(service.sid, kind, resource).map((v) => versionJson(ac, v));
        res.json(
          page(
            req,
            items,
            `/Services/${service.sid}/${collection(kind)}/${resource}/Versions`,
            kind === 'function' ? 'function_versions' : 'asset_versions',
          ),
        );
      }),
    );
    r.get(
      `${one}/Versions/:version`,
      route((req, res) => {
        res.json(versionJson(ac, model.getVersion(param(req, 'service'), kind, param(req, 'resource'), param(req, 'version'))));
      }),
    );
  }
  r.get(
    `${svc}/Functions/:resource/Versions/:version/Content`,
    route((req, res) => {
      const v = model.getVersion(param(req, 'service'), 'function', param(req, 'resource'), param(req, 'version'));
      res.json({
        sid: v.sid,
        account_sid: ac,
        service_sid: v.serviceSid,
        function_sid: v.resourceSid,
        content: v.content.toString('utf8'),
        url: `${serviceUrl(v.serviceSid)}/Functions/${v.resourceSid}/Versions/${v.sid}/Content`,
      });
    }),
  );

  const versionOf = (serviceSid: string) => {
    const all = new Map<string, ServerlessVersion>();
    for (const kind of ['function', 'asset'] as const) {
      for (const res of model.listResources(serviceSid, kind))
        for (const v of model.listVersions(serviceSid, kind, res.sid)) all.set(v.sid, v);
    }
    return (sid: string) => all.get(sid);
  };
  r.post(
    `${svc}/Builds`,
    route((req, res) => {
      const service = model.getService(param(req, 'service'));
      const runtime = formString(req, 'Runtime');
      const build = model.createBuild(service.sid, {
        functionVersions: formList(req, 'FunctionVersions'),
        assetVersions: formList(req, 'AssetVersions'),
        dependencies: dependencies(req),
        ...(runtime ? { runtime } : {}),
      });
      res.status(201).json(buildJson(ac, build, versionOf(service.sid)));
    }),
  );
  r.get(
    `${svc}/Builds`,
    route((req, res) => {
      const service = model.getService(param(req, 'service'));
      const lookup = versionOf(service.sid);
      res.json(
        page(
          req,
          model.listBuilds(service.sid).map((b) => buildJson(ac, b, lookup)),
          `/Services/${service.sid}/Builds`,
          'builds',
        ),
      );
    }),
  );
  r.get(
    `${svc}/Builds/:build`,
    route((req, res) => {
      const service = model.getService(param(req, 'service'));
      res.json(buildJson(ac, model.getBuild(service.sid, param(req, 'build')), versionOf(service.sid)));
    }),
  );
  r.get(
    `${svc}/Builds/:build/Status`,
    route((req, res) => {
      const service = model.getService(param(req, 'service'));
      const sid = param(req, 'build');
      const status = model.readBuildStatus(service.sid, sid);
      res.json({ sid, account_sid: ac, service_sid: service.sid, status, url: `${serviceUrl(service.sid)}/Builds/${sid}/Status` });
    }),
  );

  r.post(
    `${env}/Deployments`,
    route((req, res) => {
      const service = model.getService(param(req, 'service'));
      const environment = model.getEnvironment(service.sid, param(req, 'environment'));
      // BuildSid is optional at Twilio: a deployment without one leaves the environment serving nothing.
      const buildSid = formString(req, 'BuildSid');
      res
        .status(201)
        .json(deploymentJson(ac, model.createDeployment(service.sid, environment.sid, buildSid === '' ? undefined : buildSid)));
    }),
  );
  r.get(
    `${env}/Deployments`,
    route((req, res) => {
      const service = model.getService(param(req, 'service'));
      const environment = model.getEnvironment(service.sid, param(req, 'environment'));
      const items = model.listDeployments(service.sid, environment.sid).map((d) => deploymentJson(ac, d));
      res.json(page(req, items, `/Services/${service.sid}/Environments/${environment.sid}/Deployments`, 'deployments'));
    }),
  );

  r.post(
    `${env}/Variables`,
    route((req, res) => {
      const service = model.getService(param(req, 'service'));
      const environment = model.getEnvironment(service.sid, param(req, 'environment'));
      const key = requireForm(req, 'Key');
      // Value is required, but may be empty: an empty setting is still a setting.
      const value = formString(req, 'Value');
      if (value === undefined) throw missingParameter('Value');
      const created = model.createVariable(service.sid, environment.sid, key, value);
      res.status(201).json(variableJson(ac, created));
    }),
  );
  r.get(
    `${env}/Variables`,
    route((req, res) => {
      const service = model.getService(param(req, 'service'));
      const environment = model.getEnvironment(service.sid, param(req, 'environment'));
      const items = model.listVariables(service.sid, environment.sid).map((v) => variableJson(ac, v));
      res.json(page(req, items, `/Services/${service.sid}/Environments/${environment.sid}/Variables`, 'variables'));
    }),
  );
  r.get(
    `${env}/Variables/:variable`,
    route((req, res) => {
      res.json(variableJson(ac, model.getVariable(param(req, 'service'), param(req, 'environment'), param(req, 'variable'))));
    }),
  );
  r.post(
    `${env}/Variables/:variable`,
    route((req, res) => {
      const key = formString(req, 'Key');
      const value = formString(req, 'Value');
      const updated = model.updateVariable(param(req, 'service'), param(req, 'environment'), param(req, 'variable'), {
        ...(key !== undefined ? { key } : {}),
        ...(value !== undefined ? { value } : {}),
      });
      res.json(variableJson(ac, updated));
    }),
  );
  r.delete(
    `${env}/Variables/:variable`,
    route((req, res) => {
      model.deleteVariable(param(req, 'service'), param(req, 'environment'), param(req, 'variable'));
      res.status(204).end();
    }),
  );

  errors(r);
  return r;
}

/** Function and Asset version uploads: multipart form data with `Path`, `Visibility` and the `Content` file. */
export function createServerlessUploadRouter(model: LocalServerless, credentials: () => StandInCredentials): Router {
  const r = express.Router();
  const ac = model.accountSid;
  r.use(twilioAuth(credentials));
  r.use(express.raw({ type: 'multipart/form-data', limit: '25mb' }));

  for (const kind of ['function', 'asset'] as const) {
    r.post(
      `/v1/Services/:service/${collection(kind)}/:resource/Versions`,
      route(async (req, res) => {
        const type = req.headers['content-type'] ?? '';
        if (!type.startsWith('multipart/form-data') || !Buffer.isBuffer(req.body)) {
          throw new TwilioApiError(400, 20001, 'Upload the version as multipart/form-data with Path, Visibility and Content');
        }
        // The platform's own multipart parser (undici), so no parser of ours decides what a part is.
        const form = await new Response(req.body, { headers: { 'content-type': type } }).formData();
        const text = (name: string) => {
          const v = form.get(name);
          if (typeof v !== 'string' || v === '') throw missingParameter(name);
          return v;
        };
        const content = form.get('Content');
        if (content === null || typeof content === 'string') throw missingParameter('Content');
        const service = model.getService(param(req, 'service'));
        const version = model.createVersion(service.sid, kind, param(req, 'resource'), {
          path: text('Path'),
          visibility: text('Visibility'),
          content: Buffer.from(await content.arrayBuffer()),
          contentType: content.type || 'application/octet-stream',
        });
        res.status(201).json(versionJson(ac, version));
      }),
    );
  }

  errors(r);
  return r;
}
