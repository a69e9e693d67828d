import { afterAll, describe, expect, it, vi } from 'vitest';

// aws-cdk-lib reads HOME when it loads (its asset fingerprint cache), so HOME points at a scratch
// folder before the first import of the library, as in infra/stack.int.test.ts.
const sandbox = vi.hoisted(() => {
  const fs = process.getBuiltinModule('node:fs');
  const os = process.getBuiltinModule('node:os');
  const path = process.getBuiltinModule('node:path');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pam-cdk-test-'));
  const realHome = process.env.HOME;
  process.env.HOME = path.join(dir, 'home');
  return { dir, realHome };
});

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { readDeploySettings } from '../../infra/settings';
import { AppointmentStack } from '../../infra/stack';
import { ROOT } from '../../scripts/lib/build-service';
import { CdkAwsTarget } from '../../scripts/lib/deploy/aws';
import { startSecretsStandIn } from './support';
import { cdkDeploy, cdkDestroy, stackContext } from '../../scripts/lib/deploy/cdk';
import { spawnProcess, type ProcessRequest } from '../../scripts/lib/deploy/process-runner';
import { loadDeploySettings, type DeploySettings } from '../../scripts/lib/deploy/settings';
import { SECRETS, STACK_OUTPUTS, validEnv } from './support';

afterAll(() => {
  if (sandbox.realHome === undefined) delete process.env.HOME;
  else process.env.HOME = sandbox.realHome;
  rmSync(sandbox.dir, { recursive: true, force: true });
});

const FLOW_SID = `FW${'7e'.repeat(16)}`;
const OPERATOR_ENV = {
  PATH: '/usr/local/bin:/usr/bin',
  HOME: '/home/operator',
  EHR_API_KEY: 'leaked-from-the-shell-0123456789',
  LANG: 'C.UTF-8',
};

function settings(overrides: Record<string, string | undefined> = {}): DeploySettings {
  const loaded = loadDeploySettings(validEnv({ SWEEP_SCHEDULE: 'rate(5 minutes)', LOG_LEVEL: 'debug', ...overrides }));
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  return loaded.settings;
}

/** The `-c key=value` pairs of a command line, as the CDK CLI hands them to the app. */
function contextOf(args: string[]): Record<string, string> {
  const context: Record<string, string> = {};
  args.forEach((a, i) => {
    if (a !== '-c') return;
    const pair = args[i + 1] ?? '';
    const at = pair.indexOf('=');
    context[pair.slice(0, at)] = pair.slice(at + 1);
  });
  return context;
}

let synths = 0;
/** What infra/app.ts does with that context, synthesized in this process (bundling skipped). */
function synthFromArgs(args: string[]): Template {
  const context = contextOf(args);
  const { stackName, props } = readDeploySettings((k) => context[k], {});
  synths += 1;
  const app = new App({ outdir: path.join(sandbox.dir, `cdk.out-${synths}`), context: { 'aws:cdk:bundling-stacks': [] } });
  return Template.fromStack(new AppointmentStack(app, stackName, props));
}

