import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { HeadBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { TwilioSecret } from '../../../src/config/rules';
import { FUNCTIONS_KEY_SLOTS, functionsKeyNames, type FunctionsKeySlot } from '../../../infra/key-slots';
import { cdkBootstrap, cdkDeploy, cdkDestroy, outputsFile, type CdkInvocation } from './cdk';
import type { ProcessRunner } from './process-runner';
import { ActionableError } from './report';
import type { TargetSettings } from './settings';

/** The stack outputs the deploy needs (infra/stack.ts declares them). */
export const StackOutputs = z.object({
  BucketName: z.string().min(3),
  Region: z.string().min(1),
  SweepFunctionName: z.string().min(1),
  TwilioSecretArn: z.string().startsWith('arn:'),
  // Per key slot (infra/key-slots.ts): slot a's, slot b's, or both during a rotation.
  FunctionsAccessKeyId: z.string().min(16).optional(),
  FunctionsAccessKeySecretArn: z.string().startsWith('arn:').optional(),
  FunctionsAccessKeyIdB: z.string().min(16).optional(),
  FunctionsAccessKeySecretArnB: z.string().startsWith('arn:').optional(),
  /** Absent on stacks from before key slots: they have slot a. */
  FunctionsKeySlots: z.string().optional(),
  FunctionsUserName: z.string().optional(),
  /** Only with RAW_RECEIVER=true. */
  ReceiverUrl: z.url().optional(),
  IntakeSecretArn: z.string().startsWith('arn:').optional(),
});
export type StackOutputs = z.infer<typeof StackOutputs>;

/** One of the Functions' access keys as the stack outputs name it. */
export interface FunctionsKeyRef {
  slot: FunctionsKeySlot;
  accessKeyId: string;
  secretArn: string;
}

/** The key slots a stack has, in the order the stack lists them. */
export function functionsKeySlotsOf(outputs: Partial<StackOutputs>): FunctionsKeySlot[] {
  const listed = (outputs.FunctionsKeySlots ?? 'a').split(',').map((k) => k.trim());
  return FUNCTIONS_KEY_SLOTS.filter((k) => listed.includes(k));
}

export function functionsKeysOf(outputs: Partial<StackOutputs>): FunctionsKeyRef[] {
  const all = outputs as Record<string, string | undefined>;
  return functionsKeySlotsOf(outputs).flatMap((slot) => {
    const names = functionsKeyNames(slot);
    const accessKeyId = all[names.idOutput];
    const secretArn = all[names.secretOutput];
    return accessKeyId && secretArn ? [{ slot, accessKeyId, secretArn }] : [];
  });
}

/** The JSON the deploy writes into the Twilio secret: the schema the sweep reads it with (src/config/rules.ts). */
export type TwilioSecretValue = TwilioSecret & { ie_signing_secret: string };

export interface FunctionsKey {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface StackDescription {
  name: string;
  /** CloudFormation's status (CREATE_COMPLETE, UPDATE_ROLLBACK_COMPLETE, …), or unknown. */
  status: string;
  outputs: Partial<StackOutputs>;
  /** Where the answer came from, for the status report. */
  source: string;
}

/** The AWS half of the operator commands; tests replace it, or its process runner. */
export interface AwsTarget {
  deployStack(context: Record<string, string>, onLine: (line: string) => void): Promise<StackOutputs>;
  destroyStack(context: Record<string, string>, onLine: (line: string) => void): Promise<void>;
  describeStack(): Promise<StackDescription | undefined>;
  /** Writes the secret unless it already holds exactly this value. */
  putTwilioSecret(arn: string, value: TwilioSecretValue): Promise<'updated' | 'unchanged'>;
  /** The receiver's intake secret (fields named as the variables: EHR_API_KEY, FHIR_BEARER_TOKEN, FHIR_CLIENT_SECRET). */
  putIntakeSecret(arn: string, value: Record<string, string>): Promise<'updated' | 'unchanged'>;
  readFunctionsKey(arn: string): Promise<FunctionsKey>;
  /** Proves the key works for the Functions: the bucket answers a HEAD and a one-key listing. */
  checkFunctionsKey(key: FunctionsKey, bucket: string, region: string): Promise<void>;
}

export interface CdkAwsOptions {
  root: string;
  run: ProcessRunner;
  /** The operator's environment (the child processes start from it). */
  baseEnv: Record<string, string | undefined>;
  /** Secrets Manager endpoint, for tests against a local fake. */
  secretsEndpoint?: string;
  /** CloudFormation endpoint, for tests against a local fake. */
  cloudFormationEndpoint?: string;
  /** S3 endpoint for checking the Functions' key, for tests against a local fake. */
  s3Endpoint?: string;
}

/** What the CLI says when the toolkit stack is missing (asset-using stacks need it). */
const NOT_BOOTSTRAPPED = /cdk bootstrap|been bootstrapped|toolkit stack must be deployed/i;

function failed(invocation: CdkInvocation, tail: string[], code: number): string {
  const [verb, name] = invocation.args.slice(2);
  const command = `cdk ${verb ?? ''}${name && !name.startsWith('-') ? ` ${name}` : ''}`;
  const last = tail
    .filter((l) => l.trim() !== '')
    .slice(-6)
    .join('\n        ');
  return `\`${command}\` exited with ${code}${last ? `:\n        ${last}` : ''}`;
}

/** Deploys with the `cdk` CLI (as `npx cdk` would by hand) and reads secrets with the SDK. */
export class CdkAwsTarget implements AwsTarget {
  private readonly secrets: SecretsManagerClient;
  private readonly cloudFormation: CloudFormationClient;

  constructor(
    private readonly target: TargetSettings,
    private readonly opts: CdkAwsOptions,
  ) {
    const aws = target.aws;
    const common = {
      region: target.region,
      ...(aws.accessKeyId && aws.secretAccessKey
        ? {
            credentials: {
              accessKeyId: aws.accessKeyId,
              secretAccessKey: aws.secretAccessKey,
              ...(aws.sessionToken ? { sessionToken: aws.sessionToken } : {}),
            },
          }
        : {}),
      ...(aws.profile ? { profile: aws.profile } : {}),
    };
    this.secrets = new SecretsManagerClient({ ...common, ...(opts.secretsEndpoint ? { endpoint: opts.secretsEndpoint } : {}) });
    this.cloudFormation = new CloudFormationClient({
      ...common,
      ...(opts.cloudFormationEndpoint ? { endpoint: opts.cloudFormationEndpoint } : {}),
    });
  }

  async deployStack(context: Record<string, string>, onLine: (line: string) => void): Promise<StackOutputs> {
    const file = outputsFile(this.opts.root, this.target.customerCode);
    mkdirSync(path.dirname(file), { recursive: true });
    const opts = { root: this.opts.root, baseEnv: this.opts.baseEnv };
    const invocation = cdkDeploy(this.target, context, opts);
    let result = await this.opts.run({ ...invocation, cwd: this.opts.root, onLine });
    // A first deploy in an account/region needs the CDK's toolkit stack; one command does that too.
    if (result.code !== 0 && result.tail.some((l) => NOT_BOOTSTRAPPED.test(l))) {
      onLine(`${this.target.region} is not bootstrapped for the CDK yet: running \`cdk bootstrap\` once`);
      const bootstrap = cdkBootstrap(this.target, context, opts);
      const prepared = await this.opts.run({ ...bootstrap, cwd: this.opts.root, onLine });
      if (prepared.code !== 0) {
        throw new ActionableError(
          failed(bootstrap, prepared.tail, prepared.code),
          'the AWS credentials must be allowed to create the CDKToolkit stack (an administrator can run `npx cdk bootstrap` once); then run `npm run deploy` again',
        );
      }
      result = await this.opts.run({ ...invocation, cwd: this.opts.root, onLine });
    }
    if (result.code !== 0) {
      throw new ActionableError(
        failed(invocation, result.tail, result.code),
        'read the CDK messages above. Credentials refused? Check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE and that they may deploy CloudFormation stacks. Stack in *_ROLLBACK_COMPLETE? Delete it with `npm run destroy` first. Then run `npm run deploy` again.',
      );
    }
    return this.readOutputs(file);
  }

  private readOutputs(file: string): StackOutputs {
    if (!existsSync(file)) throw new Error(`cdk finished but wrote no outputs file at ${file}`);
    const all = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const parsed = StackOutputs.safeParse(all[this.target.stackName]);
    if (!parsed.success) {
      throw new Error(
        `the outputs of ${this.target.stackName} lack ${parsed.error.issues.map((i) => String(i.path[0])).join(', ')} (infra/stack.ts and the deploy disagree)`,
      );
    }
    return parsed.data;
  }

  async destroyStack(context: Record<string, string>, onLine: (line: string) => void): Promise<void> {
    const invocation = cdkDestroy(this.target, context, { root: this.opts.root, baseEnv: this.opts.baseEnv });
    const result = await this.opts.run({ ...invocation, cwd: this.opts.root, onLine });
    if (result.code !== 0) {
      throw new ActionableError(
        failed(invocation, result.tail, result.code),
        'read the CDK messages above (a stack stuck in *_IN_PROGRESS must settle first), then run `npm run destroy` again',
      );
    }
    // The saved outputs describe a stack that is gone now.
    rmSync(outputsFile(this.opts.root, this.target.customerCode), { force: true });
  }

  /**
   * The stack as CloudFormation describes it; when CloudFormation cannot be asked (no credentials,
   * offline), the outputs the last deploy from this machine saved. Undefined only when
   * CloudFormation says the stack does not exist; without an answer the status is `unknown`.
   */
  async describeStack(): Promise<StackDescription | undefined> {
    let why: string;
    try {
      const res = await this.cloudFormation.send(new DescribeStacksCommand({ StackName: this.target.stackName }));
      const stack = res.Stacks?.[0];
      if (!stack) return undefined;
      return {
        name: stack.StackName ?? this.target.stackName,
        status: stack.StackStatus ?? 'unknown',
        outputs: Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? ''])),
        source: 'CloudFormation',
      };
    } catch (err) {
      const e = err as { name?: string; message?: string };
      if (e.name === 'ValidationError' && /does not exist/.test(e.message ?? '')) return undefined;
      why = `CloudFormation could not be asked (${e.name ?? 'error'})`;
    }
    const file = outputsFile(this.opts.root, this.target.customerCode);
    const saved = existsSync(file)
      ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, Partial<StackOutputs> | undefined>)[this.target.stackName]
      : undefined;
    if (saved) {
      return {
        name: this.target.stackName,
        status: 'unknown',
        outputs: saved,
        source: `${why}; outputs of the last deploy from this machine (${path.relative(this.opts.root, file)})`,
      };
    }
    return {
      name: this.target.stackName,
      status: 'unknown',
      outputs: {},
      source: `not checked: ${why}, and no outputs of an earlier deploy on this machine`,
    };
  }

  putTwilioSecret(arn: string, value: TwilioSecretValue): Promise<'updated' | 'unchanged'> {
    // Checked with the reader's schema before anything is written, so the sweep never finds a secret it refuses.
    const checked = TwilioSecret.safeParse(value);
    if (!checked.success)
      throw new Error(
        `the Twilio secret would be invalid (${checked.error.issues.map((i) => i.path.join('.')).join(', ')}); check TWILIO_ACCOUNT_SID, TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET`,
      );
    return this.putJsonSecret(arn, checked.data);
  }

  putIntakeSecret(arn: string, value: Record<string, string>): Promise<'updated' | 'unchanged'> {
    return this.putJsonSecret(arn, value);
  }

  private async putJsonSecret(arn: string, value: object): Promise<'updated' | 'unchanged'> {
    const wanted = JSON.stringify(value);
    try {
      const current = await this.secrets.send(new GetSecretValueCommand({ SecretId: arn }));
      if (current.SecretString === wanted) return 'unchanged';
    } catch (err) {
      if (!(err instanceof ResourceNotFoundException)) throw err;
    }
    await this.secrets.send(new PutSecretValueCommand({ SecretId: arn, SecretString: wanted }));
    return 'updated';
  }

  async readFunctionsKey(arn: string): Promise<FunctionsKey> {
    const res = await this.secrets.send(new GetSecretValueCommand({ SecretId: arn }));
    const parsed = z
      .object({ AWS_ACCESS_KEY_ID: z.string().min(16), AWS_SECRET_ACCESS_KEY: z.string().min(16) })
      .safeParse(JSON.parse(res.SecretString ?? '{}'));
    if (!parsed.success) throw new Error(`the secret ${arn} does not hold AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`);
    return { accessKeyId: parsed.data.AWS_ACCESS_KEY_ID, secretAccessKey: parsed.data.AWS_SECRET_ACCESS_KEY };
  }

  async checkFunctionsKey(key: FunctionsKey, bucket: string, region: string): Promise<void> {
    const s3 = new S3Client({
      region,
      credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
      // One attempt per call: the caller waits and asks again while IAM propagates a new key.
      maxAttempts: 1,
      ...(this.opts.s3Endpoint ? { endpoint: this.opts.s3Endpoint, forcePathStyle: true } : {}),
    });
    try {
      await s3.send(new HeadBucketCommand({ Bucket: bucket }));
      await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1 }));
    } finally {
      s3.destroy();
    }
  }
}
