import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TwilioServerlessApiClient } from '@twilio-labs/serverless-api';
import { createServerlessClient, redirectTwilioUrl } from '../../scripts/lib/deploy/serverless-client';
import { LocalClock } from '../../src/local/clock';
import { LocalServerless } from '../../src/local/twilio/serverless';
import { createTwilioClient, type TwilioClient } from '../../src/twilio/client';
import { startTestStack } from '../support/local-stack';
import { FIXTURE_NOW } from '../fixtures/time';
import { startTwilioStandIn, ACCOUNT_SID, API_KEY_SECRET, API_KEY_SID, AUTH_TOKEN, type TwilioStandIn } from '../deploy/support';

let standIn: TwilioStandIn;
let sdk: TwilioClient;
let labs: TwilioServerlessApiClient;

beforeAll(async () => {
  standIn = await startTwilioStandIn({ buildMs: 0 });
  sdk = createTwilioClient({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, apiBaseUrl: standIn.apiBaseUrl });
  labs = createServerlessClient({ username: API_KEY_SID, password: API_KEY_SECRET, apiBaseUrl: standIn.apiBaseUrl });
});

afterAll(() => standIn.close());

const auth = { username: API_KEY_SID, password: API_KEY_SECRET };
const js = (body: string) => Buffer.from(`exports.handler = (context, event, callback) => callback(null, ${body});\n`);

describe('the redirect of @twilio-labs/serverless-api', () => {
  it('maps both Twilio hosts to product prefixes of the stand-in', () => {
    expect(redirectTwilioUrl('https://serverless.twilio.com/v1', 'http://127.0.0.1:9/__twilio')).toBe(
      'http://127.0.0.1:9/__twilio/serverless/v1',
    );
    expect(redirectTwilioUrl('https://serverless-upload.twilio.com/v1/Services/ZS1/Functions', 'http://h/__twilio/')).toBe(
      'http://h/__twilio/serverless-upload/v1/Services/ZS1/Functions',
    );
    expect(redirectTwilioUrl('https://serverless.twilio.com/v1/Services?PageSize=50&Page=1', 'http://h')).toBe(
      'http://h/serverless/v1/Services?PageSize=50&Page=1',
    );
  });

  it('leaves the client untouched when no base URL is given (production)', () => {
    const production = createServerlessClient({ username: API_KEY_SID, password: API_KEY_SECRET });
    expect(production.request).toBe(TwilioServerlessApiClient.prototype.request);
  });
});

