import * as path from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, SecretValue, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';

const REPO_ROOT = path.resolve(__dirname, '..');

/** Reminder settings in the reference app's HHMM spelling, handed to the sweep unchanged. */
export interface ReminderSettings {
  firstTiming: string;
  secondTiming: string;
  outreachStart: string;
  outreachFinish: string;
}

export const DEFAULT_REMINDER_SETTINGS: ReminderSettings = {
  firstTiming: '4800',
  secondTiming: '2400',
  outreachStart: '0000',
  outreachFinish: '2400',
};

/** JSON fields of the Twilio credentials secret; the deploy step writes them, the sweep reads them. */
export const TWILIO_SECRET_FIELDS = ['account_sid', 'api_key_sid', 'api_key_secret'] as const;

export interface AppointmentStackProps extends StackProps {
  /** Suffix of every named resource, so several clinics can share an account. */
  customerCode: string;
  /** Let `cdk destroy` delete the bucket and every object in it. Default false: the bucket is retained. */
  deleteDataOnDestroy?: boolean;
  /** When the sweep runs. Default every 15 minutes. */
  sweepSchedule?: events.Schedule;
  /** Default 5 minutes. */
  sweepTimeout?: Duration;
  /** MiB; default 1024. */
  sweepMemorySize?: number;
  reminders?: Partial<ReminderSettings>;
  twilioFlowSid?: string;
  twilioPhoneNumber?: string;
  /** More variables for the sweep (e.g. LOG_LEVEL, DEFAULT_PHONE_COUNTRY, CUSTOMER_NAME). */
  sweepEnvironment?: Record<string, string>;
  /** How long overwritten state versions are kept. Default 30 days. */
  noncurrentVersionRetention?: Duration;
  /** Default one month. */
  logRetention?: logs.RetentionDays;
}

const CUSTOMER_CODE = /^[a-z0-9](?:[a-z0-9-]{0,18}[a-z0-9])?$/;
const HHMM = /^(\d{2})([0-5]\d)$/;
// Lambda refuses these at deploy time; failing at synth says which one and why.
const RESERVED_ENV = /^(AWS_REGION|AWS_DEFAULT_REGION|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|AWS_EXECUTION_ENV|AWS_LAMBDA_\w+|_HANDLER|_X_AMZN_TRACE_ID|LAMBDA_TASK_ROOT|LAMBDA_RUNTIME_DIR)$/;

function problemsWith(props: AppointmentStackProps, reminders: ReminderSettings): string[] {
  const problems: string[] = [];
  if (!CUSTOMER_CODE.test(props.customerCode)) {
    problems.push(`customer code "${props.customerCode}" must be 1-20 lowercase letters, digits or inner hyphens (it becomes part of the bucket name)`);
  }
  const hhmm: [string, string, number][] = [
    ['REMINDER_FIRST_TIMING', reminders.firstTiming, 30 * 24 * 60],
    ['REMINDER_SECOND_TIMING', reminders.secondTiming, 30 * 24 * 60],
    ['REMINDER_OUTREACH_START', reminders.outreachStart, 24 * 60],
    ['REMINDER_OUTREACH_FINISH', reminders.outreachFinish, 24 * 60],
  ];
  for (const [name, value, max] of hhmm) {
    const m = HHMM.exec(value);
    if (!m || Number(m[1]) * 60 + Number(m[2]) > max) problems.push(`${name} "${value}" is not HHMM within range`);
  }
  if (props.twilioFlowSid && !/^FW[0-9a-f]{32}$/i.test(props.twilioFlowSid)) {
    problems.push(`TWILIO_FLOW_SID "${props.twilioFlowSid}" is not a Studio Flow SID (FW followed by 32 hex digits)`);
  }
  if (props.twilioPhoneNumber && !/^\+[1-9]\d{6,14}$/.test(props.twilioPhoneNumber)) {
    problems.push(`TWILIO_PHONE_NUMBER "${props.twilioPhoneNumber}" is not E.164 (e.g. +14155550100)`);
  }
  for (const key of Object.keys(props.sweepEnvironment ?? {})) {
    if (RESERVED_ENV.test(key)) problems.push(`${key} is reserved by the Lambda runtime and cannot be set`);
  }
  const memory = props.sweepMemorySize;
  if (memory !== undefined && (!Number.isInteger(memory) || memory < 128 || memory > 10240)) {
    problems.push(`sweep memory ${memory} MiB must be an integer from 128 to 10240`);
  }
  const timeout = props.sweepTimeout?.toSeconds();
  if (timeout !== undefined && (timeout < 1 || timeout > 900)) problems.push(`sweep timeout ${timeout}s must be 1-900 seconds`);
  return problems;
}

