import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { exitCode } from '../../scripts/lib/deploy/cli';
import { deploy, type DeploySummary } from '../../scripts/lib/deploy/deploy';
import { destroy } from '../../scripts/lib/deploy/destroy';
import { status } from '../../scripts/lib/deploy/status';
import { describeFailedBuild, TwilioDeployTarget } from '../../scripts/lib/deploy/twilio';
import {
  API_KEY_SECRET,
  FUNCTIONS_SECRET_KEY,
  harness,
  INTAKE_SECRET_ARN,
  OTHER_WEBHOOK,
  RECEIVER_URL,
  SECRETS,
  STACK_OUTPUTS,
  startSecretsStandIn,
  startTwilioStandIn,
  TWILIO_NUMBER,
  validEnv,
  ACCOUNT_SID,
  API_KEY_SID,
  type Harness,
  type SecretsStandIn,
  type TwilioStandIn,
} from './support';

/* eslint-disable @typescript-eslint/no-explicit-any -- flow definitions are JSON read loosely and asserted on */

let twilio: TwilioStandIn;
let secrets: SecretsStandIn;

// The service the global setup built for this run (build/service may be rebuilt by `npm start`).
const serviceDir = inject('serviceDir');
const build = async () => ({ dir: serviceDir, functions: builtPaths().functions.map(([p]) => p) });

/** What the build produced, as Twilio paths: `functions/studio/reply.protected.js` → `/studio/reply`. */
function builtPaths(): { functions: [string, string][]; assets: string[] } {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
  const functions = walk(path.join(serviceDir, 'functions')).map((f): [string, string] => {
    const rel = `/${path.relative(path.join(serviceDir, 'functions'), f)}`.replace(/\.js$/, '');
    const m = /^(.*)\.(protected|private)$/.exec(rel);
    return m ? [m[1]!, m[2]!] : [rel, 'public'];
  });
  const assets = walk(path.join(serviceDir, 'assets')).map((f) => `/${path.relative(path.join(serviceDir, 'assets'), f)}`);
  return { functions, assets };
}

const freshSecrets = () =>
  startSecretsStandIn({
    [STACK_OUTPUTS.TwilioSecretArn]: JSON.stringify({ account_sid: '', api_key_sid: '', api_key_secret: 'generated-placeholder' }),
    [STACK_OUTPUTS.FunctionsAccessKeySecretArn]: JSON.stringify({
      AWS_ACCESS_KEY_ID: STACK_OUTPUTS.FunctionsAccessKeyId,
      AWS_SECRET_ACCESS_KEY: FUNCTIONS_SECRET_KEY,
    }),
  });

function runDeploy(h: Harness) {
  return deploy({ ...h.deps, build, randomSecret: () => 'generated-session-secret-0123456789abcdef0123456789' });
}

function value<T>(result: { ok: true; value: T } | { ok: false }): T {
  if (!result.ok)
    throw new Error(
      `expected success, got ${JSON.stringify(result, (_k, v: unknown) => (v instanceof Error ? { ...v, message: v.message } : v))}`,
    );
  return result.value;
}

function flowStates(definition: any): any[] {
  return definition.states as any[];
}

function bodyOf(definition: any, widget: string): string {
  return flowStates(definition).find((s) => s.name === widget).properties.body as string;
}

