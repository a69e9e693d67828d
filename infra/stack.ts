import * as path from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, SecretValue, Stack, Tags, Validations, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import {
  CustomerCode,
  E164Phone,
  EmailAddress,
  FlowSid,
  hhmmMinutes,
  REMINDER_VARIABLES,
  ruleProblem,
  TWILIO_SECRET_FIELDS,
  type ReminderVariable,
  type TwilioSecret,
} from '../src/config/rules';
import { FUNCTIONS_KEY_SLOTS, functionsKeyNames, type FunctionsKeySlot } from './key-slots';

export { FUNCTIONS_KEY_SLOTS, functionsKeyNames, type FunctionsKeySlot };

const REPO_ROOT = path.resolve(__dirname, '..');

/** Reminder settings in the reference app's HHMM spelling, handed to the sweep unchanged. */
export interface ReminderSettings {
  firstTiming: string;
  secondTiming: string;
  outreachStart: string;
  outreachFinish: string;
}

/** The defaults of the Functions and the deploy (src/config/rules.ts), so an unset variable means the same everywhere. */
export const DEFAULT_REMINDER_SETTINGS: ReminderSettings = {
  firstTiming: REMINDER_VARIABLES.REMINDER_FIRST_TIMING.default,
  secondTiming: REMINDER_VARIABLES.REMINDER_SECOND_TIMING.default,
  outreachStart: REMINDER_VARIABLES.REMINDER_OUTREACH_START.default,
  outreachFinish: REMINDER_VARIABLES.REMINDER_OUTREACH_FINISH.default,
};

/** JSON fields of the Twilio credentials secret (TwilioSecret in src/config/rules.ts): the deploy writes them, the sweep reads them. */
export { TWILIO_SECRET_FIELDS };

/**
 * The secret as the stack creates it: the TwilioSecret's required fields, empty (the sweep refuses
 * them until the deploy writes real ones), and a generated filler for the key secret.
 */
const TWILIO_SECRET_GENERATED = 'api_key_secret' satisfies keyof TwilioSecret;
export const TWILIO_SECRET_PLACEHOLDER: Pick<TwilioSecret, 'account_sid' | 'api_key_sid'> = { account_sid: '', api_key_sid: '' };

export interface AppointmentStackProps extends StackProps {
  /** Suffix of every named resource, so several clinics can share an account. */
  customerCode: string;
  /** Let `cdk destroy` delete the bucket and every object in it. Default false: the bucket is retained. */
  deleteDataOnDestroy?: boolean;
  /** When the sweep runs. Default every 15 minutes. */
  sweepSchedule?: events.Schedule;
  /** Default 14 minutes, one less than the default schedule; the sweep stops taking new work a minute before it. */
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
  /** How long the data bucket's access logs are kept. Default six years. */
  accessLogRetention?: Duration;
  /** Receives the sweep alarms (an SNS e-mail subscription, confirmed from the first message). */
  alarmEmail?: string;
  /**
   * How long without a successful sweep before the heartbeat alarm goes off. Default three schedule
   * intervals (at least an hour) for rate(...) schedules and one day for cron(...) ones.
   */
  sweepHeartbeatWindow?: Duration;
  /**
   * The Functions' access keys, by slot. One normally; both for the minutes of a rotation, when
   * `npm run rotate-keys` adds the other slot, moves the Functions to it and removes the old one
   * (IAM allows two keys per user). Default ['a'].
   */
  functionsKeySlots?: FunctionsKeySlot[];
  /**
   * The raw-body receiver (lambda/receiver.ts) behind a Lambda Function URL, for engines that POST
   * raw ER7 or application/fhir+json, which the Twilio Functions drop. Default false.
   */
  rawReceiver?: boolean;
  /** The receiver's non-secret intake settings (RECEIVER_SETTINGS); its secrets live in the intake secret. */
  receiverEnvironment?: Record<string, string>;
}

/** The intake settings the receiver takes from its environment; none of them is a secret. */
export const RECEIVER_SETTINGS = [
  'EHR_DEFAULT_TIMEZONE',
  'EHR_FACILITY_TIMEZONES',
  'EHR_EVENT_MAX_FUTURE_HOURS',
  'EHR_APPOINTMENT_MAX_FUTURE_DAYS',
  'FHIR_BASE_URL',
  'FHIR_CLIENT_ID',
  'FHIR_TOKEN_URL',
  'FHIR_SCOPE',
] as const;

/** JSON fields of the intake secret (src/runtime/receiver.ts reads them; the deploy writes them). */
export const INTAKE_SECRET_FIELDS = ['EHR_API_KEY', 'FHIR_BEARER_TOKEN', 'FHIR_CLIENT_SECRET'] as const;