/**
 * Everything the product needs in AWS: the bucket that is the source of truth, the scheduled
 * sweep Lambda, the Twilio credentials secret, and a narrowly scoped principal for the Twilio
 * Functions. The reference used s3:* and a long-lived admin key; here every grant names its actions
 * and the key families of this bucket it needs, the event history is append-only, and the Functions'
 * secret key only ever lives in Secrets Manager.
 */
export class AppointmentStack extends Stack {
  readonly bucket: s3.Bucket;
  readonly sweepFunction: NodejsFunction;
  readonly sweepRule: events.Rule;
  readonly twilioSecret: secretsmanager.Secret;
  readonly functionsUser: iam.User;
  readonly functionsKeySecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: AppointmentStackProps) {
    // Checked before the Stack exists so a bad customer code is reported with the other problems.
    const reminders = { ...DEFAULT_REMINDER_SETTINGS, ...props.reminders };
    const problems = problemsWith(props, reminders);
    if (problems.length > 0) throw new Error(`AppointmentStack settings are invalid:\n- ${problems.join('\n- ')}`);
    super(scope, id, props);
    const code = props.customerCode;
    const deleteData = props.deleteDataOnDestroy ?? false;
    Tags.of(this).add('app', 'appointment-reminders');
    Tags.of(this).add('customer', code);

    this.bucket = new s3.Bucket(this, 'Data', {
      // Account and region make the name globally unique without asking the operator for one.
      bucketName: `appointments-${code}-${this.account}-${this.region}`,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      lifecycleRules: [
        {
          id: 'expire-overwritten-versions',
          // State objects are rewritten on every event; old versions are for recovery, not forever.
          noncurrentVersionExpiration: props.noncurrentVersionRetention ?? Duration.days(30),
          expiredObjectDeleteMarker: true,
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: deleteData ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      autoDeleteObjects: deleteData,
    });

    // Whoever the principal (also one granted s3:PutObject later, by hand): a history record is only
    // ever created, never overwritten. S3 evaluates If-None-Match: * atomically (conditional writes).
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects(HISTORY_KEYS)],
        conditions: { StringNotEquals: CREATE_ONLY },
      }),
    );

    this.twilioSecret = new secretsmanager.Secret(this, 'TwilioCredentials', {
      secretName: `appointments-${code}/twilio`,
      description: `Twilio account SID and API key for the appointment sweep (${code}); written by the deploy step`,
      // A placeholder with the right shape; the deploy step puts the real values.
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ account_sid: '', api_key_sid: '' }),
        generateStringKey: 'api_key_secret',
        excludePunctuation: true,
      },
    });

    const logGroup = new logs.LogGroup(this, 'SweepLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.sweepFunction = new NodejsFunction(this, 'Sweep', {
      functionName: `appointment-sweep-${code}`,
      description: 'Finds appointments whose reminder is due and starts the Studio Flow for each',
      entry: path.join(REPO_ROOT, 'lambda', 'sweep.ts'),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      // At Studio's 20 starts/s a 14-minute run sends ~16,000 reminders; the sweep stops taking new
      // work a minute before the timeout and leaves the rest to the next run.
      timeout: props.sweepTimeout ?? Duration.minutes(14),
      memorySize: props.sweepMemorySize ?? 1024,
      // The schedule is the retry: an immediate re-run of a failed sweep races the next one.
      retryAttempts: 0,
      logGroup,
      environment: {
        CUSTOMER_CODE: code,
        S3_BUCKET: this.bucket.bucketName,
        TWILIO_SECRET_ARN: this.twilioSecret.secretArn,
        TWILIO_FLOW_SID: props.twilioFlowSid ?? '',
        TWILIO_PHONE_NUMBER: props.twilioPhoneNumber ?? '',
        REMINDER_FIRST_TIMING: reminders.firstTiming,
        REMINDER_SECOND_TIMING: reminders.secondTiming,
        REMINDER_OUTREACH_START: reminders.outreachStart,
        REMINDER_OUTREACH_FINISH: reminders.outreachFinish,
        NODE_OPTIONS: '--enable-source-maps',
        ...props.sweepEnvironment,
      },
      bundling: {
        format: OutputFormat.CJS,
        target: 'node22',
        // The runtime ships the v3 SDK; bundling it would only add megabytes and cold-start time.
        externalModules: ['@aws-sdk/*'],
        minify: true,
        sourceMap: true,
        forceDockerBundling: false,
      },
    });
    grantObjectAccess(this.sweepFunction, this.bucket, SWEEP_OBJECT_ACCESS);
    this.twilioSecret.grantRead(this.sweepFunction);

    this.sweepRule = new events.Rule(this, 'SweepSchedule', {
      ruleName: `appointment-sweep-${code}`,
      description: 'Runs the reminder sweep',
      schedule: props.sweepSchedule ?? events.Schedule.rate(Duration.minutes(15)),
      targets: [new targets.LambdaFunction(this.sweepFunction, { retryAttempts: 2, maxEventAge: Duration.minutes(10) })],
    });

    this.functionsUser = new iam.User(this, 'FunctionsUser', { userName: `appointments-functions-${code}` });
    grantObjectAccess(this.functionsUser, this.bucket, FUNCTIONS_OBJECT_ACCESS);
    const accessKey = new iam.AccessKey(this, 'FunctionsAccessKey', { user: this.functionsUser });
    this.functionsKeySecret = new secretsmanager.Secret(this, 'FunctionsAccessKeySecret', {
      secretName: `appointments-${code}/functions-s3-key`,
      description: `S3 access key of the Twilio Functions (${code}); the deploy step copies it into the Functions environment`,
      // Field names match the Functions configuration variables.
      secretObjectValue: {
        AWS_ACCESS_KEY_ID: SecretValue.resourceAttribute(accessKey.accessKeyId),
        AWS_SECRET_ACCESS_KEY: accessKey.secretAccessKey,
      },
    });

    const output = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    output('BucketName', this.bucket.bucketName, 'S3_BUCKET for the Functions and the sweep');
    output('Region', this.region, 'AWS_REGION for the Functions');
    output('SweepFunctionName', this.sweepFunction.functionName, 'The reminder sweep Lambda');
    output('TwilioSecretArn', this.twilioSecret.secretArn, `Put the Twilio credentials here as JSON fields ${TWILIO_SECRET_FIELDS.join(', ')}`);
    output('FunctionsAccessKeyId', accessKey.accessKeyId, 'AWS_ACCESS_KEY_ID for the Twilio Functions');
    output('FunctionsAccessKeySecretArn', this.functionsKeySecret.secretArn, 'Secret holding AWS_SECRET_ACCESS_KEY for the Twilio Functions');
  }
}