describe('npm run deploy against the local Twilio stand-in', () => {
  let first: Harness;
  let firstResult: DeploySummary;

  beforeAll(async () => {
    twilio = await startTwilioStandIn();
    secrets = await freshSecrets();
    first = harness(validEnv(), twilio, secrets);
    firstResult = value(await runDeploy(first));
  });

  afterAll(async () => {
    await twilio.close();
    await secrets.close();
  });

  it('leaves one service with a production environment on the twil.io domain, serving the built functions and the page', () => {
    const services = twilio.serverless.listServices();
    expect(services.map((s) => s.uniqueName)).toEqual(['patient-appointment-management']);
    const service = services[0]!;
    expect(service.includeCredentials).toBe(true);
    const [env] = twilio.serverless.listEnvironments(service.sid);
    expect(env).toMatchObject({ uniqueName: 'production', domainSuffix: null });
    expect(env!.domainName).toMatch(/^patient-appointment-management-\d{4}\.twil\.io$/);
    expect(firstResult.functions.domain).toBe(env!.domainName);
    const served = twilio.serverless.deployedVersions(service.sid, env!.sid).map((v) => [v.kind, v.path, v.visibility]);
    const expected = builtPaths();
    expect(served.sort()).toEqual(
      [
        ...expected.functions.map(([p, access]) => ['function', p, access]),
        ...expected.assets.map((p) => ['asset', p, expect.any(String)]),
      ].sort(),
    );
    expect(served).toContainEqual(['function', '/ehr/events', 'public']);
    expect(served).toContainEqual(['function', '/studio/reply', 'protected']);
    expect(served).toContainEqual(['asset', '/index.html', 'public']);
    const events = twilio.serverless.deployedVersions(service.sid, env!.sid).find((v) => v.path === '/ehr/events')!;
    expect(events.content.toString('utf8')).toMatch(/module\.exports/);
  });

  it('built the upload after polling its status from building to completed, with the package dependencies', () => {
    const service = twilio.serverless.listServices()[0]!;
    const builds = twilio.serverless.listBuilds(service.sid);
    expect(builds).toHaveLength(1);
    expect(builds[0]).toMatchObject({ status: 'completed', dependencies: [{ name: 'twilio', version: '6.2.0' }] });
    const [env] = twilio.serverless.listEnvironments(service.sid);
    expect(env!.buildSid).toBe(builds[0]!.sid);
    expect(twilio.serverless.listDeployments(service.sid, env!.sid)).toHaveLength(1);
    // serverless-api polled the status endpoint until it stopped saying "building".
    expect(twilio.requests.filter((r) => r.endsWith(`/Builds/${builds[0]!.sid}/Status`)).length).toBeGreaterThanOrEqual(2);
    // Versions went to the upload host, as with Twilio.
    const { functions, assets } = builtPaths();
    expect(twilio.requests.filter((r) => r.startsWith('POST /__twilio/serverless-upload/')).length).toBe(functions.length + assets.length);
  });

  it('gives the Functions their variables: the bucket and their own S3 key from the stack, the flow, the EHR and admin settings', () => {
    const service = twilio.serverless.listServices()[0]!;
    const [env] = twilio.serverless.listEnvironments(service.sid);
    const vars = Object.fromEntries(twilio.serverless.listVariables(service.sid, env!.sid).map((v) => [v.key, v.value]));
    const flow = twilio.studio.listFlows()[0]!;
    expect(vars).toEqual({
      CUSTOMER_CODE: 'acme',
      CUSTOMER_NAME: "Owl Health O'Brien Clinic",
      TWILIO_PHONE_NUMBER: TWILIO_NUMBER,
      TWILIO_FLOW_SID: flow.sid,
      EHR_API_KEY: validEnv().EHR_API_KEY,
      IE_ENDPOINT: 'https://ehr.example.org/twilio/requests',
      IE_SIGNING_SECRET: validEnv().IE_SIGNING_SECRET,
      DEFAULT_PHONE_COUNTRY: 'US',
      REMINDER_FIRST_TIMING: '7200',
      REMINDER_SECOND_TIMING: '2400',
      REMINDER_OUTREACH_START: '0800',
      REMINDER_OUTREACH_FINISH: '2000',
      S3_BUCKET: STACK_OUTPUTS.BucketName,
      AWS_REGION: 'us-west-2',
      AWS_ACCESS_KEY_ID: STACK_OUTPUTS.FunctionsAccessKeyId,
      AWS_SECRET_ACCESS_KEY: FUNCTIONS_SECRET_KEY,
      APPLICATION_PASSWORD: validEnv().APPLICATION_PASSWORD,
      ADMINISTRATOR_PHONE: '+14155550199',
      VERIFY_SERVICE_SID: firstResult.verifyServiceSid,
      SESSION_SECRET: 'generated-session-secret-0123456789abcdef0123456789',
    });
    // The deployer's own AWS key never reaches the Functions.
    expect(Object.values(vars)).not.toContain(validEnv().AWS_SECRET_ACCESS_KEY);
  });

  it('publishes the flow with every placeholder filled: the run-function widgets call the deployed reply and event Functions', () => {
    const flows = twilio.studio.listFlows();
    expect(flows).toHaveLength(1);
    const flow = twilio.studio.getFlow(flows[0]!.sid);
    expect(flow).toMatchObject({ friendlyName: 'patient-appointment-management', status: 'published', valid: true, revision: 1 });
    const text = JSON.stringify(flow.definition);
    expect(text).not.toMatch(/__[A-Z][A-Z0-9_]*__/);
    const service = twilio.serverless.listServices()[0]!;
    const [env] = twilio.serverless.listEnvironments(service.sid);
    for (const [widget, path] of [
      ['process_reply', 'studio/reply'],
      ['record_event', 'studio/event'],
    ] as const) {
      const run = flowStates(flow.definition).find((s) => s.name === widget);
      const fn = twilio.serverless.listResources(service.sid, 'function').find((f) => f.friendlyName.includes(path))!;
      expect(fn, path).toBeDefined();
      expect(run.properties).toMatchObject({
        url: `https://${env!.domainName}/${path}`,
        service_sid: service.sid,
        environment_sid: env!.sid,
        function_sid: fn.sid,
      });
    }
    expect(text).toContain("Owl Health O'Brien Clinic");
    expect(text).toContain('https://ehr.example.org/twilio/requests');
  });

  it("points the number's incoming messages at the flow's webhook", () => {
    const flow = twilio.studio.listFlows()[0]!;
    const n = twilio.carrier.getNumber(twilio.numberSid)!;
    expect(n.smsUrl).toBe(`https://webhooks.twilio.com/v1/Accounts/${ACCOUNT_SID}/Flows/${flow.sid}`);
    expect(n.smsMethod).toBe('POST');
  });

  it('creates the Verify service for the admin login', () => {
    expect(twilio.verify.service(firstResult.verifyServiceSid)).toMatchObject({ friendlyName: 'acme admin' });
  });

  it('stores the API key (not an auth token) and the EHR signing secret in the Twilio secret for the sweep', () => {
    expect(JSON.parse(secrets.values.get(STACK_OUTPUTS.TwilioSecretArn)!)).toEqual({
      account_sid: ACCOUNT_SID,
      api_key_sid: API_KEY_SID,
      api_key_secret: API_KEY_SECRET,
      ie_signing_secret: validEnv().IE_SIGNING_SECRET,
    });
  });

  it('deploys the stack first without a flow, then once more with the flow it created, for the sweep', () => {
    const deploys = first.processes.cdk('deploy');
    expect(deploys).toHaveLength(2);
    expect(deploys[0]!.args.join(' ')).not.toContain('TWILIO_FLOW_SID');
    expect(deploys[1]!.args).toContain(`TWILIO_FLOW_SID=${firstResult.flow.sid}`);
  });

  it('prints each step with its duration, then the EHR integration details and the admin page, and no secret anywhere', () => {
    const text = first.output.join('\n');
    expect(text).toMatch(/\[1\] Find what already exists on Twilio\n {4}✓ \d+(\.\d)? m?s/);
    for (const step of [
      'Build the Functions',
      'Deploy the AWS stack Appointments-acme',
      'Store the Twilio credentials',
      'Deploy the Functions and assets',
      'Publish the Studio Flow',
      'Connect the flow',
    ]) {
      expect(text).toContain(step);
    }
    expect(text).toContain(`Intake URL      POST https://${firstResult.functions.domain}/ehr/events`);
    expect(text).toContain('Authorization: Bearer <EHR_API_KEY>');
    expect(text).toContain('README.md, section "The EHR event contract"');
    expect(text).toContain(`curl -sS https://${firstResult.functions.domain}/ehr/events`);
    expect(text).toContain(`Admin page        https://${firstResult.functions.domain}/`);
    for (const secret of [...SECRETS, FUNCTIONS_SECRET_KEY, 'generated-session-secret-0123456789abcdef0123456789'])
      expect(text).not.toContain(secret);
    // No RAW_RECEIVER in .env: no receiver asked of the stack, none printed.
    expect(text).not.toContain('Raw-body receiver');
    expect(first.processes.cdk('deploy').every((r) => !r.args.includes('RAW_RECEIVER=true'))).toBe(true);
  });

  describe('run again', () => {
    let again: Harness;
    let requestsBefore: number;
    let secondResult: DeploySummary;

    beforeAll(async () => {
      requestsBefore = twilio.requests.length;
      again = harness(validEnv(), twilio, secrets);
      secondResult = value(await runDeploy(again));
    });

    it('finds and updates what exists: same service, environment, functions, flow and Verify service; nothing duplicated', () => {
      expect(secondResult.functions.serviceSid).toBe(firstResult.functions.serviceSid);
      expect(secondResult.functions.environmentSid).toBe(firstResult.functions.environmentSid);
      expect(secondResult.functions.functionSids).toEqual(firstResult.functions.functionSids);
      expect(secondResult.flow.sid).toBe(firstResult.flow.sid);
      expect(secondResult.verifyServiceSid).toBe(firstResult.verifyServiceSid);
      const service = twilio.serverless.listServices();
      expect(service).toHaveLength(1);
      expect(twilio.serverless.listEnvironments(service[0]!.sid)).toHaveLength(1);
      expect(twilio.serverless.listResources(service[0]!.sid, 'function')).toHaveLength(builtPaths().functions.length);
      expect(twilio.serverless.listResources(service[0]!.sid, 'asset')).toHaveLength(builtPaths().assets.length);
      expect(twilio.serverless.listVariables(service[0]!.sid, firstResult.functions.environmentSid)).toHaveLength(20);
      expect(twilio.studio.listFlows()).toHaveLength(1);
      expect(twilio.verify.listServices()).toHaveLength(1);
      expect(twilio.requests.length).toBeGreaterThan(requestsBefore);
    });

    it('leaves the unchanged flow at its revision, keeps the session secret, and needs one stack deploy', () => {
      expect(secondResult.flow).toMatchObject({ outcome: 'unchanged', revision: 1 });
      expect(twilio.studio.getFlow(secondResult.flow.sid).revision).toBe(1);
      expect(again.processes.cdk('deploy')).toHaveLength(1);
      expect(again.processes.cdk('deploy')[0]!.args).toContain(`TWILIO_FLOW_SID=${firstResult.flow.sid}`);
      expect(secrets.writes).toHaveLength(1);
      expect(again.output.join('\n')).toContain('Twilio secret unchanged');
      expect(again.output.join('\n')).toContain('variables unchanged');
    });

    it('uploads a new build (the only change), activated on the same environment', () => {
      const service = twilio.serverless.listServices()[0]!;
      expect(twilio.serverless.listBuilds(service.sid)).toHaveLength(2);
      expect(twilio.serverless.getEnvironment(service.sid, secondResult.functions.environmentSid).buildSid).toBe(
        secondResult.functions.buildSid,
      );
    });

    it('updates the flow to a new revision when the rendered definition changes', async () => {
      const renamed = harness(validEnv({ CUSTOMER_NAME: 'Owl Health Downtown' }), twilio, secrets);
      const r = value(await runDeploy(renamed));
      expect(r.flow).toMatchObject({ sid: firstResult.flow.sid, outcome: 'updated', revision: 2 });
      expect(JSON.stringify(twilio.studio.getFlow(r.flow.sid).definition)).toContain('Owl Health Downtown');
      const service = twilio.serverless.listServices()[0]!;
      const name = twilio.serverless.listVariables(service.sid, r.functions.environmentSid).find((v) => v.key === 'CUSTOMER_NAME');
      expect(name?.value).toBe('Owl Health Downtown');
    });
  });

  describe('status', () => {
    it('reports the service, environment, build, flow, number and stack', async () => {
      const h = harness(validEnv(), twilio, secrets, first.root);
      const r = value(await status(h.deps));
      expect(r.complete).toBe(true);
      const text = h.output.join('\n');
      expect(text).toContain(`Functions service  ${firstResult.functions.serviceSid} (patient-appointment-management)`);
      const { functions, assets } = builtPaths();
      expect(text).toMatch(new RegExp(`Build {14}ZB[0-9a-f]{32} completed: ${functions.length} functions, ${assets.length} assets`));
      expect(text).toContain(`Studio Flow        ${firstResult.flow.sid} revision 2, published`);
      expect(text).toContain(`${TWILIO_NUMBER} (${twilio.numberSid}): incoming SMS → the Studio Flow`);
      expect(text).toContain('Appointments-acme: UPDATE_COMPLETE (CloudFormation)');
      expect(text).toContain(STACK_OUTPUTS.BucketName);
      expect(text).not.toContain(FUNCTIONS_SECRET_KEY);
      for (const secret of SECRETS) expect(text).not.toContain(secret);
    });

    it('still shows the AWS side when Twilio cannot be reached, and fails', async () => {
      const h = harness(validEnv(), twilio, secrets, first.root);
      const unreachable = new TwilioDeployTarget({
        accountSid: ACCOUNT_SID,
        apiKeySid: API_KEY_SID,
        apiKeySecret: API_KEY_SECRET,
        apiBaseUrl: 'http://127.0.0.1:1/__twilio',
      });
      const r = await status({ ...h.deps, twilio: () => unreachable });
      expect(r).toMatchObject({ ok: false, reason: 'step-failed', failure: { step: 'Read the Twilio account' } });
      const text = h.output.join('\n');
      expect(text).toContain('Twilio\n  (not readable: see the failure below)');
      expect(text).toContain(STACK_OUTPUTS.BucketName);
      expect(text).toContain('What to do: check the Twilio credentials in .env and the network');
    });

    it('asks CloudFormation for the stack and its outputs', async () => {
      const h = harness(validEnv(), twilio, secrets, first.root);
      const before = secrets.stacks.get('Appointments-acme');
      secrets.stacks.set('Appointments-acme', { status: 'UPDATE_ROLLBACK_COMPLETE', outputs: { BucketName: 'from-cloudformation' } });
      try {
        value(await status(h.deps));
        expect(h.output.join('\n')).toContain('Appointments-acme: UPDATE_ROLLBACK_COMPLETE (CloudFormation)');
        expect(h.output.join('\n')).toContain('from-cloudformation');
        expect(h.processes.requests.filter((r) => r.command === 'aws')).toEqual([]);
      } finally {
        if (before) secrets.stacks.set('Appointments-acme', before);
      }
    });
  });

  describe('destroy', () => {
    it('refuses --delete-data without a confirmation and touches nothing', async () => {
      const h = harness(validEnv(), twilio, secrets, first.root);
      const before = twilio.requests.length;
      const r = await destroy(h.deps, { deleteData: true, yes: false });
      expect(r).toMatchObject({ ok: false, reason: 'refused' });
      expect(twilio.requests.length).toBe(before);
      expect(h.processes.requests).toHaveLength(0);
    });

    it('refuses --delete-data when the typed confirmation is not the customer code', async () => {
      const h = harness(validEnv(), twilio, secrets, first.root);
      const r = await destroy(h.deps, { deleteData: true, yes: false, ask: async () => 'yes' });
      expect(r).toMatchObject({ ok: false, reason: 'refused' });
      expect(h.processes.requests).toHaveLength(0);
      expect(twilio.serverless.listServices()).toHaveLength(1);
    });

    it('removes the flow, the service, the Verify service and the webhook, destroys the stack, and keeps the bucket', async () => {
      const h = harness(validEnv(), twilio, secrets, first.root);
      const r = value(await destroy(h.deps, { deleteData: false, yes: false }));
      expect(twilio.serverless.listServices()).toEqual([]);
      expect(twilio.studio.listFlows()).toEqual([]);
      expect(twilio.verify.listServices()).toEqual([]);
      expect(twilio.carrier.getNumber(twilio.numberSid)!.smsUrl).toBe('');
      const cdk = h.processes.cdk();
      expect(cdk).toHaveLength(1);
      expect(cdk[0]!.args).toEqual(['--no-install', 'cdk', 'destroy', 'Appointments-acme', '--force', '-c', 'customerCode=acme']);
      expect(r.kept).toEqual([`bucket ${STACK_OUTPUTS.BucketName} with all appointment data (retained by design)`]);
      expect(h.output.join('\n')).toContain('Kept: bucket appointments-acme-123456789012-us-west-2');
    });

    it('finds nothing to remove the second time', async () => {
      const h = harness(validEnv(), twilio, secrets, first.root);
      const r = value(await destroy(h.deps, { deleteData: false, yes: false }));
      // CloudFormation says the stack is gone, so `cdk destroy` is not run again.
      expect(r.removed).toEqual([]);
      expect(h.processes.cdk()).toEqual([]);
    });
  });
});

