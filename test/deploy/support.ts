import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { LocalClock } from '../../src/local/clock';
import { Carrier } from '../../src/local/phones/carrier';
import { StudioEngine } from '../../src/local/studio/engine';
import { createStudioRouter } from '../../src/local/studio/router';
import { createMessagingRouter } from '../../src/local/twilio/messaging-router';
import { createMessagingServicesRouter } from '../../src/local/twilio/messaging-services-router';
import type { StandInCredentials } from '../../src/local/twilio/rest';
import { LocalServerless } from '../../src/local/twilio/serverless';
import { createServerlessRouter, createServerlessUploadRouter } from '../../src/local/twilio/serverless-router';
import { LocalVerify } from '../../src/local/twilio/verify';
import { createVerifyRouter } from '../../src/local/twilio/verify-router';
import { CdkAwsTarget } from '../../scripts/lib/deploy/aws';
import type { CommandDeps } from '../../scripts/lib/deploy/common';
import type { ProcessRequest, ProcessResult, ProcessRunner } from '../../scripts/lib/deploy/process-runner';
import { TwilioDeployTarget } from '../../scripts/lib/deploy/twilio';
import { listen, type Listening } from '../local/helpers';
import { assertConformance } from '../contract/conformance';
import { recordExchanges, type Exchange } from '../contract/exchange-recorder';
import { FIXTURE_NOW } from '../fixtures/time';

export const ACCOUNT_SID = `AC${'3c'.repeat(16)}`;
export const AUTH_TOKEN = 'e'.repeat(32);
export const API_KEY_SID = `SK${'5d'.repeat(16)}`;
export const API_KEY_SECRET = 'Zs8yQk2fV7rT1pLw9xN4bH6cJ3mD0aGe';
export const TWILIO_NUMBER = '+14155550100';
export const OTHER_WEBHOOK = 'https://demo.twilio.com/welcome/sms/reply';

/** A complete, valid `.env` for customer `acme` (every secret distinct and recognisable in output). */
export function validEnv(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    TWILIO_API_KEY_SID: API_KEY_SID,
    TWILIO_API_KEY_SECRET: API_KEY_SECRET,
    TWILIO_PHONE_NUMBER: TWILIO_NUMBER,
    CUSTOMER_CODE: 'acme',
    CUSTOMER_NAME: "Owl Health O'Brien Clinic",
    EHR_API_KEY: 'ehr-key-0123456789abcdef0123456789',
    IE_ENDPOINT: 'https://ehr.example.org/twilio/requests',
    IE_SIGNING_SECRET: 'ie-signing-0123456789abcdef01234567',
    APPLICATION_PASSWORD: 'correct horse battery staple',
    ADMINISTRATOR_PHONE: '+14155550199',
    ALARM_EMAIL: 'alarms@owlhealth.example',
    AWS_REGION: 'us-west-2',
    AWS_ACCESS_KEY_ID: 'AKIADEPLOYER00000001',
    AWS_SECRET_ACCESS_KEY: 'deployer/secret/key/0123456789abcdefABCD',
    REMINDER_FIRST_TIMING: '7200',
    REMINDER_OUTREACH_START: '0800',
    REMINDER_OUTREACH_FINISH: '2000',
    ...overrides,
  };
}

/** Every secret of validEnv(), to prove none of them is printed or put on a command line. */
export const SECRETS = ['TWILIO_API_KEY_SECRET', 'EHR_API_KEY', 'IE_SIGNING_SECRET', 'APPLICATION_PASSWORD', 'AWS_SECRET_ACCESS_KEY'].map(
  (k) => validEnv()[k] as string,
);

export interface TwilioStandIn {
  url: string;
  /** `<url>/__twilio`: what the deploy's clients are pointed at. */
  apiBaseUrl: string;
  serverless: LocalServerless;
  studio: StudioEngine;
  carrier: Carrier;
  verify: LocalVerify;
  numberSid: string;
  /** Every request that reached the stand-in, `METHOD /path`. */
  requests: string[];
  /** Every exchange in full; close() checks them against Twilio's OpenAPI specs. */
  exchanges: Exchange[];
  close(): Promise<void>;
}

