import { randomInt } from 'node:crypto';
import { newSid } from './rest';
import type {
  BuildStatus,
  LocalServerlessOptions,
  ResourceKind,
  ServerlessBuild,
  ServerlessDeployment,
  ServerlessEnvironment,
  ServerlessResource,
  ServerlessService,
  ServerlessVariable,
  ServerlessVersion,
  Visibility,
} from './serverless-types';
import {
  badRequest,
  buildView,
  checkVariable,
  conflict,
  buildOf,
  environmentOf,
  resourceOf,
  variableOf,
  DOMAIN_SUFFIX,
  notFound,
  serviceView,
  type StoredBuild,
  type StoredService,
  UNIQUE_NAME,
  VISIBILITIES,
} from './serverless-store';

/**
 * The Serverless v1 resources the deploy uses (Services, Environments, Functions and Assets with
 * their Versions, Builds, Deployments, Variables), held in memory. The REST surface lives in
 * serverless-router.ts; tests read this model directly to see what a deploy left behind.
 */

export class LocalServerless {
  readonly accountSid: string;
  private readonly services = new Map<string, StoredService>();
  private readonly now: () => Date;
  private readonly buildMs: number;
  private failBuildsWith: string | undefined;
  private readonly defaultRuntime: string;

  constructor(options: LocalServerlessOptions) {
    this.accountSid = options.accountSid;
    const clock = options.clock ?? { now: () => Date.now() };
    this.now = () => new Date(clock.now());
    this.buildMs = options.buildMs ?? 1500;
    this.defaultRuntime = options.defaultRuntime ?? 'node22';
  }

  // Services -----------------------------------------------------------------------------------

  createService(input: {
    uniqueName: string;
    friendlyName: string;
    includeCredentials?: boolean;
    uiEditable?: boolean;
  }): ServerlessService {
    if (!UNIQUE_NAME.test(input.uniqueName)) {
      throw badRequest('UniqueName must be 1-50 letters, digits or hyphens (it becomes part of the domain)');
    }
    if (input.friendlyName.length === 0 || input.friendlyName.length > 255) throw badRequest('FriendlyName must be 1-255 characters');
    if (this.listServices().some((s) => s.uniqueName === input.uniqueName)) {
      throw conflict(`Service with UniqueName ${input.uniqueName} already exists`);
    }
    const at = this.now();
    const service: StoredService = {
      sid: newSid('ZS'),
      accountSid: this.accountSid,
      uniqueName: input.uniqueName,
      friendlyName: input.friendlyName,
      includeCredentials: input.includeCredentials ?? true,
      uiEditable: input.uiEditable ?? false,
      domainBase: `${input.uniqueName.toLowerCase()}-${String(randomInt(1000, 10000))}`,
      dateCreated: at,
      dateUpdated: at,
      environments: new Map(),
      resources: new Map(),
      versions: new Map(),
      builds: new Map(),
      deployments: new Map(),
      variables: new Map(),
    };
    this.services.set(service.sid, service);
    return serviceView(service);
  }

  listServices(): ServerlessService[] {
    return [...this.services.values()].map(serviceView);
  }

  /** Twilio accepts a Service's unique name wherever its SID goes in a URL. */
  getService(sidOrName: string): ServerlessService {
    return serviceView(this.service(sidOrName));
  }

  deleteService(sidOrName: string): void {
    this.services.delete(this.service(sidOrName).sid);
  }

  // Environments -------------------------------------------------------------------------------

  createEnvironment(serviceSid: string, input: { uniqueName: string; domainSuffix?: string }): ServerlessEnvironment {
    const service = this.service(serviceSid);
    if (input.uniqueName.length === 0 || input.uniqueName.length > 100) throw badRequest('UniqueName must be 1-100 characters');
    const suffix = input.domainSuffix === undefined || input.domainSuffix === '' ? null : input.domainSuffix;
    if (suffix !== null && !DOMAIN_SUFFIX.test(suffix)) throw badRequest('DomainSuffix must be 1-16 lowercase letters, digits or hyphens');
    const clash = [...service.environments.values()].some((e) => e.uniqueName === input.uniqueName || e.domainSuffix === suffix);
    if (clash) throw conflict('Environment with this UniqueName or DomainSuffix already exists.');
    const at = this.now();
    const env: ServerlessEnvironment = {
      sid: newSid('ZE'),
      serviceSid: service.sid,
      uniqueName: input.uniqueName,
      domainSuffix: suffix,
      domainName: `${service.domainBase}${suffix ? `-${suffix}` : ''}.twil.io`,
      buildSid: null,
      dateCreated: at,
      dateUpdated: at,
    };
    service.environments.set(env.sid, env);
    return { ...env };
  }

  listEnvironments(serviceSid: string): ServerlessEnvironment[] {
    return [...this.service(serviceSid).environments.values()].map((e) => ({ ...e }));
  }

  getEnvironment(serviceSid: string, sid: string): ServerlessEnvironment {
    return { ...environmentOf(this.service(serviceSid), sid) };
  }

