import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'dotenv';
import { z } from 'zod';
import { AdminConfig } from '../../../src/config/admin-config';
import {
  AccountSid,
  ApiKeySecret,
  ApiKeySid,
  CustomerCode,
  EmailAddress,
  REMINDER_VARIABLES,
  SweepSchedule,
  type ReminderVariable,
} from '../../../src/config/rules';
import {
  fhirSettingsProblems,
  FORMAT_INTAKE_SETTINGS,
  FunctionsConfig,
  loadConfig,
  type ConfigProblem,
  type Env,
} from '../../../src/config/config';

/**
 * What `npm run deploy` / `status` / `destroy` read from `.env`. The Functions' own variables are
 * checked with the Functions' schemas (src/config), so the deploy refuses exactly what the deployed
 * Functions would refuse; the deploy-only variables (Twilio and AWS credentials, CUSTOMER_CODE) take
 * their rules from src/config/rules.ts, which the CDK stack checks with too. Values the deploy computes (S3_BUCKET, the Functions' AWS key, TWILIO_FLOW_SID) are
 * not read from `.env`.
 */

export const SERVICE_NAME = 'patient-appointment-management';
export const FLOW_NAME = 'patient-appointment-management';

/** The credentials the deploy acts with; also stored in Secrets Manager for the reminder sweep. */
const TwilioTarget = z.object({
  TWILIO_ACCOUNT_SID: AccountSid.meta({ fix: 'copy the Account SID from the Twilio Console home page' }),
  TWILIO_API_KEY_SID: ApiKeySid.meta({ fix: 'create a Standard API key (Twilio Console → Account → API keys & tokens) and copy its SID' }),
  TWILIO_API_KEY_SECRET: ApiKeySecret.meta({
    fix: 'copy the secret shown once when the API key was created (create a new key if it is lost)',
  }),
  CUSTOMER_CODE: CustomerCode,
  AWS_REGION: FunctionsConfig.shape.AWS_REGION,
  AWS_ACCESS_KEY_ID: z
    .string()
    .regex(/^[A-Z0-9]{16,128}$/, { error: 'is not an AWS access key id' })
    .optional()
    .meta({ fix: 'use the access key of an AWS user or role allowed to deploy CloudFormation stacks (or set AWS_PROFILE instead)' }),
  AWS_SECRET_ACCESS_KEY: z
    .string()
    .min(16, { error: 'is too short to be an AWS secret access key' })
    .optional()
    .meta({ fix: 'use the secret of AWS_ACCESS_KEY_ID' }),
  AWS_SESSION_TOKEN: z.string().optional().meta({ fix: 'set it only with temporary credentials' }),
  AWS_PROFILE: z
    .string()
    .regex(/^[\w.+@-]+$/, { error: 'is not a profile name' })
    .optional()
    .meta({ fix: 'use a profile from ~/.aws/config, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead' }),
  TWILIO_PHONE_NUMBER: FunctionsConfig.shape.TWILIO_PHONE_NUMBER.optional(),
  VERIFY_SERVICE_SID: AdminConfig.shape.VERIFY_SERVICE_SID.optional(),
});

const Https = FunctionsConfig.shape.IE_ENDPOINT.refine((u) => !URL.canParse(u) || new URL(u).protocol === 'https:', {
  error: 'must use https: patients’ confirm and cancel requests carry health information',
});