describe('npm run destroy -- --delete-data --yes', () => {
  it('redeploys the stack with the bucket deletable, then destroys it', async () => {
    const standIn = await startTwilioStandIn({ buildMs: 0 });
    const store = await freshSecrets();
    try {
      const deployed = harness(validEnv(), standIn, store);
      value(await runDeploy(deployed));
      const h = harness(validEnv(), standIn, store, deployed.root);
      const r = value(await destroy(h.deps, { deleteData: true, yes: true }));
      const cdk = h.processes.cdk().map((x) => x.args.slice(2));
      expect(cdk).toEqual([
        [
          'deploy',
          'Appointments-acme',
          '--require-approval',
          'never',
          '--outputs-file',
          expect.stringMatching(/build\/deploy\/acme\/stack-outputs\.json$/),
          '-c',
          'customerCode=acme',
          '-c',
          'deleteData=true',
        ],
        ['destroy', 'Appointments-acme', '--force', '-c', 'customerCode=acme', '-c', 'deleteData=true'],
      ]);
      expect(r.removed).toContain(`bucket ${STACK_OUTPUTS.BucketName} and its data`);
    } finally {
      await standIn.close();
      await store.close();
    }
  });
});

describe('the HL7 and FHIR intake settings', () => {
  const intake = {
    EHR_DEFAULT_TIMEZONE: 'America/Chicago',
    EHR_FACILITY_TIMEZONES: '{"NORTH":"America/Denver"}',
    FHIR_BASE_URL: 'https://ehr.example.org/fhir/r4',
    FHIR_CLIENT_ID: 'appointment-reminders',
    FHIR_CLIENT_SECRET: 'fhir-client-secret-0123456789abcdef',
    FHIR_TOKEN_URL: 'https://ehr.example.org/oauth2/token',
    FHIR_SCOPE: 'system/Appointment.read',
  };

  it('reach the Functions as written in .env, and the FHIR client secret is printed nowhere nor handed to the CDK', async () => {
    const standIn = await startTwilioStandIn();
    const store = await freshSecrets();
    try {
      const h = harness(validEnv(intake), standIn, store);
      value(await runDeploy(h));
      const service = standIn.serverless.listServices()[0]!;
      const [env] = standIn.serverless.listEnvironments(service.sid);
      const vars = Object.fromEntries(standIn.serverless.listVariables(service.sid, env!.sid).map((v) => [v.key, v.value]));
      expect(vars).toMatchObject(intake);
      expect(h.output.join('\n')).not.toContain(intake.FHIR_CLIENT_SECRET);
      for (const run of h.processes.cdk()) {
        expect(run.args.join(' ')).not.toContain(intake.FHIR_CLIENT_SECRET);
        expect(Object.values(run.env)).not.toContain(intake.FHIR_CLIENT_SECRET);
      }
    } finally {
      await standIn.close();
      await store.close();
    }
  });
});

