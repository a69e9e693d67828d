import path from 'node:path';
import type { DeploySettings, TargetSettings } from './settings';

/**
 * The exact `cdk` command lines of the operator commands. Settings go in as CDK context (`-c`),
 * which infra/settings.ts reads before the environment; secrets never go on a command line (they
 * are visible to every user of the machine in the process list): AWS credentials travel in the
 * child's environment and nothing else secret is needed by the CDK app.
 */

export interface CdkInvocation {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** Where the operator commands keep their files (git-ignored `build/`). */
export function deployDir(root: string, customerCode: string): string {
  return path.join(root, 'build', 'deploy', customerCode);
}

export function outputsFile(root: string, customerCode: string): string {
  return path.join(deployDir(root, customerCode), 'stack-outputs.json');
}

/** The stack's settings as context, in the names infra/settings.ts reads. */
export function stackContext(s: DeploySettings, flowSid: string | undefined, functionsKeySlots?: string[]): Record<string, string> {
  return {
    // The key slots the stack has now: a deploy keeps them as they are (only rotate-keys changes them).
    ...(functionsKeySlots ? { functionsKeys: functionsKeySlots.join(',') } : {}),
    customerCode: s.customerCode,
    REMINDER_FIRST_TIMING: s.reminders.firstTiming,
    REMINDER_SECOND_TIMING: s.reminders.secondTiming,
    REMINDER_OUTREACH_START: s.reminders.outreachStart,
    REMINDER_OUTREACH_FINISH: s.reminders.outreachFinish,
    ...(s.reminders.minGapHours !== undefined ? { REMINDER_MIN_GAP_HOURS: s.reminders.minGapHours } : {}),
    ...(s.messagingServiceSid ? { TWILIO_MESSAGING_SERVICE_SID: s.messagingServiceSid } : {}),
    TWILIO_PHONE_NUMBER: s.phoneNumber,
    ...(flowSid ? { TWILIO_FLOW_SID: flowSid } : {}),
    CUSTOMER_NAME: s.customerName,
    DEFAULT_PHONE_COUNTRY: s.defaultPhoneCountry,
    IE_ENDPOINT: s.ieEndpoint,
    ALARM_EMAIL: s.alarmEmail,
    ...(s.logLevel ? { LOG_LEVEL: s.logLevel } : {}),
    ...(s.sweepSchedule ? { sweepSchedule: s.sweepSchedule } : {}),
    // The receiver's non-secret settings; its secrets go to the intake secret, never on a command line.
    ...(s.rawReceiver ? { RAW_RECEIVER: 'true', ...pick(s.intake, RECEIVER_CONTEXT) } : {}),
  };
}

const RECEIVER_CONTEXT = [
  'EHR_DEFAULT_TIMEZONE',
  'EHR_FACILITY_TIMEZONES',
  'FHIR_BASE_URL',
  'FHIR_CLIENT_ID',
  'FHIR_TOKEN_URL',
  'FHIR_SCOPE',
] as const;

function pick(values: DeploySettings['intake'], keys: readonly (keyof DeploySettings['intake'])[]): Record<string, string> {
  return Object.fromEntries(keys.flatMap((k) => (values[k] === undefined ? [] : [[k, values[k]]])));
}

/** Variables a CDK child must not inherit from the operator's shell: the app needs none of them. */
const NOT_FOR_CDK = [
  'TWILIO_API_KEY_SECRET',
  'TWILIO_AUTH_TOKEN',
  'AUTH_TOKEN',
  'EHR_API_KEY',
  'IE_SIGNING_SECRET',
  'APPLICATION_PASSWORD',
  'SESSION_SECRET',
  'FHIR_BEARER_TOKEN',
  'FHIR_CLIENT_SECRET',
];

/**
 * The child's environment: the operator's, minus our secrets, plus the AWS credentials and region
 * from `.env`, plus CDK_HOME so the CLI's cache (notices, connectivity) stays in build/ instead of
 * the operator's home (unless the operator chose one).
 */
export function cdkEnvironment(target: TargetSettings, baseEnv: Record<string, string | undefined>, root: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(baseEnv)) if (v !== undefined && !NOT_FOR_CDK.includes(k)) env[k] = v;
  const aws = target.aws;
  if (aws.accessKeyId && aws.secretAccessKey) {
    env.AWS_ACCESS_KEY_ID = aws.accessKeyId;
    env.AWS_SECRET_ACCESS_KEY = aws.secretAccessKey;
    if (aws.sessionToken) env.AWS_SESSION_TOKEN = aws.sessionToken;
    else delete env.AWS_SESSION_TOKEN;
  }
  if (aws.profile) env.AWS_PROFILE = aws.profile;
  env.AWS_REGION = target.region;
  env.AWS_DEFAULT_REGION = target.region;
  env.CDK_HOME = env.CDK_HOME ?? path.join(root, 'build', 'cdk-home');
  // The CLI's npm version check is noise in a deploy log.
  env.CDK_DISABLE_VERSION_CHECK = env.CDK_DISABLE_VERSION_CHECK ?? '1';
  return env;
}

function contextArgs(context: Record<string, string>): string[] {
  return Object.entries(context).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
}

// `--no-install`: the project's own CLI, never a download of whatever version is current.
const CDK = ['--no-install', 'cdk'];

export function cdkDeploy(
  target: TargetSettings,
  context: Record<string, string>,
  opts: { root: string; baseEnv: Record<string, string | undefined> },
): CdkInvocation {
  return {
    command: 'npx',
    args: [
      ...CDK,
      'deploy',
      target.stackName,
      '--require-approval',
      'never',
      '--outputs-file',
      outputsFile(opts.root, target.customerCode),
      ...contextArgs(context),
    ],
    env: cdkEnvironment(target, opts.baseEnv, opts.root),
  };
}

/** Prepares an account/region for CDK deployments (the CDKToolkit stack); synthesizes the app, so it takes the same context. */
export function cdkBootstrap(
  target: TargetSettings,
  context: Record<string, string>,
  opts: { root: string; baseEnv: Record<string, string | undefined> },
): CdkInvocation {
  return { command: 'npx', args: [...CDK, 'bootstrap', ...contextArgs(context)], env: cdkEnvironment(target, opts.baseEnv, opts.root) };
}

export function cdkDestroy(
  target: TargetSettings,
  context: Record<string, string>,
  opts: { root: string; baseEnv: Record<string, string | undefined> },
): CdkInvocation {
  return {
    command: 'npx',
    args: [...CDK, 'destroy', target.stackName, '--force', ...contextArgs(context)],
    env: cdkEnvironment(target, opts.baseEnv, opts.root),
  };
}