/** Messages/IncomingPhoneNumbers, Studio, Verify and Serverless on loopback, as the local stack mounts them. */
/** `buildMs`: how long a Serverless build takes on the stand-in's clock (default 200 ms, so a deploy sees `building` once). */
export async function startTwilioStandIn(options: { buildMs?: number } = {}): Promise<TwilioStandIn> {
  const clock = new LocalClock({ startAt: FIXTURE_NOW });
  const credentials: StandInCredentials = {
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    apiKeys: [{ sid: API_KEY_SID, secret: API_KEY_SECRET }],
  };
  const carrier = new Carrier({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, clock });
  const studio = new StudioEngine({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, messages: carrier, clock });
  carrier.studio = studio;
  const verify = new LocalVerify({ accountSid: ACCOUNT_SID, sender: carrier, from: TWILIO_NUMBER, clock });
  const serverless = new LocalServerless({ accountSid: ACCOUNT_SID, clock, buildMs: options.buildMs ?? 200 });
  const numberSid = carrier.addNumber(TWILIO_NUMBER, { smsUrl: OTHER_WEBHOOK });
  const requests: string[] = [];
  const exchanges: Exchange[] = [];
  const app = express();
  const api = express.Router();
  api.use((req, _res, next) => {
    requests.push(`${req.method} ${req.originalUrl.split('?')[0]}`);
    next();
  });
  api.use(recordExchanges(exchanges));
  api.use(
    '/api',
    createMessagingRouter(carrier, () => credentials),
  );
  api.use(
    '/messaging',
    createMessagingServicesRouter(carrier, () => credentials),
  );
  api.use(
    '/studio',
    createStudioRouter(studio, () => credentials),
  );
  api.use(
    '/verify',
    createVerifyRouter(verify, () => credentials),
  );
  api.use(
    '/serverless',
    createServerlessRouter(serverless, () => credentials),
  );
  api.use(
    '/serverless-upload',
    createServerlessUploadRouter(serverless, () => credentials),
  );
  app.use('/__twilio', api);
  const server: Listening = await listen(app);
  return {
    url: server.url,
    apiBaseUrl: `${server.url}/__twilio`,
    serverless,
    studio,
    carrier,
    verify,
    numberSid,
    requests,
    exchanges,
    close: async () => {
      await server.close();
      assertConformance(exchanges, 'Twilio stand-in of the deploy tests');
    },
  };
}

/** A Secrets Manager stand-in speaking the SDK's JSON protocol (GetSecretValue, PutSecretValue). */
/** The AWS APIs the deploy reads: Secrets Manager (JSON protocol) and CloudFormation DescribeStacks (query protocol). */
export interface SecretsStandIn {
  endpoint: string;
  values: Map<string, string>;
  /** CloudFormation stacks by name. */
  stacks: Map<string, { status: string; outputs: Record<string, string> }>;
  writes: { arn: string; value: string }[];
  /** IAM's live access keys (id → secret); S3 answers only requests signed with one of them. */
  iamKeys: Map<string, string>;
  /** Access key ids of the S3 requests, in order. */
  s3Requests: string[];
  close(): Promise<void>;
}