describe('the cdk deploy command line', () => {
  const s = settings();
  const invocation = cdkDeploy(s, stackContext(s, FLOW_SID), { root: '/srv/app', baseEnv: OPERATOR_ENV });

  it('is npx cdk deploy of the customer stack, without approval prompts, writing the outputs file, settings as context', () => {
    expect(invocation.command).toBe('npx');
    expect(invocation.args).toEqual([
      '--no-install',
      'cdk',
      'deploy',
      'Appointments-acme',
      '--require-approval',
      'never',
      '--outputs-file',
      '/srv/app/build/deploy/acme/stack-outputs.json',
      '-c',
      'customerCode=acme',
      '-c',
      'REMINDER_FIRST_TIMING=7200',
      '-c',
      'REMINDER_SECOND_TIMING=2400',
      '-c',
      'REMINDER_OUTREACH_START=0800',
      '-c',
      'REMINDER_OUTREACH_FINISH=2000',
      '-c',
      'TWILIO_PHONE_NUMBER=+14155550100',
      '-c',
      `TWILIO_FLOW_SID=${FLOW_SID}`,
      '-c',
      "CUSTOMER_NAME=Owl Health O'Brien Clinic",
      '-c',
      'DEFAULT_PHONE_COUNTRY=US',
      '-c',
      'IE_ENDPOINT=https://ehr.example.org/twilio/requests',
      '-c',
      'ALARM_EMAIL=alarms@owlhealth.example',
      '-c',
      'LOG_LEVEL=debug',
      '-c',
      'sweepSchedule=rate(5 minutes)',
    ]);
  });

  it('puts no secret on the command line', () => {
    const line = invocation.args.join(' ');
    for (const secret of SECRETS) expect(line).not.toContain(secret);
  });

  it('passes the AWS credentials and region in the environment, with CDK_HOME under build/, and drops our secrets from the shell', () => {
    expect(invocation.env).toEqual({
      PATH: '/usr/local/bin:/usr/bin',
      HOME: '/home/operator',
      LANG: 'C.UTF-8',
      AWS_ACCESS_KEY_ID: 'AKIADEPLOYER00000001',
      AWS_SECRET_ACCESS_KEY: validEnv().AWS_SECRET_ACCESS_KEY,
      AWS_REGION: 'us-west-2',
      AWS_DEFAULT_REGION: 'us-west-2',
      CDK_HOME: '/srv/app/build/cdk-home',
      CDK_DISABLE_VERSION_CHECK: '1',
    });
  });

  it("keeps the operator's own CDK_HOME, and uses AWS_PROFILE when no key is given", () => {
    const profiled = settings({ AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_PROFILE: 'clinic-deployer' });
    const env = cdkDeploy(profiled, stackContext(profiled, undefined), {
      root: '/srv/app',
      baseEnv: { ...OPERATOR_ENV, CDK_HOME: '/opt/cdk' },
    }).env;
    expect(env).toMatchObject({ AWS_PROFILE: 'clinic-deployer', CDK_HOME: '/opt/cdk', AWS_REGION: 'us-west-2' });
    expect(env.AWS_ACCESS_KEY_ID).toBeUndefined();
  });

  it('synthesizes offline, with exactly these arguments, into the stack the deploy expects', () => {
    const template = synthFromArgs(invocation.args);
    template.hasResourceProperties('AWS::S3::Bucket', { BucketName: { 'Fn::Join': ['', Match.arrayWith(['appointments-acme-'])] } });
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'appointment-sweep-acme',
      Environment: {
        Variables: Match.objectLike({
          CUSTOMER_CODE: 'acme',
          TWILIO_FLOW_SID: FLOW_SID,
          TWILIO_PHONE_NUMBER: '+14155550100',
          REMINDER_FIRST_TIMING: '7200',
          REMINDER_SECOND_TIMING: '2400',
          REMINDER_OUTREACH_START: '0800',
          REMINDER_OUTREACH_FINISH: '2000',
          CUSTOMER_NAME: "Owl Health O'Brien Clinic",
          DEFAULT_PHONE_COUNTRY: 'US',
          IE_ENDPOINT: 'https://ehr.example.org/twilio/requests',
          LOG_LEVEL: 'debug',
        }),
      },
    });
    template.hasResourceProperties('AWS::Events::Rule', { Name: 'appointment-sweep-acme', ScheduleExpression: 'rate(5 minutes)' });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'alarms@owlhealth.example' });
    template.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'appointments-acme/twilio' });
    template.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'appointments-acme/functions-s3-key' });
    // What the deploy reads back from --outputs-file.
    for (const output of [
      'BucketName',
      'Region',
      'SweepFunctionName',
      'TwilioSecretArn',
      'FunctionsAccessKeyId',
      'FunctionsAccessKeySecretArn',
      'FunctionsKeySlots',
      'FunctionsUserName',
    ]) {
      template.hasOutput(output, {});
    }
    // The Twilio secrets stay out of the template: the deploy writes them into Secrets Manager.
    const text = JSON.stringify(template.toJSON());
    for (const secret of SECRETS) expect(text).not.toContain(secret);
  });

  it('passes the key slots the stack has, so a deploy after a rotation keeps the Functions key', () => {
    const template = synthFromArgs(cdkDeploy(s, stackContext(s, FLOW_SID, ['b']), { root: '/srv/app', baseEnv: {} }).args);
    template.hasOutput('FunctionsKeySlots', { Value: 'b' });
    template.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'appointments-acme/functions-s3-key-b' });
  });

  it('with RAW_RECEIVER=true, synthesizes the receiver with the non-secret intake settings; the FHIR secret and the EHR key stay off the command line and out of the template', () => {
    const fhirSecret = 'fhir-client-secret-0123456789abcdef';
    const withReceiver = settings({
      RAW_RECEIVER: 'true',
      EHR_FACILITY_TIMEZONES: '{"NORTH":"America/Chicago"}',
      FHIR_BASE_URL: 'https://ehr.example.org/fhir/r4',
      FHIR_CLIENT_ID: 'reminders',
      FHIR_CLIENT_SECRET: fhirSecret,
      FHIR_TOKEN_URL: 'https://ehr.example.org/oauth2/token',
    });
    const args = cdkDeploy(withReceiver, stackContext(withReceiver, FLOW_SID), {
      root: '/srv/app',
      baseEnv: { ...OPERATOR_ENV, FHIR_CLIENT_SECRET: fhirSecret },
    });
    expect(args.args.join(' ')).not.toContain(fhirSecret);
    expect(Object.values(args.env)).not.toContain(fhirSecret);
    const template = synthFromArgs(args.args);
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'appointment-receiver-acme',
      Environment: {
        Variables: Match.objectLike({
          TWILIO_FLOW_SID: FLOW_SID,
          EHR_FACILITY_TIMEZONES: '{"NORTH":"America/Chicago"}',
          FHIR_BASE_URL: 'https://ehr.example.org/fhir/r4',
          FHIR_CLIENT_ID: 'reminders',
          FHIR_TOKEN_URL: 'https://ehr.example.org/oauth2/token',
        }),
      },
    });
    template.hasOutput('ReceiverUrl', {});
    template.hasOutput('IntakeSecretArn', {});
    const text = JSON.stringify(template.toJSON());
    for (const secret of [...SECRETS, fhirSecret]) expect(text).not.toContain(secret);
  });

  it('on the first deploy, before the flow exists, synthesizes with an empty flow SID', () => {
    const template = synthFromArgs(cdkDeploy(s, stackContext(s, undefined), { root: '/srv/app', baseEnv: {} }).args);
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ TWILIO_FLOW_SID: '' }) } });
  });
});