/**
 * What one principal may do with the bucket, by key family (src/storage/keys.ts documents the
 * layout): read and list everything, write and delete only the families it owns, and create history
 * records once.
 */
export interface ObjectAccess {
  /** Key patterns written unconditionally or with If-Match (state, index entries, outbox, …). */
  writes: string[];
  deletes: string[];
}

/** One record per event, never overwritten or deleted (appendHistory writes with If-None-Match: *). */
export const HISTORY_KEYS = 'appointments/*/history/*';

/** The sweep records REMIND/EXPIRED events, keeps claims, the legacy outbox and its heartbeat. */
export const SWEEP_OBJECT_ACCESS: ObjectAccess = {
  writes: ['appointments/*/state.json', 'appointments/*/requests/*', 'index/due/*', 'index/phone/*', 'outbox/*', 'claims/reminders/*', 'status/sweep.json'],
  deletes: ['index/due/*', 'outbox/*', 'claims/reminders/*'],
};

/** Intake, replies and the admin page: events, opt-outs, EHR requests, inbound sightings, login attempts. */
export const FUNCTIONS_OBJECT_ACCESS: ObjectAccess = {
  writes: ['appointments/*/state.json', 'appointments/*/requests/*', 'index/due/*', 'index/phone/*', 'optouts/*', 'outbox/ehr/*', 'inbound/*', 'admin/attempts/*'],
  deletes: ['outbox/ehr/*'],
};

const CREATE_ONLY = { 's3:if-none-match': '*' };

/**
 * The grants of one principal. An IAM wildcard also matches `/`, so the write pattern for state.json
 * would also match `appointments/<id>/history/state.json`: the two Deny statements keep the history
 * append-only whatever the Allow statements match.
 */
function grantObjectAccess(grantee: iam.IGrantable, bucket: s3.IBucket, access: ObjectAccess): void {
  const add = (statement: iam.PolicyStatementProps) => grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement(statement));
  const objects = (patterns: string[]) => patterns.map((p) => bucket.arnForObjects(p));
  add({ actions: ['s3:GetObject'], resources: [bucket.arnForObjects('*')] });
  add({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] });
  add({ actions: ['s3:PutObject'], resources: objects(access.writes) });
  add({ actions: ['s3:PutObject'], resources: objects([HISTORY_KEYS]), conditions: { StringEquals: CREATE_ONLY } });
  if (access.deletes.length > 0) add({ actions: ['s3:DeleteObject'], resources: objects(access.deletes) });
  // A missing If-None-Match header makes StringNotEquals true, so a plain PUT is denied too.
  add({ effect: iam.Effect.DENY, actions: ['s3:PutObject'], resources: objects([HISTORY_KEYS]), conditions: { StringNotEquals: CREATE_ONLY } });
  add({ effect: iam.Effect.DENY, actions: ['s3:DeleteObject', 's3:DeleteObjectVersion'], resources: objects([HISTORY_KEYS]) });
}