export const DeployVariables = TwilioTarget.extend({
  TWILIO_PHONE_NUMBER: FunctionsConfig.shape.TWILIO_PHONE_NUMBER,
  CUSTOMER_NAME: FunctionsConfig.shape.CUSTOMER_NAME,
  EHR_API_KEY: FunctionsConfig.shape.EHR_API_KEY,
  IE_ENDPOINT: Https,
  IE_SIGNING_SECRET: FunctionsConfig.shape.IE_SIGNING_SECRET,
  DEFAULT_PHONE_COUNTRY: FunctionsConfig.shape.DEFAULT_PHONE_COUNTRY,
  REMINDER_FIRST_TIMING: FunctionsConfig.shape.REMINDER_FIRST_TIMING,
  REMINDER_SECOND_TIMING: FunctionsConfig.shape.REMINDER_SECOND_TIMING,
  REMINDER_OUTREACH_START: FunctionsConfig.shape.REMINDER_OUTREACH_START,
  REMINDER_OUTREACH_FINISH: FunctionsConfig.shape.REMINDER_OUTREACH_FINISH,
  REMINDER_MIN_GAP_HOURS: FunctionsConfig.shape.REMINDER_MIN_GAP_HOURS,
  TWILIO_MESSAGING_SERVICE_SID: FunctionsConfig.shape.TWILIO_MESSAGING_SERVICE_SID,
  APPLICATION_PASSWORD: AdminConfig.shape.APPLICATION_PASSWORD,
  ADMINISTRATOR_PHONE: AdminConfig.shape.ADMINISTRATOR_PHONE,
  SESSION_SECRET: AdminConfig.shape.SESSION_SECRET.optional(),
  LOG_LEVEL: z
    .enum(['debug', 'info', 'warn', 'error'], { error: 'must be debug, info, warn or error' })
    .optional()
    .meta({ fix: 'leave unset for info' }),
  ALARM_EMAIL: EmailAddress.meta({
    fix: 'the mailbox that receives the sweep alarms (failed runs, no successful run for too long); AWS mails it a confirmation link first',
  }),
  SWEEP_SCHEDULE: SweepSchedule.optional().meta({ fix: 'e.g. rate(15 minutes), or leave unset for every 15 minutes' }),
  RAW_RECEIVER: z.enum(['true', 'false'], { error: 'must be true or false' }).optional().meta({
    fix: 'set true to deploy the raw-body receiver (a Lambda Function URL for raw ER7 and application/fhir+json), or leave unset',
  }),
  ...FORMAT_INTAKE_SETTINGS,
  SIMULATION_ENABLED: FunctionsConfig.shape.SIMULATION_ENABLED,
  SIMULATION_ALLOWED_PHONES: FunctionsConfig.shape.SIMULATION_ALLOWED_PHONES,
});

/** Handed to the Functions as written when set: a deployed Simulation panel is off without them. */
export const SIMULATION_VARIABLES = ['SIMULATION_ENABLED', 'SIMULATION_ALLOWED_PHONES'] as const;

/**
 * The optional intake settings handed to the Functions as written in `.env` (HL7 zones, the EHR's
 * FHIR server): checked with the Functions' schemas, forwarded only when set.
 */
export type IntakeVariable = keyof typeof FORMAT_INTAKE_SETTINGS;
export const INTAKE_VARIABLES = Object.keys(FORMAT_INTAKE_SETTINGS) as IntakeVariable[];

/**
 * A variable's fix, also when the schema that carries it is wrapped (`.optional()`, `.default()`,
 * a transform): the shared schemas put `meta({ fix })` on the inner one.
 */
function fixOf(schema: z.ZodType): string {
  const fix = (schema.meta() as { fix?: string } | undefined)?.fix;
  if (fix) return fix;
  const inner = (schema as unknown as { _zod: { def: { innerType?: z.ZodType; in?: z.ZodType } } })._zod.def;
  const next = inner.innerType ?? inner.in;
  return next ? fixOf(next) : '';
}

const fixesOf = (schema: z.ZodObject) => Object.fromEntries(Object.entries(schema.shape).map(([k, s]) => [k, fixOf(s as z.ZodType)]));

export interface AwsCredentials {
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  profile?: string;
}

/** Enough to find, inspect and remove a deployment: what `status` and `destroy` need. */
export interface TargetSettings {
  customerCode: string;
  /** The CDK stack, named as infra/settings.ts names it. */
  stackName: string;
  region: string;
  aws: AwsCredentials;
  twilio: { accountSid: string; apiKeySid: string; apiKeySecret: string };
  phoneNumber?: string;
  /** Set when `.env` names a Verify service of its own; otherwise the deploy manages one. */
  verifyServiceSid?: string;
}