describe('a Messaging Service for delivery receipts', () => {
  it('points the service’s status callback at the status Function and hands the service and the reminder gap to the Functions and the sweep', async () => {
    const standIn = await startTwilioStandIn();
    const store = await freshSecrets();
    try {
      const mg = standIn.carrier.createService({ friendlyName: 'Owl Health' });
      const h = harness(validEnv({ TWILIO_MESSAGING_SERVICE_SID: mg, REMINDER_MIN_GAP_HOURS: '6' }), standIn, store);
      const deployed = value(await runDeploy(h));
      expect(standIn.carrier.getService(mg)).toMatchObject({
        statusCallback: `https://${deployed.functions.domain}/twilio/status`,
        useInboundWebhookOnNumber: true,
      });
      const service = standIn.serverless.listServices()[0]!;
      const [env] = standIn.serverless.listEnvironments(service.sid);
      const vars = Object.fromEntries(standIn.serverless.listVariables(service.sid, env!.sid).map((v) => [v.key, v.value]));
      expect(vars).toMatchObject({ TWILIO_MESSAGING_SERVICE_SID: mg, REMINDER_MIN_GAP_HOURS: '6' });
      for (const run of h.processes.cdk('deploy'))
        expect(run.args).toEqual(expect.arrayContaining([`TWILIO_MESSAGING_SERVICE_SID=${mg}`, 'REMINDER_MIN_GAP_HOURS=6']));
      expect(h.output.join('\n')).toContain('Send delivery receipts to the status Function');

      // Run again: nothing to change.
      const again = harness(validEnv({ TWILIO_MESSAGING_SERVICE_SID: mg, REMINDER_MIN_GAP_HOURS: '6' }), standIn, store);
      value(await runDeploy(again));
      expect(again.output.join('\n')).toMatch(/status callback → \S+ \(unchanged\)/);
    } finally {
      await standIn.close();
      await store.close();
    }
  });

  it('stops before anything is deployed when the Messaging Service is not in the account', async () => {
    const standIn = await startTwilioStandIn();
    const store = await freshSecrets();
    try {
      const missing = `MG${'0'.repeat(32)}`;
      const h = harness(validEnv({ TWILIO_MESSAGING_SERVICE_SID: missing }), standIn, store);
      const r = await runDeploy(h);
      if (r.ok || r.reason !== 'step-failed') throw new Error('expected step-failed');
      expect(r.failure.message).toBe(`TWILIO_MESSAGING_SERVICE_SID ${missing} is not a Messaging Service of Twilio account ${ACCOUNT_SID}`);
      expect(h.processes.requests).toEqual([]);
      expect(standIn.serverless.listServices()).toEqual([]);
    } finally {
      await standIn.close();
      await store.close();
    }
  });

  it('gives the Functions and the sweep the 08:00–21:00 window when .env sets none', async () => {
    const standIn = await startTwilioStandIn();
    const store = await freshSecrets();
    try {
      const h = harness(validEnv({ REMINDER_OUTREACH_START: undefined, REMINDER_OUTREACH_FINISH: undefined }), standIn, store);
      value(await runDeploy(h));
      const service = standIn.serverless.listServices()[0]!;
      const [env] = standIn.serverless.listEnvironments(service.sid);
      const vars = Object.fromEntries(standIn.serverless.listVariables(service.sid, env!.sid).map((v) => [v.key, v.value]));
      expect(vars).toMatchObject({ REMINDER_OUTREACH_START: '0800', REMINDER_OUTREACH_FINISH: '2100' });
      for (const run of h.processes.cdk('deploy'))
        expect(run.args).toEqual(expect.arrayContaining(['REMINDER_OUTREACH_START=0800', 'REMINDER_OUTREACH_FINISH=2100']));
    } finally {
      await standIn.close();
      await store.close();
    }
  });
});

