import { CfnOutput, Stack, Tags, type Duration, type StackProps } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { acknowledge, SECRET_KEY_REASON } from './constructs/acknowledge';
import { DataBuckets } from './constructs/data-buckets';
import { FunctionsAccess } from './constructs/functions-access';
import { Receiver } from './constructs/receiver';
import { Sweep } from './constructs/sweep';
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
export {
  APPEND_ONLY_KEYS,
  AUDIT_KEYS,
  CHANGE_MARKER_KEYS,
  FUNCTIONS_OBJECT_ACCESS,
  HISTORY_KEYS,
  INTAKE_OBJECT_ACCESS,
  STAFF_TEXT_KEYS,
  SWEEP_OBJECT_ACCESS,
  type ObjectAccess,
} from './object-access';

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
 * secret key only ever lives in Secrets Manager. The parts are in infra/constructs/; each adds its
 * resources to this stack directly, so logical ids stay those of deployed stacks.
 */
export class AppointmentStack extends Stack {
  readonly bucket: s3.Bucket;
  readonly sweepFunction: NodejsFunction;
  readonly sweepRule: events.Rule;
  readonly twilioSecret: secretsmanager.Secret;
  readonly functionsUser: iam.User;
  /** The Functions' key secrets by slot. */
  readonly functionsKeySecrets: Partial<Record<FunctionsKeySlot, secretsmanager.Secret>>;
  readonly alarmTopic: sns.Topic;
  /** Present when `rawReceiver` is on. */
  readonly receiver?: { fn: NodejsFunction; url: lambda.FunctionUrl; intakeSecret: secretsmanager.Secret };

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

    this.bucket = new DataBuckets(this, {
      code,
      deleteData,
      noncurrentVersionRetention: props.noncurrentVersionRetention,
      accessLogRetention: props.accessLogRetention,
    }).data;

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

    // What both Lambdas run with: the bucket, the Twilio secret, the flow and the reminder policy.
    const lambdaEnvironment = {
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
    };
    const sweep = new Sweep(this, {
      code,
      bucket: this.bucket,
      twilioSecret: this.twilioSecret,
      alarmTopic: this.alarmTopic,
      environment: lambdaEnvironment,
      schedule: props.sweepSchedule,
      timeout: props.sweepTimeout,
      memorySize: props.sweepMemorySize,
      logRetention: props.logRetention,
      heartbeatWindow: props.sweepHeartbeatWindow,
    });
    this.sweepFunction = sweep.fn;
    this.sweepRule = sweep.rule;

    const functions = new FunctionsAccess(this, code, this.bucket, props.functionsKeySlots ?? ['a']);
    this.functionsUser = functions.user;
    this.functionsKeySecrets = functions.keySecrets;
    const keyOutputs = functions.outputs;

    if (props.rawReceiver)
      this.receiver = new Receiver(this, {
        code,
        bucket: this.bucket,
        twilioSecret: this.twilioSecret,
        environment: { ...lambdaEnvironment, ...props.receiverEnvironment },
        logRetention: props.logRetention,
      });

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
}
