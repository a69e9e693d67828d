import * as path from 'node:path';
import { RemovalPolicy, type Duration, type Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { acknowledgeObjectPatterns, objectAccessStatements, type ObjectAccess } from '../object-access';
import { acknowledge } from './acknowledge';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** How both Lambdas are bundled, with the locally installed esbuild (no Docker). */
const LAMBDA_BUNDLING = {
  format: OutputFormat.CJS,
  target: 'node24',
  // The runtime ships the v3 SDK; bundling it would only add megabytes and cold-start time.
  externalModules: ['@aws-sdk/*'],
  minify: true,
  sourceMap: true,
  forceDockerBundling: false,
};

export interface ScopedLambdaProps {
  /** Physical name of the function, its role and its policy. */
  name: string;
  /** File under lambda/ that exports `handler`. */
  entry: string;
  description: string;
  roleDescription: string;
  policyDescription: string;
  timeout: Duration;
  memorySize: number;
  reservedConcurrentExecutions: number;
  retryAttempts?: number;
  environment: Record<string, string>;
  logRetention: logs.RetentionDays | undefined;
  /** What the log group holds, for the encryption acknowledgment. */
  logs: string;
  bucket: s3.Bucket;
  access: ObjectAccess;
  /** The secrets it reads. */
  secrets: iam.PolicyStatement;
  /** Why it runs outside a VPC and why it needs no dead-letter queue (cdk-nag findings). */
  outsideVpc: string;
  noDeadLetterQueue: string;
}

/**
 * A Lambda with a log group, a role and a customer managed policy of its own: no AWS managed
 * policy (whose logs grant covers every log group) and no inline policy. Its resources are added to
 * the stack itself under `<id>`, `<id>Logs`, `<id>Role` and `<id>Access`, not below a construct of
 * their own, so the logical ids of deployed stacks stay what they were.
 */
export class ScopedLambda {
  readonly fn: NodejsFunction;
  readonly logGroup: logs.LogGroup;
  readonly role: iam.Role;
  readonly policy: iam.ManagedPolicy;

  constructor(stack: Stack, id: string, props: ScopedLambdaProps) {
    this.logGroup = new logs.LogGroup(stack, `${id}Logs`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledge(this.logGroup, [
      [
        'HIPAA.Security::HIPAA.Security-CloudWatchLogGroupEncrypted',
        `CloudWatch Logs encrypts log data at rest by default, and ${props.logs}, never names, phones or message bodies (src/log.ts)`,
      ],
    ]);
    this.role = new iam.Role(stack, `${id}Role`, {
      roleName: props.name,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: props.roleDescription,
    });
    this.fn = new NodejsFunction(stack, id, {
      functionName: props.name,
      description: props.description,
      entry: path.join(REPO_ROOT, 'lambda', props.entry),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      // The newest Node.js aws-cdk-lib knows; the handler is async, as Node.js 24 requires.
      runtime: lambda.Runtime.NODEJS_24_X,
      role: this.role,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout,
      memorySize: props.memorySize,
      ...(props.retryAttempts !== undefined ? { retryAttempts: props.retryAttempts } : {}),
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      logGroup: this.logGroup,
      environment: props.environment,
      bundling: LAMBDA_BUNDLING,
    });
    this.policy = new iam.ManagedPolicy(stack, `${id}Access`, {
      managedPolicyName: props.name,
      description: props.policyDescription,
      statements: [
        ...objectAccessStatements(props.bucket, props.access),
        props.secrets,
        new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [this.logGroup.logGroupArn] }),
      ],
      roles: [this.role],
    });
    acknowledgeObjectPatterns(this.policy, props.bucket, props.access);
    acknowledge(this.fn, [
      ['HIPAA.Security::HIPAA.Security-LambdaInsideVPC', props.outsideVpc],
      ['HIPAA.Security::HIPAA.Security-LambdaDLQ', props.noDeadLetterQueue],
    ]);
  }
}