describe('RAW_RECEIVER=true', () => {
  it('deploys the receiver with its non-secret settings as context, writes its secrets to the intake secret, and prints its URL', async () => {
    const standIn = await startTwilioStandIn();
    const store = await freshSecrets();
    const fhirToken = 'fhir-token-0123456789abcdef';
    try {
      const h = harness(
        validEnv({
          RAW_RECEIVER: 'true',
          EHR_DEFAULT_TIMEZONE: 'America/Chicago',
          FHIR_BASE_URL: 'https://ehr.example.org/fhir/r4',
          FHIR_BEARER_TOKEN: fhirToken,
        }),
        standIn,
        store,
      );
      value(await runDeploy(h));
      const [deployed] = h.processes.cdk('deploy');
      expect(deployed!.args).toEqual(
        expect.arrayContaining([
          'RAW_RECEIVER=true',
          'EHR_DEFAULT_TIMEZONE=America/Chicago',
          'FHIR_BASE_URL=https://ehr.example.org/fhir/r4',
        ]),
      );
      for (const run of h.processes.cdk()) {
        expect(run.args.join(' ')).not.toContain(fhirToken);
        expect(run.args.join(' ')).not.toContain(validEnv().EHR_API_KEY);
        expect(Object.values(run.env)).not.toContain(fhirToken);
      }
      expect(JSON.parse(store.values.get(INTAKE_SECRET_ARN)!)).toEqual({
        EHR_API_KEY: validEnv().EHR_API_KEY,
        FHIR_BEARER_TOKEN: fhirToken,
      });
      const text = h.output.join('\n');
      expect(text).toContain("Store the raw-body receiver's secrets");
      expect(text).toContain(`POST ${RECEIVER_URL}ehr/hl7`);
      expect(text).toContain(`POST ${RECEIVER_URL}ehr/fhir`);
      for (const secret of [...SECRETS, fhirToken]) expect(text).not.toContain(secret);
    } finally {
      await standIn.close();
      await store.close();
    }
  });
});