  deleteEnvironment(serviceSid: string, sid: string): void {
    const service = this.service(serviceSid);
    environmentOf(service, sid);
    service.environments.delete(sid);
    for (const [k, v] of service.variables) if (v.environmentSid === sid) service.variables.delete(k);
  }

  // Functions and Assets -----------------------------------------------------------------------

  createResource(serviceSid: string, kind: ResourceKind, friendlyName: string): ServerlessResource {
    const service = this.service(serviceSid);
    if (friendlyName.length === 0 || friendlyName.length > 255) throw badRequest('FriendlyName must be 1-255 characters');
    const at = this.now();
    const resource: ServerlessResource = {
      sid: newSid('ZH'),
      serviceSid: service.sid,
      kind,
      friendlyName,
      dateCreated: at,
      dateUpdated: at,
    };
    service.resources.set(resource.sid, resource);
    return { ...resource };
  }

  listResources(serviceSid: string, kind: ResourceKind): ServerlessResource[] {
    return [...this.service(serviceSid).resources.values()].filter((r) => r.kind === kind).map((r) => ({ ...r }));
  }

  getResource(serviceSid: string, kind: ResourceKind, sid: string): ServerlessResource {
    return { ...resourceOf(this.service(serviceSid), kind, sid) };
  }

  deleteResource(serviceSid: string, kind: ResourceKind, sid: string): void {
    const service = this.service(serviceSid);
    resourceOf(service, kind, sid);
    service.resources.delete(sid);
  }

  createVersion(
    serviceSid: string,
    kind: ResourceKind,
    resourceSid: string,
    input: { path: string; visibility: string; content: Buffer; contentType: string },
  ): ServerlessVersion {
    const service = this.service(serviceSid);
    resourceOf(service, kind, resourceSid);
    if (!input.path.startsWith('/') || input.path.length > 255) throw badRequest('Path must start with / and be at most 255 characters');
    if (!VISIBILITIES.includes(input.visibility as Visibility)) throw badRequest('Visibility must be public, protected or private');
    const version: ServerlessVersion = {
      sid: newSid('ZN'),
      serviceSid: service.sid,
      resourceSid,
      kind,
      path: input.path,
      visibility: input.visibility as Visibility,
      content: input.content,
      contentType: input.contentType,
      dateCreated: this.now(),
    };
    service.versions.set(version.sid, version);
    return { ...version };
  }

  listVersions(serviceSid: string, kind: ResourceKind, resourceSid: string): ServerlessVersion[] {
    const service = this.service(serviceSid);
    resourceOf(service, kind, resourceSid);
    return [...service.versions.values()].filter((v) => v.resourceSid === resourceSid).map((v) => ({ ...v }));
  }

  getVersion(serviceSid: string, kind: ResourceKind, resourceSid: string, sid: string): ServerlessVersion {
    const v = this.service(serviceSid).versions.get(sid);
    if (!v || v.resourceSid !== resourceSid || v.kind !== kind)
      throw notFound(`${kind === 'function' ? 'Function' : 'Asset'} Version`, sid);
    return { ...v };
  }

  // Builds and Deployments ---------------------------------------------------------------------

  createBuild(
    serviceSid: string,
    input: { functionVersions: string[]; assetVersions: string[]; dependencies: { name: string; version: string }[]; runtime?: string },
  ): ServerlessBuild {
    const service = this.service(serviceSid);
    const check = (sids: string[], kind: ResourceKind) => {
      for (const sid of sids) {
        if (service.versions.get(sid)?.kind !== kind)
          throw badRequest(`${kind === 'function' ? 'FunctionVersions' : 'AssetVersions'}: ${sid} is not a version of this Service`);
      }
    };
    check(input.functionVersions, 'function');
    check(input.assetVersions, 'asset');
    // Twilio answers every path from one version; two versions on one path make the build fail.
    const paths = [...input.functionVersions, ...input.assetVersions].map((sid) => service.versions.get(sid)?.path);
    const duplicated = paths.find((p, i) => paths.indexOf(p) !== i);
    const at = this.now();
    const build: StoredBuild = {
      sid: newSid('ZB'),
      serviceSid: service.sid,
      functionVersions: [...input.functionVersions],
      assetVersions: [...input.assetVersions],
      dependencies: input.dependencies.map((d) => ({ ...d })),
      runtime: input.runtime ?? this.defaultRuntime,
      status: 'building',
      dateCreated: at,
      dateUpdated: at,
      outcome: 'completed',
    };
    const failure = duplicated !== undefined ? `two versions are on the path ${String(duplicated)}` : this.failBuildsWith;
    if (failure !== undefined) Object.assign(build, { outcome: 'failed', failure });
    service.builds.set(build.sid, build);
    return buildView(this.advance(build));
  }

  /** A build's status now: `building` until buildMs after its creation, then how it ends. */
  readBuildStatus(serviceSid: string, sid: string): BuildStatus {
    return this.advance(buildOf(this.service(serviceSid), sid)).status;
  }

  /** Why a build failed, as far as the stand-in knows (for tests; Twilio's API has no such field). */
  buildFailure(serviceSid: string, sid: string): string | undefined {
    return buildOf(this.service(serviceSid), sid).failure;
  }