export async function startSecretsStandIn(initial: Record<string, string>): Promise<SecretsStandIn> {
  const values = new Map(Object.entries(initial));
  const writes: { arn: string; value: string }[] = [];
  const stacks = new Map<string, { status: string; outputs: Record<string, string> }>();
  const iamKeys = new Map<string, string>([[STACK_OUTPUTS.FunctionsAccessKeyId, FUNCTIONS_SECRET_KEY]]);
  const s3Requests: string[] = [];
  const app = express();
  // S3, path style, as the Functions' key check uses it: HeadBucket and a one-key ListObjectsV2.
  // Only the access key id of the signature is checked (against IAM's live keys), not the signature.
  app.use('/:bucket', (req, res, next) => {
    if (req.method !== 'HEAD' && req.method !== 'GET') return next();
    const keyId = /Credential=([A-Z0-9]+)\//.exec(String(req.headers.authorization ?? ''))?.[1] ?? '';
    s3Requests.push(keyId);
    if (!iamKeys.has(keyId))
      return res
        .status(403)
        .type('application/xml')
        .send(
          '<Error><Code>InvalidAccessKeyId</Code><Message>The AWS Access Key Id you provided does not exist in our records.</Message></Error>',
        );
    if (req.params.bucket !== STACK_OUTPUTS.BucketName)
      return res.status(404).type('application/xml').send('<Error><Code>NoSuchBucket</Code></Error>');
    if (req.method === 'HEAD') return res.status(200).end();
    return res
      .type('application/xml')
      .send(
        `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>${STACK_OUTPUTS.BucketName}</Name><KeyCount>0</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`,
      );
  });
  app.post('/', express.urlencoded({ extended: false, type: 'application/x-www-form-urlencoded' }), (req, res, next) => {
    const form = req.body as Record<string, string>;
    if (form.Action !== 'DescribeStacks') return next();
    const xml = (body: string) => res.type('text/xml').send(`<?xml version="1.0"?>\n${body}`);
    const stack = stacks.get(form.StackName ?? '');
    if (!stack) {
      res.status(400);
      return xml(
        `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id ${form.StackName} does not exist</Message></Error><RequestId>r1</RequestId></ErrorResponse>`,
      );
    }
    const outputs = Object.entries(stack.outputs)
      .map(([k, v]) => `<member><OutputKey>${k}</OutputKey><OutputValue>${v}</OutputValue></member>`)
      .join('');
    return xml(
      `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackName>${form.StackName}</StackName><StackStatus>${stack.status}</StackStatus><CreationTime>2026-11-25T00:00:00Z</CreationTime><Outputs>${outputs}</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>r2</RequestId></ResponseMetadata></DescribeStacksResponse>`,
    );
  });
  app.use(express.json({ type: () => true }));
  app.post('/', (req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const body = req.body as { SecretId?: string; SecretString?: string };
    const arn = body.SecretId ?? '';
    if (!values.has(arn)) {
      res
        .status(400)
        .set('x-amzn-errortype', 'ResourceNotFoundException')
        .json({ __type: 'ResourceNotFoundException', message: 'Secrets Manager can’t find the specified secret.' });
      return;
    }
    if (target.endsWith('.GetSecretValue')) {
      res.json({
        ARN: arn,
        Name: arn.split(':').at(-1),
        SecretString: values.get(arn),
        VersionId: 'v1',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 1_700_000_000,
      });
    } else if (target.endsWith('.PutSecretValue')) {
      values.set(arn, body.SecretString ?? '');
      writes.push({ arn, value: body.SecretString ?? '' });
      res.json({ ARN: arn, Name: arn.split(':').at(-1), VersionId: `v${writes.length + 1}`, VersionStages: ['AWSCURRENT'] });
    } else {
      res.status(400).json({ __type: 'InvalidRequestException', message: `not supported here: ${target}` });
    }
  });
  const server = await listen(app);
  return { endpoint: server.url, values, stacks, writes, iamKeys, s3Requests, close: () => server.close() };
}