export interface DeploySettings extends TargetSettings {
  phoneNumber: string;
  customerName: string;
  ehrApiKey: string;
  ieEndpoint: string;
  ieSigningSecret: string;
  defaultPhoneCountry: string;
  /** HHMM as written in `.env` (the stack and the Functions take the reference app's spelling). */
  reminders: { firstTiming: string; secondTiming: string; outreachStart: string; outreachFinish: string; minGapHours?: string };
  /** The Messaging Service that holds the number: texts go through it and its status callback brings receipts. */
  messagingServiceSid?: string;
  applicationPassword: string;
  administratorPhone: string;
  sessionSecret?: string;
  /** Subscribed to the stack's alarm topic. */
  alarmEmail: string;
  logLevel?: string;
  sweepSchedule?: string;
  /** The INTAKE_VARIABLES that are set, verbatim (the Functions parse them again). */
  intake: Partial<Record<IntakeVariable, string>>;
  /** RAW_RECEIVER=true: the stack adds the raw-body receiver behind a Function URL. */
  rawReceiver: boolean;
  /** The SIMULATION_VARIABLES that are set, verbatim. */
  simulation: Partial<Record<(typeof SIMULATION_VARIABLES)[number], string>>;
}

export type Loaded<T> = { ok: true; settings: T } | { ok: false; problems: ConfigProblem[] };

export interface LoadOptions {
  /** Whether ~/.aws/config or ~/.aws/credentials exist (the SDK's and the CDK's default profile). */
  hasSharedAwsConfig?: boolean;
}

export function hasSharedAwsConfig(home = os.homedir()): boolean {
  const file = (name: string) => process.env[name] ?? path.join(home, '.aws', name === 'AWS_CONFIG_FILE' ? 'config' : 'credentials');
  return existsSync(file('AWS_CONFIG_FILE')) || existsSync(file('AWS_SHARED_CREDENTIALS_FILE'));
}

const value = (env: Env, key: string): string | undefined => {
  const v = env[key]?.trim();
  return v === undefined || v === '' ? undefined : v;
};

/** Cross-variable rules zod's per-field view cannot express, reported alongside the others. */
function awsCredentialProblems(env: Env, options: LoadOptions): ConfigProblem[] {
  const id = value(env, 'AWS_ACCESS_KEY_ID');
  const secret = value(env, 'AWS_SECRET_ACCESS_KEY');
  if (id && !secret)
    return [
      { variable: 'AWS_SECRET_ACCESS_KEY', problem: 'is not set but AWS_ACCESS_KEY_ID is', fix: 'set the secret of that access key' },
    ];
  if (secret && !id)
    return [
      {
        variable: 'AWS_ACCESS_KEY_ID',
        problem: 'is not set but AWS_SECRET_ACCESS_KEY is',
        fix: 'set the access key id that goes with the secret',
      },
    ];
  if (!id && !value(env, 'AWS_PROFILE') && !options.hasSharedAwsConfig) {
    return [
      {
        variable: 'AWS_ACCESS_KEY_ID',
        problem:
          'no AWS credentials: neither AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY nor AWS_PROFILE is set, and there is no ~/.aws/config',
        fix: 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY of a user allowed to deploy CloudFormation stacks, or AWS_PROFILE',
      },
    ];
  }
  return [];
}

function target(env: Env, c: z.infer<typeof TwilioTarget>): TargetSettings {
  const aws: AwsCredentials = {};
  if (c.AWS_ACCESS_KEY_ID) aws.accessKeyId = c.AWS_ACCESS_KEY_ID;
  if (c.AWS_SECRET_ACCESS_KEY) aws.secretAccessKey = c.AWS_SECRET_ACCESS_KEY;
  if (c.AWS_SESSION_TOKEN) aws.sessionToken = c.AWS_SESSION_TOKEN;
  if (c.AWS_PROFILE) aws.profile = c.AWS_PROFILE;
  return {
    customerCode: c.CUSTOMER_CODE,
    stackName: `Appointments-${c.CUSTOMER_CODE}`,
    region: c.AWS_REGION,
    aws,
    twilio: { accountSid: c.TWILIO_ACCOUNT_SID, apiKeySid: c.TWILIO_API_KEY_SID, apiKeySecret: c.TWILIO_API_KEY_SECRET },
    ...(c.TWILIO_PHONE_NUMBER ? { phoneNumber: c.TWILIO_PHONE_NUMBER } : {}),
    ...(c.VERIFY_SERVICE_SID ? { verifyServiceSid: c.VERIFY_SERVICE_SID } : {}),
  };
}

function sorted(problems: ConfigProblem[], schema: z.ZodObject): ConfigProblem[] {
  const order = Object.keys(schema.shape);
  return [...problems].sort((a, b) => order.indexOf(a.variable) - order.indexOf(b.variable));
}

