import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fsHelpers } from '@twilio-labs/serverless-api';
import type { ServiceInstance as MessagingServiceInstance } from 'twilio/lib/rest/messaging/v1/service';
import type { BuildInstance } from 'twilio/lib/rest/serverless/v1/service/build';
import type { EnvironmentInstance } from 'twilio/lib/rest/serverless/v1/service/environment';
import { createTwilioClient, type TwilioClient, type WithNullable } from '../../../src/twilio/client';
import { canonical, canvasEdits, deployCommitMessage, isDeployCommit } from './flow-edits';
import { ActionableError } from './report';
import { createServerlessClient } from './serverless-client';
import { FLOW_NAME, SERVICE_NAME } from './settings';
import type { FlowInfo, TwilioInventory, FunctionsDeployment, Outcome, FlowEdits, TwilioTarget, TwilioCredentials } from './twilio-types';

export type {
  ServiceInfo,
  EnvironmentInfo,
  BuildInfo,
  FlowInfo,
  NumberInfo,
  TwilioInventory,
  FunctionsDeployment,
  Outcome,
  FlowEdits,
  TwilioTarget,
  TwilioCredentials,
} from './twilio-types';

/**
 * The Twilio half of the operator commands. Functions and assets go up with
 * `@twilio-labs/serverless-api` (what `twilio serverless:deploy` uses); everything else with the
 * `twilio` SDK. Both reach the local stand-in when `apiBaseUrl` is set.
 */

/** The environment without a domain suffix (Twilio calls it `production`): the live service. */
const ENVIRONMENT_SUFFIX = '';

function isNotFound(err: unknown): boolean {
  return (err as { status?: number }).status === 404;
}

export class TwilioDeployTarget implements TwilioTarget {
  private readonly sdk: TwilioClient;

  constructor(private readonly credentials: TwilioCredentials) {
    this.sdk = createTwilioClient({
      accountSid: credentials.accountSid,
      apiKeySid: credentials.apiKeySid,
      apiKeySecret: credentials.apiKeySecret,
      ...(credentials.apiBaseUrl ? { apiBaseUrl: credentials.apiBaseUrl } : {}),
    });
  }

