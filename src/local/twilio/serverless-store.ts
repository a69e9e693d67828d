import { TwilioApiError } from './contracts';
import type {
  ResourceKind,
  ServerlessBuild,
  ServerlessEnvironment,
  ServerlessDeployment,
  ServerlessResource,
  ServerlessService,
  ServerlessVariable,
  ServerlessVersion,
  Visibility,
} from './serverless-types';

/* What the local Serverless model (serverless.ts) keeps per Service, its field rules and errors, and the copies it hands out. */

export interface StoredService extends ServerlessService {
  environments: Map<string, ServerlessEnvironment>;
  resources: Map<string, ServerlessResource>;
  versions: Map<string, ServerlessVersion>;
  builds: Map<string, StoredBuild>;
  deployments: Map<string, ServerlessDeployment>;
  variables: Map<string, ServerlessVariable>;
}

/**
 * A build with how it will end, decided when it is made, and why it failed if it does (Twilio's
 * API does not say why; the stand-in keeps it for tests).
 */
export type StoredBuild = ServerlessBuild & { outcome: 'completed' | 'failed'; failure?: string };

/** Twilio's public limits on these fields (Serverless API reference). */
export const UNIQUE_NAME = /^[A-Za-z0-9-]{1,50}$/;
export const DOMAIN_SUFFIX = /^[a-z0-9-]{1,16}$/;
export const VARIABLE_KEY_MAX = 128;
export const VARIABLE_VALUE_MAX_BYTES = 450;
export const VISIBILITIES: readonly Visibility[] = ['public', 'protected', 'private'];

export function notFound(what: string, sid: string): TwilioApiError {
  return new TwilioApiError(404, 20404, `The requested resource ${what} ${sid} was not found`);
}

export function badRequest(message: string): TwilioApiError {
  return new TwilioApiError(400, 20001, message);
}

export function conflict(message: string): TwilioApiError {
  return new TwilioApiError(409, 20409, message);
}

export function checkVariable(key: string, value: string): void {
  if (key.length === 0 || key.length > VARIABLE_KEY_MAX) throw badRequest(`Key must be 1-${VARIABLE_KEY_MAX} characters`);
  if (Buffer.byteLength(value, 'utf8') > VARIABLE_VALUE_MAX_BYTES) {
    throw badRequest(`Value of ${key} is longer than ${VARIABLE_VALUE_MAX_BYTES} bytes`);
  }
}

export function serviceView(s: StoredService): ServerlessService {
  const { sid, accountSid, uniqueName, friendlyName, includeCredentials, uiEditable, domainBase, dateCreated, dateUpdated } = s;
  return { sid, accountSid, uniqueName, friendlyName, includeCredentials, uiEditable, domainBase, dateCreated, dateUpdated };
}

export function buildView(b: StoredBuild): ServerlessBuild {
  const { failure: _failure, outcome: _outcome, ...view } = b;
  return { ...view, functionVersions: [...view.functionVersions], assetVersions: [...view.assetVersions] };
}

export function environmentOf(service: StoredService, sid: string): ServerlessEnvironment {
  const e = service.environments.get(sid) ?? [...service.environments.values()].find((x) => x.uniqueName === sid);
  if (!e) throw notFound('Environment', sid);
  return e;
}

export function resourceOf(service: StoredService, kind: ResourceKind, sid: string): ServerlessResource {
  const r = service.resources.get(sid);
  if (!r || r.kind !== kind) throw notFound(kind === 'function' ? 'Function' : 'Asset', sid);
  return r;
}

export function buildOf(service: StoredService, sid: string): StoredBuild {
  const b = service.builds.get(sid);
  if (!b) throw notFound('Build', sid);
  return b;
}

export function variableOf(service: StoredService, environmentSid: string, sid: string): ServerlessVariable {
  const v = service.variables.get(sid);
  if (!v || v.environmentSid !== environmentOf(service, environmentSid).sid) throw notFound('Variable', sid);
  return v;
}