export const STACK_OUTPUTS = {
  BucketName: 'appointments-acme-123456789012-us-west-2',
  Region: 'us-west-2',
  SweepFunctionName: 'appointment-sweep-acme',
  TwilioSecretArn: 'arn:aws:secretsmanager:us-west-2:123456789012:secret:appointments-acme/twilio-AbCdEf',
  FunctionsAccessKeyId: 'AKIAFUNCTIONS0000001',
  FunctionsAccessKeySecretArn: 'arn:aws:secretsmanager:us-west-2:123456789012:secret:appointments-acme/functions-s3-key-GhIjKl',
  FunctionsKeySlots: 'a',
  FunctionsUserName: 'appointments-functions-acme',
};
/** Where the fake CDK keeps slot b's key (slot a's is STACK_OUTPUTS.FunctionsAccessKeySecretArn). */
export const SLOT_B_SECRET_ARN = 'arn:aws:secretsmanager:us-west-2:123456789012:secret:appointments-acme/functions-s3-key-b-MnOpQr';
export const FUNCTIONS_SECRET_KEY = 'functions/secret/key/abcdefghijklmnopqrst';
export const INTAKE_SECRET_ARN = 'arn:aws:secretsmanager:us-west-2:123456789012:secret:appointments-acme/intake-StUvWx';
export const RECEIVER_URL = 'https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-west-2.on.aws/';

/**
 * The process boundary: records every command and plays the CDK's part (writes the outputs file
 * `cdk deploy` was asked for). `aws` is "not installed" unless told otherwise.
 */
export class FakeProcesses {
  readonly requests: ProcessRequest[] = [];
  /** Exit code of the next `cdk` command (then back to 0). */
  failNextCdk: number | undefined;
  /** Fails the n-th `cdk` command (1-based) with exit code 1. */
  failCdkCall: number | undefined;
  awsCli: ((req: ProcessRequest) => ProcessResult) | undefined;
  /** CloudFormation's view, kept in step with what the fake `cdk` deploys and destroys. */
  stacks: Map<string, { status: string; outputs: Record<string, string> }> | undefined;
  /** The AWS stand-in whose secrets and IAM keys the fake CDK creates and deletes, as CloudFormation would. */
  aws: SecretsStandIn | undefined;
  /** The Functions' keys the stack has, by slot (slot a's exists from the start, like freshSecrets' secret). */
  readonly functionsKeys = new Map<string, { id: string; secret: string }>([
    ['a', { id: STACK_OUTPUTS.FunctionsAccessKeyId, secret: FUNCTIONS_SECRET_KEY }],
  ]);
  private keysMade = 0;