describe('Serverless v1 on the stand-in, driven by the real clients', () => {
  it('deploys a project end to end: service, environment, uploads, build, variables, deployment', async () => {
    const result = await labs.deployProject({
      ...auth,
      serviceName: 'stand-in-demo',
      functionsEnv: 'dev',
      env: { GREETING: 'hello, "world"' },
      pkgJson: { dependencies: { twilio: '6.2.0', luxon: '^3.7.0' } },
      functions: [
        { name: 'hello', path: '/hello', access: 'public', content: js('"hi"') },
        { name: 'secret', path: '/inner/secret', access: 'private', content: js('"psst"') },
      ],
      assets: [{ name: 'style.css', path: '/style.css', access: 'protected', content: Buffer.from('body{}') }],
    });
    expect(result.domain).toMatch(/^stand-in-demo-\d{4}-dev\.twil\.io$/);
    const deployed = standIn.serverless.deployedVersions(result.serviceSid, result.environmentSid);
    expect(deployed.map((v) => [v.kind, v.path, v.visibility, v.content.toString()])).toEqual([
      ['function', '/hello', 'public', js('"hi"').toString()],
      ['function', '/inner/secret', 'private', js('"psst"').toString()],
      ['asset', '/style.css', 'protected', 'body{}'],
    ]);
    expect(standIn.serverless.getBuild(result.serviceSid, result.buildSid).dependencies).toEqual([
      { name: 'twilio', version: '6.2.0' },
      { name: 'luxon', version: '^3.7.0' },
    ]);
    const vars = await labs.getEnvironmentVariables({
      ...auth,
      serviceSid: result.serviceSid,
      environment: 'dev',
      keys: [],
      getValues: true,
    });
    expect(vars.variables).toEqual([{ key: 'GREETING', value: 'hello, "world"' }]);
  });

  it('is readable with twilio-node: the service by unique name, its environment and the build', async () => {
    const service = await sdk.serverless.v1.services('stand-in-demo').fetch();
    expect(service.uniqueName).toBe('stand-in-demo');
    const [env] = await sdk.serverless.v1.services(service.sid).environments.list();
    expect(env).toMatchObject({ uniqueName: 'dev-environment', domainSuffix: 'dev' });
    const build = await sdk.serverless.v1.services(service.sid).builds(env!.buildSid).fetch();
    expect(build.status).toBe('completed');
    expect(build.functionVersions.map((v: { path: string }) => v.path)).toEqual(['/hello', '/inner/secret']);
  });

  it('follows next_page_url through the redirect (lists longer than a page)', async () => {
    const service = await sdk.serverless.v1.services('stand-in-demo').fetch();
    const [env] = await sdk.serverless.v1.services(service.sid).environments.list();
    const many = Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`VAR_${String(i).padStart(3, '0')}`, String(i)]));
    await labs.setEnvironmentVariables({ ...auth, serviceSid: service.sid, environment: env!.sid, env: many, append: false });
    const listed = await labs.getEnvironmentVariables({
      ...auth,
      serviceSid: service.sid,
      environment: env!.sid,
      keys: [],
      getValues: true,
    });
    expect(listed.variables).toHaveLength(120);
    expect(standIn.requests.filter((r) => r.endsWith('/Variables') && r.startsWith('GET')).length).toBeGreaterThanOrEqual(3);
  });

  it('refuses a second service with the same unique name (409), as Twilio does', async () => {
    await expect(sdk.serverless.v1.services.create({ uniqueName: 'stand-in-demo', friendlyName: 'again' })).rejects.toMatchObject({
      status: 409,
    });
  });

  it('refuses a build with a version of another service, and a deployment of a build that is not completed', async () => {
    const a = await sdk.serverless.v1.services.create({ uniqueName: 'svc-a', friendlyName: 'a' });
    const b = await sdk.serverless.v1.services.create({ uniqueName: 'svc-b', friendlyName: 'b' });
    const fn = await sdk.serverless.v1.services(a.sid).functions.create({ friendlyName: 'f' });
    const version = standIn.serverless.createVersion(a.sid, 'function', fn.sid, {
      path: '/f',
      visibility: 'public',
      content: js('1'),
      contentType: 'application/javascript',
    });
    await expect(sdk.serverless.v1.services(b.sid).builds.create({ functionVersions: [version.sid] })).rejects.toMatchObject({
      status: 400,
    });
    const clock = new LocalClock({ startAt: FIXTURE_NOW });
    const slow = new LocalServerless({ accountSid: ACCOUNT_SID, clock, buildMs: 5_000 });
    const s = slow.createService({ uniqueName: 'slow', friendlyName: 'slow' });
    const e = slow.createEnvironment(s.sid, { uniqueName: 'production' });
    const build = slow.createBuild(s.sid, { functionVersions: [], assetVersions: [], dependencies: [] });
    expect(() => slow.createDeployment(s.sid, e.sid, build.sid)).toThrow(/building; only a completed build/);
    expect(slow.readBuildStatus(s.sid, build.sid)).toBe('building');
    clock.advance(4_000);
    expect(slow.readBuildStatus(s.sid, build.sid)).toBe('building');
    clock.advance(1_000);
    expect(slow.readBuildStatus(s.sid, build.sid)).toBe('completed');
  });

  it('moves a build along with time, not with reads: however often the status is read, it is building until the build time has passed', async () => {
    const clock = new LocalClock({ startAt: FIXTURE_NOW });
    const model = new LocalServerless({ accountSid: ACCOUNT_SID, clock, buildMs: 60_000 });
    const s = model.createService({ uniqueName: 'reads', friendlyName: 'reads' });
    const build = model.createBuild(s.sid, { functionVersions: [], assetVersions: [], dependencies: [] });
    const reads = Array.from({ length: 20 }, () => model.readBuildStatus(s.sid, build.sid));
    expect(new Set(reads)).toEqual(new Set(['building']));
    clock.advance(60_000);
    expect(model.getBuild(s.sid, build.sid)).toMatchObject({
      status: 'completed',
      dateUpdated: new Date(build.dateCreated.getTime() + 60_000),
    });
  });

  it('ends a build that cannot succeed as failed, after the same build time', () => {
    const clock = new LocalClock({ startAt: FIXTURE_NOW });
    const model = new LocalServerless({ accountSid: ACCOUNT_SID, clock, buildMs: 1_000 });
    const s = model.createService({ uniqueName: 'dup', friendlyName: 'dup' });
    const fn = model.createResource(s.sid, 'function', 'f');
    const asset = model.createResource(s.sid, 'asset', 'a');
    const v1 = model.createVersion(s.sid, 'function', fn.sid, {
      path: '/same',
      visibility: 'public',
      content: js('1'),
      contentType: 'application/javascript',
    });
    const v2 = model.createVersion(s.sid, 'asset', asset.sid, {
      path: '/same',
      visibility: 'public',
      content: Buffer.from('x'),
      contentType: 'text/plain',
    });
    const build = model.createBuild(s.sid, { functionVersions: [v1.sid], assetVersions: [v2.sid], dependencies: [] });
    expect(model.readBuildStatus(s.sid, build.sid)).toBe('building');
    clock.advance(1_000);
    expect(model.readBuildStatus(s.sid, build.sid)).toBe('failed');
    expect(model.buildFailure(s.sid, build.sid)).toBe('two versions are on the path /same');
  });

  it('deploys without a build when no BuildSid is given (Twilio allows it): the environment then serves nothing', async () => {
    const service = await sdk.serverless.v1.services.create({ uniqueName: 'unbuilt', friendlyName: 'unbuilt' });
    const env = await sdk.serverless.v1.services(service.sid).environments.create({ uniqueName: 'production' });
    const deployment = await sdk.serverless.v1.services(service.sid).environments(env.sid).deployments.create({});
    expect(deployment.buildSid).toBeNull();
    expect(standIn.serverless.getEnvironment(service.sid, env.sid).buildSid).toBeNull();
  });

  it("enforces Twilio's variable limits: 450-byte values, one key per environment", async () => {
    const service = await sdk.serverless.v1.services.create({ uniqueName: 'limits', friendlyName: 'limits' });
    const env = await sdk.serverless.v1.services(service.sid).environments.create({ uniqueName: 'production' });
    const vars = sdk.serverless.v1.services(service.sid).environments(env.sid).variables;
    await expect(vars.create({ key: 'BIG', value: 'x'.repeat(451) })).rejects.toMatchObject({ status: 400 });
    await vars.create({ key: 'ONE', value: '1' });
    await expect(vars.create({ key: 'ONE', value: '2' })).rejects.toMatchObject({ status: 409 });
    expect(env.domainName).toMatch(/^limits-\d{4}\.twil\.io$/);
  });

  it('asks for credentials on both hosts', async () => {
    const anonymous = await fetch(`${standIn.apiBaseUrl}/serverless/v1/Services`);
    expect(anonymous.status).toBe(401);
    const upload = await fetch(`${standIn.apiBaseUrl}/serverless-upload/v1/Services/ZS0/Functions/ZH0/Versions`, { method: 'POST' });
    expect(upload.status).toBe(401);
  });

  it('refuses an upload that is not multipart form data', async () => {
    const service = await sdk.serverless.v1.services('svc-a').fetch();
    const [fn] = await sdk.serverless.v1.services(service.sid).functions.list();
    const res = await fetch(`${standIn.apiBaseUrl}/serverless-upload/v1/Services/${service.sid}/Functions/${fn!.sid}/Versions`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${API_KEY_SID}:${API_KEY_SECRET}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: '{}',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 20001 });
  });
});

describe('npm start', () => {
  it('serves the Serverless stand-in next to the other Twilio APIs', async () => {
    const t = await startTestStack();
    try {
      const env = t.stack.env;
      const local = createTwilioClient({
        accountSid: env.ACCOUNT_SID ?? '',
        authToken: env.AUTH_TOKEN ?? '',
        apiBaseUrl: env.TWILIO_API_BASE_URL ?? '',
      });
      const created = await local.serverless.v1.services.create({ uniqueName: 'patient-appointment-management', friendlyName: 'local' });
      expect(t.stack.serverless.getService(created.sid).uniqueName).toBe('patient-appointment-management');
      expect((await local.serverless.v1.services.list()).map((s) => s.sid)).toEqual([created.sid]);
    } finally {
      await t.stop();
    }
  });
});