describe('the cdk destroy command lines', () => {
  const s = settings();

  it('destroys the customer stack without a prompt', () => {
    const d = cdkDestroy(s, { customerCode: 'acme' }, { root: '/srv/app', baseEnv: OPERATOR_ENV });
    expect([d.command, ...d.args]).toEqual([
      'npx',
      '--no-install',
      'cdk',
      'destroy',
      'Appointments-acme',
      '--force',
      '-c',
      'customerCode=acme',
    ]);
    expect(d.env.EHR_API_KEY).toBeUndefined();
  });

  it('with --delete-data, first deploys a stack whose bucket is deleted with it and emptied', () => {
    const template = synthFromArgs(cdkDeploy(s, { customerCode: 'acme', deleteData: 'true' }, { root: '/srv/app', baseEnv: {} }).args);
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 1);
  });
});

describe('the real cdk CLI', () => {
  it('synthesizes the app offline with the deploy’s context through the process runner', async () => {
    const s = settings();
    const deployInvocation = cdkDeploy(s, stackContext(s, FLOW_SID), { root: ROOT, baseEnv: process.env });
    // Same context and environment; `synth` instead of `deploy` (no account here).
    const context = deployInvocation.args.slice(deployInvocation.args.indexOf('-c'));
    const out = path.join(sandbox.dir, 'cli.out');
    const lines: string[] = [];
    const request: ProcessRequest = {
      command: deployInvocation.command,
      args: ['--no-install', 'cdk', 'synth', 'Appointments-acme', '--quiet', '--output', out, ...context],
      cwd: ROOT,
      env: {
        ...deployInvocation.env,
        HOME: path.join(sandbox.dir, 'cli-home'),
        CDK_HOME: path.join(sandbox.dir, 'cli-cdk-home'),
        AWS_ACCESS_KEY_ID: '',
        AWS_SECRET_ACCESS_KEY: '',
        AWS_EC2_METADATA_DISABLED: 'true',
      },
      onLine: (l) => lines.push(l),
    };
    const result = await spawnProcess(request);
    expect(result.code, lines.join('\n')).toBe(0);
    const templateFile = path.join(out, 'Appointments-acme.template.json');
    expect(existsSync(templateFile)).toBe(true);
    const template = Template.fromJSON(JSON.parse(readFileSync(templateFile, 'utf8')) as Record<string, unknown>);
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'appointment-sweep-acme',
      Environment: { Variables: Match.objectLike({ TWILIO_FLOW_SID: FLOW_SID, CUSTOMER_NAME: "Owl Health O'Brien Clinic" }) },
    });
    expect(existsSync(path.join(sandbox.dir, 'cli-cdk-home'))).toBe(true);
  }, 120_000);
});