describe('an invalid .env', () => {
  it('lists every problem with its fix and touches nothing: no Twilio request, no process', async () => {
    const standIn = await startTwilioStandIn();
    const store = await freshSecrets();
    try {
      const env = validEnv({
        CUSTOMER_CODE: 'Acme Clinic',
        TWILIO_API_KEY_SID: undefined,
        IE_ENDPOINT: 'http://ehr.example.org/requests',
        REMINDER_FIRST_TIMING: '48h',
        ADMINISTRATOR_PHONE: '415 555 0199',
        AWS_SECRET_ACCESS_KEY: '',
      });
      const h = harness(env, standIn, store);
      const r = await runDeploy(h);
      expect(r.ok).toBe(false);
      if (r.ok || r.reason !== 'invalid-configuration') throw new Error('expected invalid-configuration');
      expect(r.problems.map((p) => p.variable).sort()).toEqual(
        [
          'ADMINISTRATOR_PHONE',
          'AWS_SECRET_ACCESS_KEY',
          'CUSTOMER_CODE',
          'IE_ENDPOINT',
          'REMINDER_FIRST_TIMING',
          'TWILIO_API_KEY_SID',
        ].sort(),
      );
      expect(r.problems.every((p) => p.fix.length > 0)).toBe(true);
      const text = h.output.join('\n');
      expect(text).toContain('.env has 6 problems; nothing was changed:');
      expect(text).toContain('CUSTOMER_CODE must be 1-20 lowercase letters or digits');
      expect(text).toContain('IE_ENDPOINT must use https');
      expect(text).toMatch(/fix: create a Standard API key/);
      expect(standIn.requests).toEqual([]);
      expect(h.processes.requests).toEqual([]);
      expect(h.twilioCalls + h.awsCalls).toBe(0);
      for (const secret of SECRETS) expect(text).not.toContain(secret);
    } finally {
      await standIn.close();
      await store.close();
    }
  });
});