// Lambda refuses these at deploy time; failing at synth says which one and why.
const RESERVED_ENV =
  /^(AWS_REGION|AWS_DEFAULT_REGION|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|AWS_EXECUTION_ENV|AWS_LAMBDA_\w+|_HANDLER|_X_AMZN_TRACE_ID|LAMBDA_TASK_ROOT|LAMBDA_RUNTIME_DIR)$/;

function problemsWith(props: AppointmentStackProps, reminders: ReminderSettings): string[] {
  const problems: string[] = [];
  // The rules of the deploy settings and the Functions (src/config/rules.ts), not a copy of them.
  const customerCode = ruleProblem(CustomerCode, props.customerCode);
  if (customerCode)
    problems.push(`CUSTOMER_CODE "${props.customerCode}" ${customerCode} (it becomes part of the bucket and every resource name)`);
  const hhmm: [ReminderVariable, string][] = [
    ['REMINDER_FIRST_TIMING', reminders.firstTiming],
    ['REMINDER_SECOND_TIMING', reminders.secondTiming],
    ['REMINDER_OUTREACH_START', reminders.outreachStart],
    ['REMINDER_OUTREACH_FINISH', reminders.outreachFinish],
  ];
  for (const [name, value] of hhmm) {
    if (hhmmMinutes(value, REMINDER_VARIABLES[name].maxMinutes) === undefined) problems.push(`${name} "${value}" is not HHMM within range`);
  }
  const flowSid = props.twilioFlowSid ? ruleProblem(FlowSid, props.twilioFlowSid) : undefined;
  if (flowSid) problems.push(`TWILIO_FLOW_SID "${props.twilioFlowSid}" ${flowSid}`);
  const phone = props.twilioPhoneNumber ? ruleProblem(E164Phone, props.twilioPhoneNumber) : undefined;
  if (phone) problems.push(`TWILIO_PHONE_NUMBER "${props.twilioPhoneNumber}" ${phone}`);
  for (const key of Object.keys(props.sweepEnvironment ?? {})) {
    if (RESERVED_ENV.test(key)) problems.push(`${key} is reserved by the Lambda runtime and cannot be set`);
  }
  const memory = props.sweepMemorySize;
  if (memory !== undefined && (!Number.isInteger(memory) || memory < 128 || memory > 10240)) {
    problems.push(`sweep memory ${memory} MiB must be an integer from 128 to 10240`);
  }
  const email = props.alarmEmail !== undefined ? ruleProblem(EmailAddress, props.alarmEmail) : undefined;
  if (email) problems.push(`ALARM_EMAIL "${props.alarmEmail}" ${email}`);
  const window = props.sweepHeartbeatWindow?.toSeconds();
  // CloudWatch evaluates one period of at most a day, in whole minutes.
  if (window !== undefined && (window < 300 || window > 86_400 || window % 60 !== 0))
    problems.push(`sweep heartbeat window ${window}s must be whole minutes from 5 minutes to one day`);
  const slots = props.functionsKeySlots;
  if (
    slots !== undefined &&
    (slots.length === 0 || new Set(slots).size !== slots.length || slots.some((k) => !FUNCTIONS_KEY_SLOTS.includes(k)))
  ) {
    problems.push(`Functions key slots "${slots.join(',')}" must be a, b or a,b`);
  }
  for (const key of Object.keys(props.receiverEnvironment ?? {})) {
    if ((INTAKE_SECRET_FIELDS as readonly string[]).includes(key))
      problems.push(`${key} is a secret: the deploy writes it to the intake secret, never into the receiver's environment`);
    else if (!(RECEIVER_SETTINGS as readonly string[]).includes(key))
      problems.push(`${key} is not a receiver setting (${RECEIVER_SETTINGS.join(', ')})`);
  }
  if (props.receiverEnvironment && !props.rawReceiver)
    problems.push('receiver settings are given but the raw receiver is off (RAW_RECEIVER=true)');
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
  /** The Functions' key secrets by slot. */
  readonly functionsKeySecrets: Partial<Record<FunctionsKeySlot, secretsmanager.Secret>> = {};
  readonly alarmTopic: sns.Topic;
  /** Present when `rawReceiver` is on. */
  readonly receiver?: { fn: NodejsFunction; url: lambda.FunctionUrl; intakeSecret: secretsmanager.Secret };

  /** A Lambda's own log group, kept a month unless set; `what` says what it holds (for the nag acknowledgment). */
  private lambdaLogGroup(id: string, retention: logs.RetentionDays | undefined, what: string): logs.LogGroup {
    const logGroup = new logs.LogGroup(this, id, {
      retention: retention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledge(logGroup, [
      [
        'HIPAA.Security::HIPAA.Security-CloudWatchLogGroupEncrypted',
        `CloudWatch Logs encrypts log data at rest by default, and ${what}, never names, phones or message bodies (src/log.ts)`,
      ],
    ]);
    return logGroup;
  }

  /** What both Lambdas (sweep, receiver) run with: the bucket, the Twilio secret, the flow and the reminder policy. */
  private lambdaEnvironment(
    code: string,
    reminders: ReminderSettings,
    flowSid: string | undefined,
    phone: string | undefined,
    extra: Record<string, string> | undefined,
  ): Record<string, string> {
    return {
      CUSTOMER_CODE: code,
      S3_BUCKET: this.bucket.bucketName,
      TWILIO_SECRET_ARN: this.twilioSecret.secretArn,
      TWILIO_FLOW_SID: flowSid ?? '',
      TWILIO_PHONE_NUMBER: phone ?? '',
      REMINDER_FIRST_TIMING: reminders.firstTiming,
      REMINDER_SECOND_TIMING: reminders.secondTiming,
      REMINDER_OUTREACH_START: reminders.outreachStart,
      REMINDER_OUTREACH_FINISH: reminders.outreachFinish,
      NODE_OPTIONS: '--enable-source-maps',
      ...extra,
    };
  }

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
    // Log delivery is granted by a bucket policy on the log bucket, not the legacy log-delivery ACL
    // (which BucketOwnerEnforced forbids); set here so every app that builds the stack gets the same.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);

    // Server access logs (who read or changed which object) are the bucket's audit trail: kept in a
    // bucket of their own that outlives the stack, even a --delete-data destroy.
    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Log delivery writes only to SSE-S3 buckets unless a KMS key policy lets the logging service in.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      lifecycleRules: [
        {
          id: 'expire-access-logs',
          // Six years: what HIPAA asks of security documentation (45 CFR 164.316(b)(2)(i)).
          expiration: props.accessLogRetention ?? Duration.days(6 * 365),
          noncurrentVersionExpiration: Duration.days(30),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(accessLogs, [
      ['AwsSolutions::AwsSolutions-S1', 'this is the access log bucket; logging its own log deliveries would log forever'],
      [
        'HIPAA.Security::HIPAA.Security-S3BucketLoggingEnabled',
        'this is the access log bucket; logging its own log deliveries would log forever',
      ],
      ['HIPAA.Security::HIPAA.Security-S3BucketReplicationEnabled', REPLICATION_REASON],
      [
        'HIPAA.Security::HIPAA.Security-S3DefaultEncryptionKMS',
        'S3 server access log delivery writes to SSE-S3 (AES-256) buckets; SSE-KMS would need a customer managed key whose policy admits the logging service',
      ],
    ]);

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
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'data/',
      removalPolicy: deleteData ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      autoDeleteObjects: deleteData,
    });
    acknowledge(this.bucket, [
      ['HIPAA.Security::HIPAA.Security-S3BucketReplicationEnabled', REPLICATION_REASON],
      [
        'HIPAA.Security::HIPAA.Security-S3DefaultEncryptionKMS',
        'encrypted at rest with SSE-S3 (AES-256); who may read is decided by IAM and the bucket policy, which a KMS key policy would only repeat at a per-request cost',
      ],
    ]);

    // Whoever the principal (also one granted s3:PutObject later, by hand): a history record or an
    // audit entry is only ever created, never overwritten. S3 evaluates If-None-Match: * atomically
    // (conditional writes).
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: APPEND_ONLY_KEYS.map((p) => this.bucket.arnForObjects(p)),
        conditions: { StringNotEquals: CREATE_ONLY },
      }),
    );

    this.twilioSecret = new secretsmanager.Secret(this, 'TwilioCredentials', {
      secretName: `appointments-${code}/twilio`,
      description: `Twilio account SID and API key for the appointment sweep (${code}); written by the deploy step`,
      // A placeholder with the right shape; the deploy step puts the real values.
      generateSecretString: {
        secretStringTemplate: JSON.stringify(TWILIO_SECRET_PLACEHOLDER),
        generateStringKey: TWILIO_SECRET_GENERATED,
        excludePunctuation: true,
      },
    });
    acknowledge(this.twilioSecret, [
      [
        'AwsSolutions::AwsSolutions-SMG4',
        'a Twilio API key cannot be rotated by Secrets Manager; a new key is put in .env and `npm run deploy` writes it here',
      ],
      [
        'HIPAA.Security::HIPAA.Security-SecretsManagerRotationEnabled',
        'a Twilio API key cannot be rotated by Secrets Manager; a new key is put in .env and `npm run deploy` writes it here',
      ],
      ['HIPAA.Security::HIPAA.Security-SecretsManagerUsingKMSKey', SECRET_KEY_REASON],
    ]);

    const logGroup = this.lambdaLogGroup('SweepLogs', props.logRetention, 'the sweep logs ids and counts only');

    // A role and a customer managed policy of its own: no AWS managed policy (whose logs grant covers
    // every log group) and no inline policy.
    const sweepRole = new iam.Role(this, 'SweepRole', {
      roleName: `appointment-sweep-${code}`,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'The reminder sweep Lambda',
    });

    this.sweepFunction = new NodejsFunction(this, 'Sweep', {
      functionName: `appointment-sweep-${code}`,
      description: 'Finds appointments whose reminder is due and starts the Studio Flow for each',
      entry: path.join(REPO_ROOT, 'lambda', 'sweep.ts'),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      // The newest Node.js aws-cdk-lib knows; the handler is async, as Node.js 24 requires.
      runtime: lambda.Runtime.NODEJS_24_X,
      role: sweepRole,
      architecture: lambda.Architecture.ARM_64,
      // At Studio's 20 starts/s a 14-minute run sends ~16,000 reminders; the sweep stops taking new
      // work a minute before the timeout and leaves the rest to the next run.
      timeout: props.sweepTimeout ?? Duration.minutes(14),
      memorySize: props.sweepMemorySize ?? 1024,
      // The schedule is the retry: an immediate re-run of a failed sweep races the next one.
      retryAttempts: 0,
      // Never two sweeps at once: a schedule tick during a long run waits (EventBridge retries it)
      // instead of racing the run for the same claims.
      reservedConcurrentExecutions: 1,
      logGroup,
      environment: this.lambdaEnvironment(code, reminders, props.twilioFlowSid, props.twilioPhoneNumber, props.sweepEnvironment),
      bundling: LAMBDA_BUNDLING,
    });
    const sweepPolicy = new iam.ManagedPolicy(this, 'SweepAccess', {
      managedPolicyName: `appointment-sweep-${code}`,
      description: 'What the reminder sweep may do: its key families of the data bucket, the Twilio secret, its log group',
      statements: [
        ...objectAccessStatements(this.bucket, SWEEP_OBJECT_ACCESS),
        new iam.PolicyStatement({
          actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          resources: [this.twilioSecret.secretArn],
        }),
        new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
      ],
      roles: [sweepRole],
    });
    acknowledgeObjectPatterns(sweepPolicy, this.bucket, SWEEP_OBJECT_ACCESS);
    acknowledge(this.sweepFunction, [
      [
        'HIPAA.Security::HIPAA.Security-LambdaInsideVPC',
        'the sweep calls Twilio and the EHR on the internet; a VPC would add a NAT gateway and nothing else, as S3 and Secrets Manager are reached over TLS with IAM either way',
      ],
      [
        'HIPAA.Security::HIPAA.Security-LambdaDLQ',
        'a scheduled event carries no data to keep: the next scheduled run is the retry, and a failed run sets off the sweep errors alarm',
      ],
    ]);

    this.sweepRule = new events.Rule(this, 'SweepSchedule', {
      ruleName: `appointment-sweep-${code}`,
      description: 'Runs the reminder sweep',
      schedule: props.sweepSchedule ?? DEFAULT_SCHEDULE,
      targets: [new targets.LambdaFunction(this.sweepFunction, { retryAttempts: 2, maxEventAge: Duration.minutes(10) })],
    });

    // Twilio Functions cannot assume a role, so they get a user with an access key; its permissions
    // come from a group, never from policies on the user itself.
    const functionsPolicy = new iam.ManagedPolicy(this, 'FunctionsAccess', {
      managedPolicyName: `appointments-functions-${code}`,
      description: 'What the Twilio Functions may do: their key families of the data bucket',
      statements: objectAccessStatements(this.bucket, FUNCTIONS_OBJECT_ACCESS),
    });
    acknowledgeObjectPatterns(functionsPolicy, this.bucket, FUNCTIONS_OBJECT_ACCESS);
    const functionsGroup = new iam.Group(this, 'FunctionsGroup', {
      groupName: `appointments-functions-${code}`,
      managedPolicies: [functionsPolicy],
    });
    this.functionsUser = new iam.User(this, 'FunctionsUser', { userName: `appointments-functions-${code}`, groups: [functionsGroup] });
    const keyOutputs: [string, string, string][] = [];
    for (const slot of props.functionsKeySlots ?? ['a']) {
      const names = functionsKeyNames(slot);
      const accessKey = new iam.AccessKey(this, names.key, { user: this.functionsUser });
      const secret = new secretsmanager.Secret(this, names.secret, {
        secretName: names.secretName(code),
        description: `S3 access key of the Twilio Functions (${code}, slot ${slot}); the deploy step copies it into the Functions environment`,
        // Field names match the Functions configuration variables.
        secretObjectValue: {
          AWS_ACCESS_KEY_ID: SecretValue.resourceAttribute(accessKey.accessKeyId),
          AWS_SECRET_ACCESS_KEY: accessKey.secretAccessKey,
        },
      });
      acknowledge(secret, [
        [
          'AwsSolutions::AwsSolutions-SMG4',
          'the key must also change in the Twilio Functions environment, which Secrets Manager cannot reach: `npm run rotate-keys` rotates it (docs/deploy.md)',
        ],
        [
          'HIPAA.Security::HIPAA.Security-SecretsManagerRotationEnabled',
          'the key must also change in the Twilio Functions environment, which Secrets Manager cannot reach: `npm run rotate-keys` rotates it (docs/deploy.md)',
        ],
        ['HIPAA.Security::HIPAA.Security-SecretsManagerUsingKMSKey', SECRET_KEY_REASON],
      ]);
      this.functionsKeySecrets[slot] = secret;
      keyOutputs.push([names.idOutput, accessKey.accessKeyId, `AWS_ACCESS_KEY_ID of key slot ${slot} for the Twilio Functions`]);
      keyOutputs.push([names.secretOutput, secret.secretArn, `Secret holding AWS_SECRET_ACCESS_KEY of key slot ${slot}`]);
    }

    this.alarmTopic = new sns.Topic(this, 'Alarms', {
      topicName: `appointment-alarms-${code}`,
      displayName: `Appointment reminders (${code})`,
      enforceSSL: true,
    });
    if (props.alarmEmail) this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    const snsKeyReason =
      'the topic carries alarm names and states only, no patient data; an encrypted topic needs a customer managed KMS key whose policy admits CloudWatch (the AWS managed SNS key does not)';
    acknowledge(this.alarmTopic, [
      ['AwsSolutions::AwsSolutions-SNS2', snsKeyReason],
      ['HIPAA.Security::HIPAA.Security-SNSEncryptedKMS', snsKeyReason],
    ]);
    this.addSweepAlarms(code, props.sweepSchedule ?? DEFAULT_SCHEDULE, props.sweepHeartbeatWindow);
    if (props.rawReceiver) this.receiver = this.addReceiver(code, props, reminders);

    const output = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    output('BucketName', this.bucket.bucketName, 'S3_BUCKET for the Functions and the sweep');
    output('Region', this.region, 'AWS_REGION for the Functions');
    output('SweepFunctionName', this.sweepFunction.functionName, 'The reminder sweep Lambda');
    output(
      'TwilioSecretArn',
      this.twilioSecret.secretArn,
      `Put the Twilio credentials here as JSON fields ${TWILIO_SECRET_FIELDS.join(', ')}`,
    );
    for (const [name, value, description] of keyOutputs) output(name, value, description);
    output(
      'FunctionsKeySlots',
      (props.functionsKeySlots ?? ['a']).join(','),
      'Key slots of the Functions user, as the deploy passes them back (context functionsKeys)',
    );
    output('FunctionsUserName', this.functionsUser.userName, 'The IAM user of the Twilio Functions');
    output('AlarmTopicArn', this.alarmTopic.topicArn, 'Where the sweep alarms go (ALARM_EMAIL is subscribed)');
    if (this.receiver) {
      output(
        'ReceiverUrl',
        this.receiver.url.url,
        'The raw-body receiver: POST <url>ehr/hl7 (raw ER7), <url>ehr/fhir (application/fhir+json), <url>ehr/events',
      );
      output(
        'IntakeSecretArn',
        this.receiver.intakeSecret.secretArn,
        `Put the receiver's secrets here as JSON fields ${INTAKE_SECRET_FIELDS.join(', ')}`,
      );
    }
  }

  /**
   * The raw-body receiver: a Lambda with a Function URL. The URL's auth type is NONE because
   * engines send a static bearer key, not SigV4; the handler checks EHR_API_KEY in constant time
   * before reading anything else, as the Functions do. The key and the FHIR secrets are read
   * from a secret of their own at cold start, never put in the environment.
   */
  private addReceiver(code: string, props: AppointmentStackProps, reminders: ReminderSettings) {
    const intakeSecret = new secretsmanager.Secret(this, 'IntakeSecret', {
      secretName: `appointments-${code}/intake`,
      description: `EHR_API_KEY and the FHIR credentials of the raw-body receiver (${code}); written by the deploy step`,
      // A random key nobody knows until the deploy writes the real one: the receiver refuses everything meanwhile.
      generateSecretString: {
        secretStringTemplate: JSON.stringify({}),
        generateStringKey: 'EHR_API_KEY',
        excludePunctuation: true,
        passwordLength: 48,
      },
    });
    acknowledge(intakeSecret, [
      [
        'AwsSolutions::AwsSolutions-SMG4',
        'the EHR key is shared with the integration engine and the Twilio Functions, which Secrets Manager cannot reach; it changes in .env and `npm run deploy` writes it here',
      ],
      [
        'HIPAA.Security::HIPAA.Security-SecretsManagerRotationEnabled',
        'the EHR key is shared with the integration engine and the Twilio Functions, which Secrets Manager cannot reach; it changes in .env and `npm run deploy` writes it here',
      ],
      ['HIPAA.Security::HIPAA.Security-SecretsManagerUsingKMSKey', SECRET_KEY_REASON],
    ]);
    const logGroup = this.lambdaLogGroup('ReceiverLogs', props.logRetention, 'the receiver logs ids, codes and counts only');
    const role = new iam.Role(this, 'ReceiverRole', {
      roleName: `appointment-receiver-${code}`,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'The raw-body receiver Lambda (EHR intake behind a Function URL)',
    });
    const fn = new NodejsFunction(this, 'Receiver', {
      functionName: `appointment-receiver-${code}`,
      description: 'EHR intake for raw ER7 and application/fhir+json bodies (the same handlers as the Twilio Functions)',
      entry: path.join(REPO_ROOT, 'lambda', 'receiver.ts'),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      role,
      architecture: lambda.Architecture.ARM_64,
      // Engines wait for the answer; athena's rest-hooks give 2 s, a FHIR fetch may take a few more.
      timeout: Duration.seconds(15),
      memorySize: 512,
      // An open URL: a flood costs at most this many concurrent runs, and the Studio and S3 rates
      // stay where one clinic's feed puts them. Requests beyond it get 429 and the engine resends.
      reservedConcurrentExecutions: RECEIVER_CONCURRENCY,
      logGroup,
      environment: {
        ...this.lambdaEnvironment(code, reminders, props.twilioFlowSid, props.twilioPhoneNumber, props.sweepEnvironment),
        INTAKE_SECRET_ARN: intakeSecret.secretArn,
        ...props.receiverEnvironment,
      },
      bundling: LAMBDA_BUNDLING,
    });
    const policy = new iam.ManagedPolicy(this, 'ReceiverAccess', {
      managedPolicyName: `appointment-receiver-${code}`,
      description: 'What the raw-body receiver may do: the intake key families of the data bucket, its two secrets, its log group',
      statements: [
        ...objectAccessStatements(this.bucket, INTAKE_OBJECT_ACCESS),
        new iam.PolicyStatement({
          actions: ['secretsmanager:GetSecretValue'],
          resources: [this.twilioSecret.secretArn, intakeSecret.secretArn],
        }),
        new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
      ],
      roles: [role],
    });
    acknowledgeObjectPatterns(policy, this.bucket, INTAKE_OBJECT_ACCESS);
    acknowledge(fn, [
      [
        'HIPAA.Security::HIPAA.Security-LambdaInsideVPC',
        'the receiver is reached through its Function URL and calls Twilio and the EHR FHIR server on the internet; a VPC would add a NAT gateway and nothing else, as S3 and Secrets Manager are reached over TLS with IAM either way',
      ],
      [
        'HIPAA.Security::HIPAA.Security-LambdaDLQ',
        'invoked synchronously by its Function URL: the engine gets the answer and resends on failure, so there is no asynchronous event to keep',
      ],
    ]);
    const url = fn.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
    // AuthType NONE makes CDK add the public invoke permissions (the URL's and, as AWS now requires, the function's).
    for (const id of ['invoke-function-url', 'invoke-function']) {
      const permission = fn.node.tryFindChild(id);
      if (permission)
        acknowledge(permission, [['HIPAA.Security::HIPAA.Security-LambdaFunctionPublicAccessProhibited', RECEIVER_AUTH_REASON]]);
    }
    return { fn, url, intakeSecret };
  }

  /**
   * Two alarms on Lambda's own metrics, so the sweep needs no code to be watched. Errors: a run
   * threw or timed out. Heartbeat: no run finished without an error within the window, counting
   * missing data as breaching, so a disabled rule, a lost invoke permission or runs that never
   * start (throttled) alarm too, which a metric the sweep itself published could not tell.
   */
  private addSweepAlarms(code: string, schedule: events.Schedule, heartbeatWindow: Duration | undefined): void {
    const fn = this.sweepFunction;
    const notify = new cwActions.SnsAction(this.alarmTopic);
    const errors = fn.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }).createAlarm(this, 'SweepErrors', {
      alarmName: `appointment-sweep-errors-${code}`,
      alarmDescription: 'A reminder sweep run failed (threw or timed out); its log group says why',
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const window = heartbeatWindow ?? defaultHeartbeatWindow(schedule);
    const succeeded = new cloudwatch.MathExpression({
      expression: 'invocations - FILL(errors, 0)',
      usingMetrics: {
        invocations: fn.metricInvocations({ period: window, statistic: cloudwatch.Stats.SUM }),
        errors: fn.metricErrors({ period: window, statistic: cloudwatch.Stats.SUM }),
      },
      period: window,
      label: 'successful sweeps',
    });
    const heartbeat = succeeded.createAlarm(this, 'SweepHeartbeat', {
      alarmName: `appointment-sweep-heartbeat-${code}`,
      alarmDescription: `No reminder sweep finished without an error in ${window.toHumanString()}: reminders are not being sent`,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    for (const alarm of [errors, heartbeat]) {
      alarm.addAlarmAction(notify);
      alarm.addOkAction(notify);
    }
  }
}

const DEFAULT_SCHEDULE = events.Schedule.rate(Duration.minutes(15));
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
const RECEIVER_CONCURRENCY = 10;
const RECEIVER_AUTH_REASON =
  'integration engines send a static bearer key (EHR_API_KEY), not SigV4: the receiver checks it in code, in constant time, before reading the request, as the Twilio Functions do';
const REPLICATION_REASON =
  'one region by design; versioning and the retained bucket are the recovery path, and a replica region is a per-customer decision (it doubles where the data lives)';
const SECRET_KEY_REASON =
  "encrypted with the account's AWS managed Secrets Manager key; who may read it is decided by IAM (only the sweep reads the Twilio secret, only the deployer the key secret)";

/** Three intervals of a rate(...) schedule (one missed run is not yet an outage), at least an hour; a day for cron(...). */
function defaultHeartbeatWindow(schedule: events.Schedule): Duration {
  const m = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(schedule.expressionString);
  if (!m) return Duration.days(1);
  const minutes = Number(m[1]) * (m[2]?.startsWith('minute') ? 1 : m[2]?.startsWith('hour') ? 60 : 24 * 60);
  return Duration.minutes(Math.min(24 * 60, Math.max(60, 3 * minutes)));
}

/** Records why a finding of the cdk-nag packs (AwsSolutions, HIPAA Security) does not apply here. */
function acknowledge(scope: Construct, findings: [id: string, reason: string][]): void {
  for (const [id, reason] of findings) Validations.of(scope).acknowledge({ id, reason });
}

/** Each key-family wildcard is a finding of its own (AwsSolutions-IAM5); the reason is the same. */
function acknowledgeObjectPatterns(policy: iam.ManagedPolicy, bucket: s3.Bucket, access: ObjectAccess): void {
  const logicalId = Stack.of(bucket).getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
  const patterns = [...new Set(['*', ...APPEND_ONLY_KEYS, ...access.writes, ...(access.creates ?? []), ...access.deletes])];
  acknowledge(
    policy,
    patterns.map((p) => [
      `AwsSolutions::AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/${p}]`,
      p === '*'
        ? 'reads cover the whole data bucket: every use case reads state, history and indexes of any appointment'
        : `one key family of the data bucket (src/storage/keys.ts); the wildcard stands for encoded appointment, phone or event ids`,
    ]),
  );
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
  /** Append-only families besides history that it may create, each object once (If-None-Match: *). */
  creates?: string[];
}

/** One record per event, never overwritten or deleted (appendHistory writes with If-None-Match: *). */
export const HISTORY_KEYS = 'appointments/*/history/*';

/** The admin audit log: one object per entry, never overwritten or deleted (appendAudit, If-None-Match: *). */
export const AUDIT_KEYS = 'audit/*';

/** Texts staff sent from the inbox: part of the appointment's record, like its history. */
export const STAFF_TEXT_KEYS = 'appointments/*/staff/*';

/** Every family whose objects are created once and then only read. */
export const APPEND_ONLY_KEYS = [HISTORY_KEYS, AUDIT_KEYS, STAFF_TEXT_KEYS];

/**
 * The dashboard's daily counters and the markers of the facts they counted: written by every
 * principal that records a fact (a text sent, a reminder, a reply, a receipt, an EHR event); a
 * marker is deleted again when its counter could not be incremented (src/storage/s3-appointment-store.ts).
 */
const FIGURE_WRITES = ['stats/daily/*', 'stats/facts/*'];
const FIGURE_DELETES = ['stats/facts/*'];

/** The admin list's index (src/storage/listing-index.ts): entries written before a state, replaced ones deleted after. */
const LISTING_KEYS = ['index/by-time/*', 'index/by-change/*', 'index/name/*'];

/** Change markers the intake writes before a state it does not file (src/use-cases/file-changes.ts). */
export const CHANGE_MARKER_KEYS = 'index/changes/*';

/**
 * What filing a change writes and deletes (src/use-cases/filing.ts): the due, phone and listing
 * indexes and the dashboard's counters; filers also retire change markers. The sweep and the
 * Functions file (the sweep before each run, the admin list and dashboard before they read).
 */
const FILING_WRITES = ['index/due/*', 'index/phone/*', ...LISTING_KEYS, ...FIGURE_WRITES];
const FILING_DELETES = [...LISTING_KEYS, CHANGE_MARKER_KEYS, ...FIGURE_DELETES];

/** The sweep records REMIND/EXPIRED events, keeps claims, the legacy outbox and its heartbeat. */
export const SWEEP_OBJECT_ACCESS: ObjectAccess = {
  writes: [
    'appointments/*/state.json',
    'appointments/*/requests/*',
    'outbox/*',
    'claims/reminders/*',
    'status/sweep.json',
    ...FILING_WRITES,
  ],
  deletes: ['index/due/*', 'outbox/*', 'claims/reminders/*', ...FILING_DELETES],
};

/**
 * Intake, replies and the admin page: events, opt-outs, EHR requests, inbound sightings, login
 * attempts, events refused at the Studio flow, the clinic inbox, and the claims of the page's "simulate REMIND"
 * (it sends through the sweep's claim path); the admin page's staff users, and its audit entries, created once.
 */
export const FUNCTIONS_OBJECT_ACCESS: ObjectAccess = {
  writes: [
    'appointments/*/state.json',
    'appointments/*/requests/*',
    CHANGE_MARKER_KEYS,
    'optouts/*',
    'outbox/ehr/*',
    'inbound/*',
    'admin/attempts/*',
    'admin/users/*',
    'rejected/*',
    'claims/reminders/*',
    'inbox/*',
    'appointments/*/deliveries/*',
    'messages/*',
    ...FILING_WRITES,
  ],
  deletes: ['outbox/ehr/*', 'claims/reminders/*', ...FILING_DELETES],
  creates: [AUDIT_KEYS, STAFF_TEXT_KEYS],
};

/**
 * The intake (the raw-body receiver): events recorded through recordEvents and the texts they
 * claim (state, history, and the change markers of what it leaves to the filer: it writes no
 * index itself). A subset of the Functions' list, which also covers replies and the admin page.
 */
export const INTAKE_OBJECT_ACCESS: ObjectAccess = {
  writes: ['appointments/*/state.json', CHANGE_MARKER_KEYS],
  deletes: [],
};

const CREATE_ONLY = { 's3:if-none-match': '*' };

/**
 * The grants of one principal. An IAM wildcard also matches `/`, so the write pattern for state.json
 * would also match `appointments/<id>/history/state.json`: the two Deny statements keep the history (and the audit log)
 * append-only whatever the Allow statements match.
 */
function objectAccessStatements(bucket: s3.IBucket, access: ObjectAccess): iam.PolicyStatement[] {
  const statements: iam.PolicyStatement[] = [];
  const add = (statement: iam.PolicyStatementProps) => statements.push(new iam.PolicyStatement(statement));
  const objects = (patterns: string[]) => patterns.map((p) => bucket.arnForObjects(p));
  add({ actions: ['s3:GetObject'], resources: [bucket.arnForObjects('*')] });
  add({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] });
  add({ actions: ['s3:PutObject'], resources: objects(access.writes) });
  add({
    actions: ['s3:PutObject'],
    resources: objects([HISTORY_KEYS, ...(access.creates ?? [])]),
    conditions: { StringEquals: CREATE_ONLY },
  });
  if (access.deletes.length > 0) add({ actions: ['s3:DeleteObject'], resources: objects(access.deletes) });
  // A missing If-None-Match header makes StringNotEquals true, so a plain PUT is denied too.
  add({
    effect: iam.Effect.DENY,
    actions: ['s3:PutObject'],
    resources: objects(APPEND_ONLY_KEYS),
    conditions: { StringNotEquals: CREATE_ONLY },
  });
  add({ effect: iam.Effect.DENY, actions: ['s3:DeleteObject', 's3:DeleteObjectVersion'], resources: objects(APPEND_ONLY_KEYS) });
  return statements;
}