describe('reading the stack', () => {
  const s = settings();

  it('asks CloudFormation and says when the stack does not exist', async () => {
    const cfn = await startSecretsStandIn({});
    try {
      const requests: ProcessRequest[] = [];
      const target = new CdkAwsTarget(s, {
        root: sandbox.dir,
        baseEnv: {},
        cloudFormationEndpoint: cfn.endpoint,
        run: async (req) => {
          requests.push(req);
          return { code: 0, stdout: '', tail: [] };
        },
      });
      expect(await target.describeStack()).toBeUndefined();
      cfn.stacks.set('Appointments-acme', { status: 'CREATE_COMPLETE', outputs: { BucketName: 'b' } });
      expect(await target.describeStack()).toMatchObject({
        status: 'CREATE_COMPLETE',
        outputs: { BucketName: 'b' },
        source: 'CloudFormation',
      });
      expect(requests).toEqual([]);
    } finally {
      await cfn.close();
    }
  });

  it('bootstraps the account/region once when the CLI says it is not, then deploys', async () => {
    const requests: ProcessRequest[] = [];
    const notes: string[] = [];
    const target = new CdkAwsTarget(s, {
      root: sandbox.dir,
      baseEnv: {},
      run: async (req) => {
        requests.push(req);
        const verb = req.args[2];
        if (verb === 'deploy' && requests.filter((r) => r.args[2] === 'deploy').length === 1) {
          return {
            code: 1,
            stdout: '',
            tail: [
              '',
              'Appointments-acme failed: Error: This stack uses assets, so the toolkit stack must be deployed to the environment (Run "cdk bootstrap aws://123456789012/us-west-2")',
            ],
          };
        }
        if (verb === 'deploy') {
          const file = req.args[req.args.indexOf('--outputs-file') + 1] ?? '';
          mkdirSync(path.dirname(file), { recursive: true });
          writeFileSync(file, JSON.stringify({ 'Appointments-acme': STACK_OUTPUTS }));
        }
        return { code: 0, stdout: '', tail: [] };
      },
    });
    const outputs = await target.deployStack({ customerCode: 'acme' }, (l) => notes.push(l));
    expect(outputs).toEqual(STACK_OUTPUTS);
    expect(requests.map((r) => r.args.slice(2, 3)[0])).toEqual(['deploy', 'bootstrap', 'deploy']);
    expect(requests[1]!.args).toEqual(['--no-install', 'cdk', 'bootstrap', '-c', 'customerCode=acme']);
    expect(requests[1]!.env).toMatchObject({ AWS_ACCESS_KEY_ID: 'AKIADEPLOYER00000001', AWS_REGION: 'us-west-2' });
    expect(notes).toContain('us-west-2 is not bootstrapped for the CDK yet: running `cdk bootstrap` once');
  });

  it('reports a failed cdk deploy with the last lines of its output and the remedy', async () => {
    const target = new CdkAwsTarget(s, {
      root: sandbox.dir,
      baseEnv: {},
      run: async () => ({
        code: 1,
        stdout: '',
        tail: [
          'Appointments-acme: deploying...',
          '',
          'Appointments-acme failed: ValidationError: Stack:arn:aws:cloudformation:us-west-2:1:stack/Appointments-acme is in ROLLBACK_COMPLETE state and can not be updated.',
        ],
      }),
    });
    await expect(target.deployStack({ customerCode: 'acme' }, () => undefined)).rejects.toMatchObject({
      message: expect.stringMatching(/^`cdk deploy Appointments-acme` exited with 1:[\s\S]*ROLLBACK_COMPLETE state/),
      whatToDo: expect.stringContaining('npm run destroy'),
    });
  });
});