describe('a failing step', () => {
  it('names the step and what to do, and changes nothing after it', async () => {
    const standIn = await startTwilioStandIn();
    const store = await freshSecrets();
    try {
      const h = harness(validEnv(), standIn, store);
      h.processes.failNextCdk = 1;
      const r = await runDeploy(h);
      if (r.ok || r.reason !== 'step-failed') throw new Error('expected step-failed');
      expect(r.failure.step).toBe('Deploy the AWS stack Appointments-acme');
      const text = h.output.join('\n');
      expect(text).toContain('Step "Deploy the AWS stack Appointments-acme" failed: `cdk deploy Appointments-acme` exited with 1');
      expect(text).toContain('AccessDenied');
      expect(text).toMatch(/What to do: read the CDK messages above\. Credentials refused\?/);
      expect(text).toContain('`npm run deploy` is safe to run again');
      expect(standIn.serverless.listServices()).toEqual([]);
      expect(standIn.studio.listFlows()).toEqual([]);
      expect(standIn.carrier.getNumber(standIn.numberSid)!.smsUrl).toBe(OTHER_WEBHOOK);
      expect(store.writes).toEqual([]);
    } finally {
      await standIn.close();
      await store.close();
    }
  });

  it('continues where it stopped when run again: a failure after the flow was created leaves nothing to duplicate', async () => {
    const standIn = await startTwilioStandIn({ buildMs: 0 });
    const store = await freshSecrets();
    try {
      const h = harness(validEnv(), standIn, store);
      h.processes.failCdkCall = 2;
      const r = await runDeploy(h);
      if (r.ok || r.reason !== 'step-failed') throw new Error('expected step-failed');
      expect(r.failure.step).toBe('Give the reminder sweep the new flow');
      const flow = standIn.studio.listFlows()[0]!;

      const again = harness(validEnv(), standIn, store, h.root);
      const done = value(await runDeploy(again));
      expect(done.flow).toMatchObject({ sid: flow.sid, outcome: 'unchanged' });
      expect(again.processes.cdk('deploy')).toHaveLength(1);
      expect(again.processes.cdk('deploy')[0]!.args).toContain(`TWILIO_FLOW_SID=${flow.sid}`);
      expect(standIn.serverless.listServices()).toHaveLength(1);
      expect(standIn.studio.listFlows()).toHaveLength(1);
      expect(standIn.verify.listServices()).toHaveLength(1);
    } finally {
      await standIn.close();
      await store.close();
    }
  });

  it('stops before anything is deployed when the number is not in the Twilio account', async () => {
    const standIn = await startTwilioStandIn();
    const store = await freshSecrets();
    try {
      const h = harness(validEnv({ TWILIO_PHONE_NUMBER: '+14155550111' }), standIn, store);
      const r = await runDeploy(h);
      if (r.ok || r.reason !== 'step-failed') throw new Error('expected step-failed');
      expect(r.failure.message).toBe(`+14155550111 is not a phone number of Twilio account ${ACCOUNT_SID}`);
      expect(h.output.join('\n')).toContain('What to do: buy or port the number in the Twilio Console');
      expect(h.processes.requests).toEqual([]);
      expect(standIn.serverless.listServices()).toEqual([]);
    } finally {
      await standIn.close();
      await store.close();
    }
  });

  it('explains refused Twilio credentials by the variables to check', async () => {
    const standIn = await startTwilioStandIn();
    const store = await freshSecrets();
    try {
      const h = harness(validEnv({ TWILIO_API_KEY_SECRET: 'not-the-secret-of-this-api-key-at-all' }), standIn, store);
      const r = await runDeploy(h);
      if (r.ok || r.reason !== 'step-failed') throw new Error('expected step-failed');
      expect(r.failure.message).toContain('Twilio refused the credentials');
      expect(r.failure.whatToDo).toContain('TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET');
      expect(h.output.join('\n')).not.toContain('not-the-secret-of-this-api-key-at-all');
    } finally {
      await standIn.close();
      await store.close();
    }
  });
});

describe('a build Twilio fails', () => {
  it('stops the deploy with the build SID, what was in the build, and where Twilio keeps the reason', async () => {
    const standIn = await startTwilioStandIn({ buildMs: 0 });
    const store = await freshSecrets();
    try {
      standIn.serverless.failBuilds('a dependency could not be installed');
      const h = harness(validEnv(), standIn, store);
      const r = await runDeploy(h);
      if (r.ok || r.reason !== 'step-failed') throw new Error('expected step-failed');
      const service = standIn.serverless.listServices()[0]!;
      const [build] = standIn.serverless.listBuilds(service.sid);
      expect(build).toMatchObject({ status: 'failed' });
      expect(r.failure.step).toBe('Deploy the Functions and assets');
      expect(r.failure.message).toContain(`Twilio's build ${build!.sid} of service ${service.sid} failed; Twilio's API does not say why`);
      expect(r.failure.message).toContain('dependencies twilio@6.2.0');
      expect(r.failure.whatToDo).toContain(`read the build log of ${build!.sid}`);
      expect(h.output.join('\n')).toContain(`Step "Deploy the Functions and assets" failed: Twilio's build ${build!.sid}`);
      // Nothing after the failed build ran: no deployment, no flow.
      expect(standIn.serverless.listDeployments(service.sid, standIn.serverless.listEnvironments(service.sid)[0]!.sid)).toEqual([]);
      expect(standIn.studio.listFlows()).toEqual([]);
    } finally {
      await standIn.close();
      await store.close();
    }
  });

  it('names the clashing path when the build itself shows why it failed', () => {
    const err = describeFailedBuild({
      sid: `ZB${'1'.repeat(32)}`,
      serviceSid: `ZS${'2'.repeat(32)}`,
      runtime: 'node22',
      functionVersions: [{ path: '/ehr/events' }, { path: '/index.html' }],
      assetVersions: [{ path: '/index.html' }],
      dependencies: [{ name: 'twilio', version: '6.2.0' }],
    });
    expect(err.message).toBe(
      `Twilio's build ZB${'1'.repeat(32)} of service ZS${'2'.repeat(32)} failed: more than one file is deployed on /index.html (2 functions, 1 assets, runtime node22, dependencies twilio@6.2.0)`,
    );
    expect(err.whatToDo).toContain('give each function and asset its own path');
  });
});