  readonly run: ProcessRunner = async (req) => {
    this.requests.push(req);
    if (req.command === 'aws') {
      if (!this.awsCli) throw Object.assign(new Error('spawn aws ENOENT'), { code: 'ENOENT' });
      return this.awsCli(req);
    }
    if (this.failCdkCall !== undefined && this.cdk().length === this.failCdkCall) this.failNextCdk = 1;
    if (this.failNextCdk !== undefined) {
      const code = this.failNextCdk;
      this.failNextCdk = undefined;
      req.onLine?.('❌  Appointments-acme failed: AccessDenied: User is not authorized to perform: cloudformation:CreateChangeSet');
      return {
        code,
        stdout: '',
        tail: ['❌  Appointments-acme failed: AccessDenied: User is not authorized to perform: cloudformation:CreateChangeSet'],
      };
    }
    const verb = req.args[2];
    if (verb === 'deploy') {
      const outputs = { ...this.deployKeys(req.args), ...this.deployReceiver(req.args) };
      const file = req.args[req.args.indexOf('--outputs-file') + 1] ?? '';
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify({ 'Appointments-acme': outputs }, null, 2));
      this.stacks?.set('Appointments-acme', { status: 'UPDATE_COMPLETE', outputs: { ...outputs } });
      req.onLine?.('✅  Appointments-acme');
    }
    if (verb === 'destroy') this.stacks?.delete('Appointments-acme');
    return { code: 0, stdout: '', tail: [] };
  };

  /**
   * CloudFormation's part for the key slots of `-c functionsKeys=…` (default a): a new slot gets a
   * new IAM key and its secret, a dropped slot's key is deleted; the outputs name the slots' keys.
   */
  private deployKeys(args: string[]): Record<string, string> {
    const pair = args.find((a, i) => args[i - 1] === '-c' && a.startsWith('functionsKeys='));
    const slots = (pair?.slice('functionsKeys='.length) ?? 'a').split(',');
    const secretArn = (slot: string) => (slot === 'a' ? STACK_OUTPUTS.FunctionsAccessKeySecretArn : SLOT_B_SECRET_ARN);
    for (const [slot, key] of [...this.functionsKeys]) {
      if (slots.includes(slot)) continue;
      this.functionsKeys.delete(slot);
      this.aws?.iamKeys.delete(key.id);
      this.aws?.values.delete(secretArn(slot));
    }
    for (const slot of slots) {
      if (this.functionsKeys.has(slot)) continue;
      this.keysMade += 1;
      const key = {
        id: `AKIAROTATED${slot.toUpperCase()}${String(this.keysMade).padStart(8, '0')}`,
        secret: `rotated/secret/${slot}/${this.keysMade}/abcdefghijklmnop`,
      };
      this.functionsKeys.set(slot, key);
      this.aws?.iamKeys.set(key.id, key.secret);
      this.aws?.values.set(secretArn(slot), JSON.stringify({ AWS_ACCESS_KEY_ID: key.id, AWS_SECRET_ACCESS_KEY: key.secret }));
    }
    const { FunctionsAccessKeyId: _id, FunctionsAccessKeySecretArn: _arn, ...base } = STACK_OUTPUTS;
    const outputs: Record<string, string> = { ...base, FunctionsKeySlots: slots.join(',') };
    for (const slot of slots) {
      const suffix = slot === 'a' ? '' : 'B';
      outputs[`FunctionsAccessKeyId${suffix}`] = this.functionsKeys.get(slot)?.id ?? '';
      outputs[`FunctionsAccessKeySecretArn${suffix}`] = secretArn(slot);
    }
    return outputs;
  }

  /** With `-c RAW_RECEIVER=true`, CloudFormation's part for the receiver: its intake secret (a generated key) and outputs. */
  private deployReceiver(args: string[]): Record<string, string> {
    if (!args.includes('RAW_RECEIVER=true')) return {};
    if (!this.aws?.values.has(INTAKE_SECRET_ARN))
      this.aws?.values.set(INTAKE_SECRET_ARN, JSON.stringify({ EHR_API_KEY: 'generated-by-secrets-manager' }));
    return { ReceiverUrl: RECEIVER_URL, IntakeSecretArn: INTAKE_SECRET_ARN };
  }

  cdk(verb?: string): ProcessRequest[] {
    return this.requests.filter((r) => r.command === 'npx' && (verb === undefined || r.args[2] === verb));
  }
}

export interface Harness {
  deps: CommandDeps;
  output: string[];
  processes: FakeProcesses;
  twilioCalls: number;
  awsCalls: number;
  root: string;
}

/** The operator commands wired as in production, except Twilio is the stand-in, and AWS is the fake process runner plus the Secrets Manager stand-in. */
export function harness(
  env: Record<string, string | undefined>,
  twilio: TwilioStandIn,
  secrets: SecretsStandIn,
  root = mkdtempSync(path.join(os.tmpdir(), 'pam-deploy-')),
): Harness {
  const processes = new FakeProcesses();
  processes.stacks = secrets.stacks;
  processes.aws = secrets;
  const h: Harness = {
    output: [],
    processes,
    twilioCalls: 0,
    awsCalls: 0,
    root,
    deps: {
      env,
      root,
      out: (line) => h.output.push(line),
      twilio: (s) => {
        h.twilioCalls += 1;
        return new TwilioDeployTarget({ ...s.twilio, apiBaseUrl: twilio.apiBaseUrl });
      },
      aws: (s) => {
        h.awsCalls += 1;
        return new CdkAwsTarget(s, {
          root,
          run: processes.run,
          baseEnv: { PATH: '/usr/bin:/bin', HOME: '/home/operator' },
          secretsEndpoint: secrets.endpoint,
          cloudFormationEndpoint: secrets.endpoint,
          s3Endpoint: secrets.endpoint,
        });
      },
      hasSharedAwsConfig: false,
    },
  };
  return h;
}