  async inspect(query: { phoneNumber?: string; verifyServiceSid?: string; verifyServiceName: string }): Promise<TwilioInventory> {
    const inventory: TwilioInventory = { variables: {}, flows: [] };
    const services = await this.sdk.serverless.v1.services.list();
    const service = services.find((s) => s.uniqueName === SERVICE_NAME);
    if (service) {
      inventory.service = { sid: service.sid, uniqueName: service.uniqueName };
      const environments: WithNullable<EnvironmentInstance, 'domainSuffix' | 'buildSid'>[] = await this.sdk.serverless.v1
        .services(service.sid)
        .environments.list();
      const env = environments.find((e) => (e.domainSuffix ?? '') === ENVIRONMENT_SUFFIX);
      if (env) {
        inventory.environment = { sid: env.sid, uniqueName: env.uniqueName, domainName: env.domainName, buildSid: env.buildSid ?? null };
        const variables = await this.sdk.serverless.v1.services(service.sid).environments(env.sid).variables.list();
        inventory.variables = Object.fromEntries(variables.map((v) => [v.key, v.value]));
        if (env.buildSid) {
          const b: WithNullable<BuildInstance, 'functionVersions' | 'assetVersions'> = await this.sdk.serverless.v1
            .services(service.sid)
            .builds(env.buildSid)
            .fetch();
          const fns = (b.functionVersions ?? []) as { path?: string; function_sid?: string }[];
          const assets = (b.assetVersions ?? []) as { path?: string }[];
          inventory.build = {
            sid: b.sid,
            status: b.status,
            functions: fns.map((f) => ({ path: f.path ?? '', sid: f.function_sid ?? '' })),
            assets: assets.map((a) => a.path ?? ''),
          };
        }
      }
    }
    const flows = await this.sdk.studio.v2.flows.list();
    inventory.flows = flows
      .filter((f) => f.friendlyName === FLOW_NAME)
      .map((f) => ({ sid: f.sid, revision: f.revision, status: f.status, valid: f.valid, webhookUrl: f.webhookUrl }));
    if (query.phoneNumber) {
      const numbers = await this.sdk.incomingPhoneNumbers.list({ phoneNumber: query.phoneNumber, limit: 20 });
      const n = numbers.find((x) => x.phoneNumber === query.phoneNumber);
      if (n) inventory.number = { sid: n.sid, phoneNumber: n.phoneNumber, smsUrl: n.smsUrl };
    }
    if (query.verifyServiceSid) {
      try {
        const v = await this.sdk.verify.v2.services(query.verifyServiceSid).fetch();
        inventory.verifyService = { sid: v.sid, friendlyName: v.friendlyName };
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    } else {
      const v = (await this.sdk.verify.v2.services.list()).find((s) => s.friendlyName === query.verifyServiceName);
      if (v) inventory.verifyService = { sid: v.sid, friendlyName: v.friendlyName };
    }
    return inventory;
  }

  async deployFunctions(input: {
    serviceSid?: string;
    serviceDir: string;
    env: Record<string, string>;
    onProgress: (line: string) => void;
  }): Promise<FunctionsDeployment> {
    const client = createServerlessClient({
      username: this.credentials.apiKeySid,
      password: this.credentials.apiKeySecret,
      ...(this.credentials.apiBaseUrl ? { apiBaseUrl: this.credentials.apiBaseUrl } : {}),
    });
    client.on('status-update', (u: { message: string }) => input.onProgress(u.message));
    const dir = path.resolve(input.serviceDir);
    const { functions, assets } = await fsHelpers.getListOfFunctionsAndAssets(dir, {
      functionsFolderNames: ['functions'],
      assetsFolderNames: ['assets'],
    });
    const pkgJson = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    const result = await client
      .deployProject({
        username: this.credentials.apiKeySid,
        password: this.credentials.apiKeySecret,
        ...(input.serviceSid ? { serviceSid: input.serviceSid } : {}),
        serviceName: SERVICE_NAME,
        functionsEnv: ENVIRONMENT_SUFFIX,
        env: input.env,
        pkgJson,
        functions,
        assets,
        // A service created by a previous, interrupted run is reused instead of refused.
        overrideExistingService: true,
        uiEditable: false,
      })
      .catch(async (err: unknown) => {
        // serverless-api rejects with the bare status string when Twilio reports the build failed.
        if (err === 'failed') throw await this.failedBuild(input.serviceSid);
        throw err;
      });
    return {
      serviceSid: result.serviceSid,
      environmentSid: result.environmentSid,
      buildSid: result.buildSid,
      domain: result.domain,
      functionSids: Object.fromEntries(result.functionResources.map((f) => [f.path.replace(/^\//, ''), f.sid])),
      functionPaths: result.functionResources.map((f) => f.path).sort(),
      assetPaths: result.assetResources.map((a) => a.path).sort(),
    };
  }

  /** The newest failed build of the service, described for the operator; a plain error when it cannot be found. */
  private async failedBuild(serviceSid: string | undefined): Promise<Error> {
    try {
      // Twilio takes a Service's unique name wherever its SID goes, so a first deploy can look it up too.
      const service = this.sdk.serverless.v1.services(serviceSid ?? SERVICE_NAME);
      const builds: WithNullable<BuildInstance, 'functionVersions' | 'assetVersions' | 'dependencies'>[] = await service.builds.list({
        limit: 50,
      });
      const failed = builds.filter((b) => b.status === 'failed').sort((a, b) => b.dateCreated.getTime() - a.dateCreated.getTime())[0];
      if (failed) {
        return describeFailedBuild({
          sid: failed.sid,
          serviceSid: failed.serviceSid,
          runtime: String(failed.runtime),
          functionVersions: (failed.functionVersions ?? []) as { path?: string }[],
          assetVersions: (failed.assetVersions ?? []) as { path?: string }[],
          dependencies: (failed.dependencies ?? []) as { name?: string; version?: string }[],
        });
      }
    } catch {
      // Fall through: the failure itself matters more than why the lookup did not work.
    }
    return new ActionableError(
      'Twilio reported the build of the Functions as failed (the failed build could not be found to say more)',
      'open the service in the Twilio Console (Functions and Assets → Services), read the build log, fix the cause and run `npm run deploy` again',
    );
  }

  async setVariables(
    serviceSid: string,
    environmentSid: string,
    env: Record<string, string>,
  ): Promise<{ changed: string[]; removed: string[] }> {
    const variables = this.sdk.serverless.v1.services(serviceSid).environments(environmentSid).variables;
    const existing = await variables.list();
    const changed: string[] = [];
    for (const [key, value] of Object.entries(env)) {
      const current = existing.find((v) => v.key === key);
      if (!current) await variables.create({ key, value });
      else if (current.value !== value) await variables(current.sid).update({ value });
      else continue;
      changed.push(key);
    }
    // The service belongs to this deployment: a variable no longer in the configuration goes.
    const removed = existing.filter((v) => !(v.key in env));
    for (const v of removed) await variables(v.sid).remove();
    return { changed, removed: removed.map((v) => v.key) };
  }

  async validateFlow(definition: Record<string, unknown>): Promise<void> {
    await this.sdk.studio.v2.flowValidate.update({ friendlyName: FLOW_NAME, status: 'published', definition });
  }

  async flowEdits(sid: string, incoming: Record<string, unknown>): Promise<FlowEdits> {
    const flow = this.sdk.studio.v2.flows(sid);
    const current = await flow.fetch();
    const found = { revision: current.revision, status: current.status };
    if (isDeployCommit(current.commitMessage)) return { ...found, deployedRevision: current.revision, changes: [] };
    // Walked back one fetch at a time: the SDK's revisions.list() cannot build its items (it throws on
    // the revision number it was never given), and canvas revisions since a deploy are usually few.
    let ours: { revision: number; definition: unknown } | undefined;
    for (let n = current.revision - 1; n >= 1 && !ours; n -= 1) {
      const r = await flow
        .revisions(String(n))
        .fetch()
        .catch((err: unknown) => {
          if (isNotFound(err)) return undefined;
          throw err;
        });
      if (r && isDeployCommit(r.commitMessage)) ours = { revision: r.revision, definition: r.definition };
    }
    // No baseline to compare with: every widget the deploy would change counts as the clinic's.
    const deployed = ours?.definition ?? { states: [] };
    return { ...found, deployedRevision: ours?.revision, changes: canvasEdits(deployed, current.definition, incoming) };
  }

  async saveFlow(
    existingSid: string | undefined,
    definition: Record<string, unknown>,
    replacing?: number,
  ): Promise<FlowInfo & { outcome: Outcome }> {
    const commitMessage = deployCommitMessage(replacing);
    let outcome: Outcome;
    let flow;
    if (!existingSid) {
      flow = await this.sdk.studio.v2.flows.create({
        friendlyName: FLOW_NAME,
        status: 'published',
        definition,
        commitMessage,
      });
      outcome = 'created';
    } else {
      const current = await this.sdk.studio.v2.flows(existingSid).fetch();
      // An unchanged, published flow is left alone: every save would add a revision.
      if (current.status === 'published' && canonical(current.definition) === canonical(definition)) {
        flow = current;
        outcome = 'unchanged';
      } else {
        flow = await this.sdk.studio.v2.flows(existingSid).update({ status: 'published', definition, commitMessage });
        outcome = 'updated';
      }
    }
    if (!flow.valid) throw new Error(`Studio saved the flow ${flow.sid} but reports it invalid: ${JSON.stringify(flow.errors)}`);
    return { sid: flow.sid, revision: flow.revision, status: flow.status, valid: flow.valid, webhookUrl: flow.webhookUrl, outcome };
  }

  async pointNumber(numberSid: string, smsUrl: string): Promise<Outcome> {
    const n = await this.sdk.incomingPhoneNumbers(numberSid).fetch();
    if (n.smsUrl === smsUrl && n.smsMethod === 'POST') return 'unchanged';
    await this.sdk.incomingPhoneNumbers(numberSid).update({ smsUrl, smsMethod: 'POST' });
    return 'updated';
  }

  async fetchMessagingService(sid: string): Promise<{ sid: string; statusCallback: string } | undefined> {
    try {
      const m: WithNullable<MessagingServiceInstance, 'statusCallback'> = await this.sdk.messaging.v1.services(sid).fetch();
      return { sid: m.sid, statusCallback: m.statusCallback ?? '' };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async pointStatusCallback(serviceSid: string, url: string): Promise<Outcome> {
    const m = await this.sdk.messaging.v1.services(serviceSid).fetch();
    if (m.statusCallback === url && m.useInboundWebhookOnNumber) return 'unchanged';
    await this.sdk.messaging.v1.services(serviceSid).update({ statusCallback: url, useInboundWebhookOnNumber: true });
    return 'updated';
  }

  async ensureVerifyService(friendlyName: string): Promise<{ sid: string; outcome: Outcome }> {
    const existing = (await this.sdk.verify.v2.services.list()).find((s) => s.friendlyName === friendlyName);
    if (existing) return { sid: existing.sid, outcome: 'unchanged' };
    const created = await this.sdk.verify.v2.services.create({ friendlyName });
    return { sid: created.sid, outcome: 'created' };
  }

  async deleteService(sid: string): Promise<void> {
    await this.sdk.serverless.v1.services(sid).remove();
  }

  async deleteFlow(sid: string): Promise<void> {
    await this.sdk.studio.v2.flows(sid).remove();
  }

  async deleteVerifyService(sid: string): Promise<void> {
    await this.sdk.verify.v2.services(sid).remove();
  }
}

export interface FailedBuild {
  sid: string;
  serviceSid: string;
  runtime: string;
  functionVersions: { path?: string }[];
  assetVersions: { path?: string }[];
  dependencies: { name?: string; version?: string }[];
}

/**
 * What the operator needs when Twilio fails a build: which build, what was in it, and why, as far
 * as can be told. Twilio's Build resource has a status but no reason (the Serverless API offers no
 * build log), so only a cause visible in the build itself is named; otherwise the Console's log.
 */
export function describeFailedBuild(b: FailedBuild): ActionableError {
  const paths = [...b.functionVersions, ...b.assetVersions].map((v) => v.path ?? '');
  const duplicated = [...new Set(paths.filter((p, i) => paths.indexOf(p) !== i))];
  const dependencies = b.dependencies.map((d) => `${d.name ?? '?'}@${d.version ?? '?'}`).join(', ') || 'none';
  const contents = `${b.functionVersions.length} functions, ${b.assetVersions.length} assets, runtime ${b.runtime}, dependencies ${dependencies}`;
  if (duplicated.length > 0) {
    return new ActionableError(
      `Twilio's build ${b.sid} of service ${b.serviceSid} failed: more than one file is deployed on ${duplicated.join(', ')} (${contents})`,
      'give each function and asset its own path (a function and an asset with the same name clash), then run `npm run deploy` again',
    );
  }
  return new ActionableError(
    `Twilio's build ${b.sid} of service ${b.serviceSid} failed; Twilio's API does not say why (${contents})`,
    `open service ${b.serviceSid} in the Twilio Console (Functions and Assets → Services) and read the build log of ${b.sid}; the usual causes are a dependency in build/service/package.json that npm cannot install and a runtime Twilio no longer offers. Fix it and run \`npm run deploy\` again`,
  );
}