/** For `status` and `destroy`: credentials and the customer code, nothing about the Functions. */
export function loadTargetSettings(env: Env, options: LoadOptions = {}): Loaded<TargetSettings> {
  const loaded = loadConfig(TwilioTarget, env, fixesOf(TwilioTarget));
  const problems = [...(loaded.ok ? [] : loaded.problems), ...awsCredentialProblems(env, options)];
  if (!loaded.ok || problems.length > 0) return { ok: false, problems: sorted(problems, TwilioTarget) };
  return { ok: true, settings: target(env, loaded.config) };
}

export function loadDeploySettings(env: Env, options: LoadOptions = {}): Loaded<DeploySettings> {
  const loaded = loadConfig(DeployVariables, env, fixesOf(DeployVariables));
  const intake = Object.fromEntries(
    INTAKE_VARIABLES.flatMap((k) => (value(env, k) === undefined ? [] : [[k, value(env, k) as string]])),
  ) as DeploySettings['intake'];
  const problems = [...(loaded.ok ? [] : loaded.problems), ...fhirSettingsProblems(intake), ...awsCredentialProblems(env, options)];
  if (!loaded.ok || problems.length > 0) return { ok: false, problems: sorted(problems, DeployVariables) };
  const c = loaded.config;
  const hhmm = (key: ReminderVariable) => value(env, key) ?? REMINDER_VARIABLES[key].default;
  return {
    ok: true,
    settings: {
      ...target(env, c),
      phoneNumber: c.TWILIO_PHONE_NUMBER,
      customerName: c.CUSTOMER_NAME,
      ehrApiKey: c.EHR_API_KEY,
      ieEndpoint: c.IE_ENDPOINT,
      ieSigningSecret: c.IE_SIGNING_SECRET,
      defaultPhoneCountry: c.DEFAULT_PHONE_COUNTRY,
      reminders: {
        firstTiming: hhmm('REMINDER_FIRST_TIMING'),
        secondTiming: hhmm('REMINDER_SECOND_TIMING'),
        outreachStart: hhmm('REMINDER_OUTREACH_START'),
        outreachFinish: hhmm('REMINDER_OUTREACH_FINISH'),
        ...(value(env, 'REMINDER_MIN_GAP_HOURS') !== undefined ? { minGapHours: value(env, 'REMINDER_MIN_GAP_HOURS') } : {}),
      },
      ...(c.TWILIO_MESSAGING_SERVICE_SID ? { messagingServiceSid: c.TWILIO_MESSAGING_SERVICE_SID } : {}),
      applicationPassword: c.APPLICATION_PASSWORD,
      administratorPhone: c.ADMINISTRATOR_PHONE,
      alarmEmail: c.ALARM_EMAIL,
      ...(c.SESSION_SECRET ? { sessionSecret: c.SESSION_SECRET } : {}),
      ...(c.LOG_LEVEL ? { logLevel: c.LOG_LEVEL } : {}),
      ...(c.SWEEP_SCHEDULE ? { sweepSchedule: c.SWEEP_SCHEDULE } : {}),
      intake,
      rawReceiver: c.RAW_RECEIVER === 'true',
      simulation: Object.fromEntries(
        SIMULATION_VARIABLES.flatMap((k) => (value(env, k) === undefined ? [] : [[k, value(env, k) as string]])),
      ),
    },
  };
}

/**
 * `.env` merged under the process environment (a variable exported in the shell wins, as with
 * dotenv and `npm start`). Nothing is written into process.env, so child processes only get what
 * is handed to them on purpose.
 */
export function readDeployEnv(file: string, processEnv: Env = process.env): { env: Env; fileFound: boolean } {
  const fileFound = existsSync(file);
  const fromFile = fileFound ? parse(readFileSync(file)) : {};
  return { env: { ...fromFile, ...processEnv }, fileFound };
}

/** Values that must never appear in output, whatever prints them. */
export function secretValues(env: Env): string[] {
  return [
    'TWILIO_API_KEY_SECRET',
    'TWILIO_AUTH_TOKEN',
    'AUTH_TOKEN',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'EHR_API_KEY',
    'IE_SIGNING_SECRET',
    'APPLICATION_PASSWORD',
    'SESSION_SECRET',
    'FHIR_BEARER_TOKEN',
    'FHIR_CLIENT_SECRET',
  ].flatMap((k) => {
    const v = value(env, k);
    return v ? [v] : [];
  });
}