  /** Builds made from now on fail for this reason (undefined: they build again); for tests of failure reports. */
  failBuilds(reason: string | undefined): void {
    this.failBuildsWith = reason;
  }

  /** Computed on every look, so the status depends on time only, not on how often it is read. */
  private advance(build: StoredBuild): StoredBuild {
    const doneAt = build.dateCreated.getTime() + this.buildMs;
    if (build.status === 'building' && this.now().getTime() >= doneAt) {
      build.status = build.outcome;
      build.dateUpdated = new Date(doneAt);
    }
    return build;
  }

  getBuild(serviceSid: string, sid: string): ServerlessBuild {
    return buildView(this.advance(buildOf(this.service(serviceSid), sid)));
  }

  listBuilds(serviceSid: string): ServerlessBuild[] {
    return [...this.service(serviceSid).builds.values()].map((b) => buildView(this.advance(b)));
  }

  /** Without a build SID (Twilio allows that) the environment is left serving nothing. */
  createDeployment(serviceSid: string, environmentSid: string, buildSid?: string): ServerlessDeployment {
    const service = this.service(serviceSid);
    const env = environmentOf(service, environmentSid);
    if (buildSid !== undefined) {
      const build = this.advance(buildOf(service, buildSid));
      if (build.status !== 'completed') throw badRequest(`Build ${buildSid} is ${build.status}; only a completed build can be deployed`);
    }
    const deployment: ServerlessDeployment = {
      sid: newSid('ZD'),
      serviceSid: service.sid,
      environmentSid,
      buildSid: buildSid ?? null,
      dateCreated: this.now(),
    };
    service.deployments.set(deployment.sid, deployment);
    env.buildSid = buildSid ?? null;
    env.dateUpdated = deployment.dateCreated;
    return { ...deployment };
  }

  listDeployments(serviceSid: string, environmentSid: string): ServerlessDeployment[] {
    const service = this.service(serviceSid);
    environmentOf(service, environmentSid);
    return [...service.deployments.values()].filter((d) => d.environmentSid === environmentSid).map((d) => ({ ...d }));
  }

  // Variables ----------------------------------------------------------------------------------

  createVariable(serviceSid: string, environmentSid: string, key: string, value: string): ServerlessVariable {
    const service = this.service(serviceSid);
    environmentOf(service, environmentSid);
    checkVariable(key, value);
    if ([...service.variables.values()].some((v) => v.environmentSid === environmentSid && v.key === key)) {
      throw conflict(`Variable with Key ${key} already exists in this Environment`);
    }
    const at = this.now();
    const variable: ServerlessVariable = {
      sid: newSid('ZV'),
      serviceSid: service.sid,
      environmentSid,
      key,
      value,
      dateCreated: at,
      dateUpdated: at,
    };
    service.variables.set(variable.sid, variable);
    return { ...variable };
  }

  listVariables(serviceSid: string, environmentSid: string): ServerlessVariable[] {
    const service = this.service(serviceSid);
    environmentOf(service, environmentSid);
    return [...service.variables.values()].filter((v) => v.environmentSid === environmentSid).map((v) => ({ ...v }));
  }

  getVariable(serviceSid: string, environmentSid: string, sid: string): ServerlessVariable {
    return { ...variableOf(this.service(serviceSid), environmentSid, sid) };
  }

  updateVariable(serviceSid: string, environmentSid: string, sid: string, input: { key?: string; value?: string }): ServerlessVariable {
    const service = this.service(serviceSid);
    const variable = variableOf(service, environmentSid, sid);
    const key = input.key ?? variable.key;
    const value = input.value ?? variable.value;
    checkVariable(key, value);
    if (key !== variable.key && [...service.variables.values()].some((v) => v.environmentSid === environmentSid && v.key === key)) {
      throw conflict(`Variable with Key ${key} already exists in this Environment`);
    }
    Object.assign(variable, { key, value, dateUpdated: this.now() });
    return { ...variable };
  }

  deleteVariable(serviceSid: string, environmentSid: string, sid: string): void {
    const service = this.service(serviceSid);
    variableOf(service, environmentSid, sid);
    service.variables.delete(sid);
  }

  // For tests and the local page ---------------------------------------------------------------

  /** What an environment serves: the versions of its active build, with their paths. */
  deployedVersions(serviceSid: string, environmentSid: string): ServerlessVersion[] {
    const service = this.service(serviceSid);
    const env = environmentOf(service, environmentSid);
    if (!env.buildSid) return [];
    const build = buildOf(service, env.buildSid);
    return [...build.functionVersions, ...build.assetVersions].flatMap((sid) => {
      const v = service.versions.get(sid);
      return v ? [{ ...v }] : [];
    });
  }

  // Lookups ------------------------------------------------------------------------------------

  private service(sidOrName: string): StoredService {
    const s = this.services.get(sidOrName) ?? [...this.services.values()].find((x) => x.uniqueName === sidOrName);
    if (!s) throw notFound('Service', sidOrName);
    return s;
  }
}