describe('a flow a clinic edited in the Studio canvas', () => {
  let standIn: TwilioStandIn;
  let aws: SecretsStandIn;
  let flowSid: string;
  const canvasBody = 'Hola {{flow.data.patient_first_name}}, su cita esta confirmada. Gracias.';

  beforeAll(async () => {
    standIn = await startTwilioStandIn();
    aws = await freshSecrets();
    flowSid = value(await runDeploy(harness(validEnv(), standIn, aws))).flow.sid;
  });

  afterAll(async () => {
    await standIn.close();
    await aws.close();
  });

  /** What the canvas does on Publish: a new revision with the whole definition and the clinic's commit message. */
  function publishInCanvas(edit: (states: any[]) => void): number {
    const definition = structuredClone(standIn.studio.getFlow(flowSid).definition) as any;
    edit(flowStates(definition));
    return standIn.studio.updateFlow(flowSid, { status: 'published', definition, commitMessage: 'Clinic wording' }).revision;
  }

  const setBody = (name: string, body: string) => (states: any[]) => {
    states.find((s) => s.name === name).properties.body = body;
  };

  it('is left as it is: the deploy names the changed text, stops before deploying anything, and exits non-zero', async () => {
    const revision = publishInCanvas(setBody('send_confirmed_es', canvasBody));
    const before = standIn.studio.getFlow(flowSid);
    const builds = standIn.serverless.listBuilds(standIn.serverless.listServices()[0]!.sid).length;
    const h = harness(validEnv({ CUSTOMER_NAME: 'Owl Health Downtown' }), standIn, aws);
    const r = await runDeploy(h);
    expect(r.ok).toBe(false);
    if (r.ok || r.reason !== 'step-failed') throw new Error('expected a failed step');
    expect(exitCode(r)).not.toBe(0);
    expect(r.failure.step).toBe('Check the Studio Flow for edits made in the canvas');
    expect(r.failure.message).toContain(`revision ${revision}: send_confirmed_es: text changed (Spanish)`);
    expect(r.failure.message).not.toContain('send_confirmed:');
    expect(r.failure.whatToDo).toContain('--replace-flow');
    const after = standIn.studio.getFlow(flowSid);
    expect(after.revision).toBe(before.revision);
    expect(after.definition).toEqual(before.definition);
    expect(standIn.serverless.listBuilds(standIn.serverless.listServices()[0]!.sid)).toHaveLength(builds);
    expect(h.processes.cdk('deploy')).toEqual([]);
  });

  it('is not in the way when studio/flow.json already carries what the canvas changed; moving widgets is no edit', async () => {
    const deployed = standIn.studio.listRevisions(flowSid).find((x) => x.commitMessage === 'npm run deploy')!.definition;
    publishInCanvas((states) => {
      setBody('send_confirmed_es', bodyOf(deployed, 'send_confirmed_es'))(states);
      const settings = states.find((x) => x.name === 'set_settings');
      settings.properties.variables.find((v: any) => v.key === 'CUSTOMER_NAME').value = 'Owl Health Downtown';
      for (const x of states) x.properties.offset = { x: x.properties.offset.x + 40, y: x.properties.offset.y };
    });
    const r = value(await runDeploy(harness(validEnv({ CUSTOMER_NAME: 'Owl Health Downtown' }), standIn, aws)));
    expect(r.flow.outcome).toBe('updated');
    expect(standIn.studio.getFlow(flowSid).commitMessage).toBe('npm run deploy');
  });

  it('is replaced with --replace-flow, and the deploy says so', async () => {
    const edited = publishInCanvas(setBody('send_help', 'Call us.'));
    const h = harness(validEnv(), standIn, aws);
    const r = value(
      await deploy({ ...h.deps, build, replaceFlow: true, randomSecret: () => 'generated-session-secret-0123456789abcdef0123456789' }),
    );
    expect(r.flow).toMatchObject({ sid: flowSid, outcome: 'updated', revision: edited + 1 });
    const flow = standIn.studio.getFlow(flowSid);
    expect(flow.commitMessage).toContain(`replaced canvas revision ${edited}`);
    expect(bodyOf(flow.definition, 'send_help')).not.toBe('Call us.');
    expect(h.output.join('\n')).toContain(
      `--replace-flow: studio/flow.json will replace revision ${edited}: send_help: text changed (English)`,
    );
    expect(h.output.join('\n')).toContain(`(replaced the canvas edits of revision ${edited})`);
  });

  it('is updated as before when it is still the one the deploy published', async () => {
    const before = standIn.studio.getFlow(flowSid).revision;
    const r = value(await runDeploy(harness(validEnv({ CUSTOMER_NAME: 'Owl Health Uptown' }), standIn, aws)));
    expect(r.flow).toMatchObject({ outcome: 'updated', revision: before + 1 });
    expect(JSON.stringify(standIn.studio.getFlow(flowSid).definition)).toContain('Owl Health Uptown');
  });
});
