import { z } from 'zod';
import { getCountries, type CountryCode } from 'libphonenumber-js/min';
import { compactPhone, isE164 } from '../domain/e164';
import { DEFAULT_REMINDER_POLICY } from '../domain/reminder-defaults';
import { parseAppointmentZone } from '../domain/time';
import { AccountSid, ApiKeySecret, ApiKeySid, E164Phone, FlowSid, MessagingServiceSid, reminderSetting } from './rules';

/**
 * The one place that reads configuration. Each runtime (Twilio Functions `context`, the Lambda's
 * `process.env`, local scripts) hands its environment here; every problem is reported at once with
 * the variable, what is wrong and how to fix it.
 */
export interface ConfigProblem {
  variable: string;
  problem: string;
  fix: string;
}

export type Env = Record<string, string | undefined>;

const countries = new Set<string>(getCountries());

function ianaZoneProblem(name: string): string | undefined {
  const z = parseAppointmentZone(name);
  if (!z.ok) return z.reason;
  return z.value.kind === 'iana' ? undefined : `${name} is a fixed offset; use an IANA zone such as America/New_York`;
}

function facilityZonesProblem(text: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'is not JSON; use an object such as {"NORTH":"America/Chicago"}';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'is not a JSON object of facility → zone';
  for (const [facility, zone] of Object.entries(parsed)) {
    if (typeof zone !== 'string') return `facility ${facility}: the zone must be a string`;
    const problem = ianaZoneProblem(zone);
    if (problem) return `facility ${facility}: ${problem}`;
  }
  return undefined;
}

export const FunctionsConfig = z.object({
  EHR_API_KEY: z
    .string({ error: 'is not set' })
    .min(24, { error: 'is shorter than 24 characters' })
    .meta({ fix: 'set a long random secret, e.g. `openssl rand -hex 24`, and give it to the EHR integration engine' }),
  S3_BUCKET: z
    .string({ error: 'is not set' })
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: 'is not a valid S3 bucket name' })
    .meta({ fix: 'use the bucket name printed by `npm run deploy` (locally the default works)' }),
  AWS_REGION: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: 'is not an AWS region' })
    .default('us-east-1')
    .meta({ fix: 'use a region code such as us-east-1' }),
  S3_ENDPOINT: z
    .url({ error: 'is not a URL' })
    .optional()
    .meta({ fix: 'leave unset for AWS S3; set to the embedded server URL only for local runs' }),
  AWS_ACCESS_KEY_ID: z.string().min(1).optional().meta({ fix: 'use the access key from the stack outputs' }),
  AWS_SECRET_ACCESS_KEY: z.string().min(1).optional().meta({ fix: 'use the secret key from the stack outputs' }),
  ACCOUNT_SID: AccountSid.meta({ fix: 'deployed Functions get it from Twilio; for local runs `npm start` sets it' }),
  AUTH_TOKEN: z
    .string({ error: 'is not set' })
    .min(16, { error: 'is too short to be a Twilio auth token' })
    .meta({ fix: 'deployed Functions get it from Twilio ("Add my Twilio Credentials"); `npm start` generates a local one' }),
  TWILIO_PHONE_NUMBER: E164Phone.meta({ fix: 'use your Twilio number in E.164, e.g. +14155550100' }),
  TWILIO_FLOW_SID: FlowSid.meta({ fix: 'run `npm run deploy`, which creates the flow and sets this variable' }),
  TWILIO_API_BASE_URL: z
    .url({ error: 'is not a URL' })
    .optional()
    .meta({ fix: 'leave unset in production; `npm start` points it at the local Twilio stand-in' }),
  IE_ENDPOINT: z
    .url({ error: 'is not a URL' })
    .meta({ fix: "set the EHR integration engine's URL that receives patients' confirm/cancel requests" }),
  IE_SIGNING_SECRET: z
    .string({ error: 'is not set' })
    .min(24, { error: 'is shorter than 24 characters' })
    .meta({ fix: 'set a long random secret shared with the EHR integration engine, e.g. `openssl rand -hex 24`' }),
  CUSTOMER_NAME: z
    .string({ error: 'is not set' })
    .min(1, { error: 'is empty' })
    .max(60, { error: 'is longer than 60 characters (it is part of every SMS)' })
    .meta({ fix: "set the clinic's name as patients know it, e.g. Owl Health" }),
  DEFAULT_PHONE_COUNTRY: z
    .string()
    .default('US')
    .refine((c) => countries.has(c), { error: 'is not an ISO 3166 country code known to the phone library' })
    .transform((c) => c as CountryCode)
    .meta({ fix: 'use a two-letter country code such as US or CA' }),
  // HHMM rules and defaults (08:00–21:00 outreach, TCPA's calling hours) live in rules.ts.
  REMINDER_FIRST_TIMING: reminderSetting('REMINDER_FIRST_TIMING'),
  REMINDER_SECOND_TIMING: reminderSetting('REMINDER_SECOND_TIMING'),
  REMINDER_OUTREACH_START: reminderSetting('REMINDER_OUTREACH_START'),
  REMINDER_OUTREACH_FINISH: reminderSetting('REMINDER_OUTREACH_FINISH'),
  /** Least time between the last text about an appointment and a reminder (event texts are never held back). */
  REMINDER_MIN_GAP_HOURS: z.coerce
    .number({ error: 'is not a number' })
    .min(0, { error: 'must be at least 0' })
    .max(72, { error: 'must be at most 72' })
    .default(DEFAULT_REMINDER_POLICY.minGapMinutes / 60)
    .meta({ fix: 'use a number of hours, e.g. 12, or 0 for no gap' }),
  /**
   * The Messaging Service the flow's texts are sent through (executions start with it as From), so
   * Twilio posts every text's delivery status to the service's status callback (/twilio/status).
   */
  TWILIO_MESSAGING_SERVICE_SID: MessagingServiceSid.optional().meta({
    fix: 'use the SID of the Messaging Service that holds TWILIO_PHONE_NUMBER (Console → Messaging → Services), or leave it unset',
  }),
  /** An event dated further ahead than this is refused: it would outrank every real event that follows. */
  EHR_EVENT_MAX_FUTURE_HOURS: z.coerce
    .number({ error: 'is not a number' })
    .int({ error: 'is not a whole number' })
    .min(1, { error: 'must be at least 1' })
    .max(720, { error: 'must be at most 720' })
    .default(24)
    .meta({ fix: 'use a whole number of hours, e.g. 24' }),
  /** An appointment further ahead than this is refused: a date that far out is a typing or conversion error. */
  EHR_APPOINTMENT_MAX_FUTURE_DAYS: z.coerce
    .number({ error: 'is not a number' })
    .int({ error: 'is not a whole number' })
    .min(1, { error: 'must be at least 1' })
    .max(3650, { error: 'must be at most 3650' })
    .default(730)
    .meta({ fix: 'use a whole number of days, e.g. 730 (two years)' }),
  // FHIR intake (POST /ehr/fhir): the EHR's FHIR server, read when a notification or an
  // Appointment only names the resources it is about (README, "Connecting a FHIR feed").
  FHIR_BASE_URL: z
    .url({ protocol: /^https?$/, error: 'is not an http(s) URL' })
    .optional()
    .meta({ fix: "set the EHR's FHIR R4 base URL, e.g. https://ehr.example.org/fhir/r4 (leave unset if the feed sends whole resources)" }),
  FHIR_BEARER_TOKEN: z
    .string()
    .min(16, { error: 'is shorter than 16 characters' })
    .optional()
    .meta({ fix: 'set the access token the FHIR server issued, or use FHIR_CLIENT_ID/FHIR_CLIENT_SECRET/FHIR_TOKEN_URL instead' }),
  FHIR_CLIENT_ID: z.string().min(1).optional().meta({ fix: 'set the OAuth2 client id registered with the EHR (client_credentials grant)' }),
  FHIR_CLIENT_SECRET: z
    .string()
    .min(8, { error: 'is shorter than 8 characters' })
    .optional()
    .meta({ fix: 'set the OAuth2 client secret registered with the EHR' }),
  FHIR_TOKEN_URL: z
    .url({ protocol: /^https?$/, error: 'is not an http(s) URL' })
    .optional()
    .meta({ fix: "set the EHR's OAuth2 token endpoint, e.g. https://ehr.example.org/oauth2/token" }),
  FHIR_SCOPE: z
    .string()
    .min(1)
    .optional()
    .meta({ fix: 'set the scopes the EHR requires, e.g. system/Appointment.read system/Patient.read (optional)' }),
  // HL7 v2 intake (POST /ehr/hl7): the zone of wall-clock times, which HL7 messages carry without an offset.
  EHR_DEFAULT_TIMEZONE: z
    .string()
    .optional()
    .refine((v) => v === undefined || ianaZoneProblem(v) === undefined, { error: 'is not an IANA time zone such as America/New_York' })
    .meta({ fix: "set the clinic's IANA zone, e.g. America/New_York (needed by POST /ehr/hl7; a fixed offset would be wrong across DST)" }),
  EHR_FACILITY_TIMEZONES: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return {};
      const problem = facilityZonesProblem(v);
      if (problem) {
        ctx.addIssue({ code: 'custom', message: problem });
        return z.NEVER;
      }
      return JSON.parse(v) as Record<string, string>;
    })
    .meta({
      fix: 'set a JSON object from facility (MSH-4.1 or AIL-3 PL.4) to IANA zone, e.g. {"NORTH":"America/Chicago"}, or leave it unset',
    }),
  // The admin page's Simulation panel texts real phones in a deployed service, so there it is
  // off unless enabled, and then sends only to the listed numbers (src/admin/simulation-gate.ts).
  SIMULATION_ENABLED: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .optional()
    .meta({ fix: 'leave unset (on with npm start, off when deployed), or set true to allow simulations in a deployed service' }),
  SIMULATION_ALLOWED_PHONES: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const phones: string[] = [];
      for (const part of (v ?? '')
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p !== '')) {
        const compact = compactPhone(part);
        if (!isE164(compact)) {
          ctx.addIssue({ code: 'custom', message: `entry ${phones.length + 1} is not an E.164 phone number` });
          return z.NEVER;
        }
        phones.push(compact);
      }
      return phones;
    })
    .meta({ fix: 'list the test phones a deployed simulation may text, in E.164 separated by commas, e.g. +14155550100,+14155550101' }),
  SERVICE_MODE: z
    .enum(['local', 'deployed'], { error: 'must be local or deployed' })
    .optional()
    .meta({ fix: 'leave unset; `SERVICE_MODE=deployed npm start` rehearses the deployed page (it can only make a local run stricter)' }),
});
export type FunctionsConfig = z.infer<typeof FunctionsConfig>;

/**
 * The FHIR settings that only make sense together: a base URL needs credentials, credentials a
 * base URL, and client credentials all three parts. (Kept out of the schema so it can still be
 * picked and omitted from.)
 */
export function fhirSettingsProblems(
  c: Partial<Pick<FunctionsConfig, 'FHIR_BASE_URL' | 'FHIR_BEARER_TOKEN' | 'FHIR_CLIENT_ID' | 'FHIR_CLIENT_SECRET' | 'FHIR_TOKEN_URL'>>,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const client = [c.FHIR_CLIENT_ID, c.FHIR_CLIENT_SECRET, c.FHIR_TOKEN_URL];
  const some = client.some((v) => v !== undefined);
  if (some) {
    (['FHIR_CLIENT_ID', 'FHIR_CLIENT_SECRET', 'FHIR_TOKEN_URL'] as const).forEach((variable, i) => {
      if (client[i] === undefined)
        problems.push({
          variable,
          problem: 'is not set, but the other OAuth2 client settings are',
          fix: 'set all three of FHIR_CLIENT_ID, FHIR_CLIENT_SECRET and FHIR_TOKEN_URL, or none of them',
        });
    });
  }
  if (some && c.FHIR_BEARER_TOKEN) {
    problems.push({
      variable: 'FHIR_BEARER_TOKEN',
      problem: 'is set together with OAuth2 client credentials',
      fix: 'use either a fixed FHIR_BEARER_TOKEN or the client credentials, not both',
    });
  }
  if ((some || c.FHIR_BEARER_TOKEN) && !c.FHIR_BASE_URL) {
    problems.push({
      variable: 'FHIR_BASE_URL',
      problem: 'is not set, but FHIR credentials are',
      fix: "set the EHR's FHIR base URL the credentials are for",
    });
  }
  if (c.FHIR_BASE_URL && !some && !c.FHIR_BEARER_TOKEN) {
    problems.push({
      variable: 'FHIR_BASE_URL',
      problem: 'is set without credentials',
      fix: 'set FHIR_BEARER_TOKEN, or FHIR_CLIENT_ID, FHIR_CLIENT_SECRET and FHIR_TOKEN_URL',
    });
  }
  return problems;
}

const positiveInt = (fallback: number, max: number) =>
  z.coerce
    .number({ error: 'is not a number' })
    .int({ error: 'is not a whole number' })
    .min(1, { error: 'must be at least 1' })
    .max(max, { error: `must be at most ${max}` })
    .default(fallback);

/**
 * The reminder sweep (Lambda, and `npm start`'s timer). Twilio credentials are an API key, read
 * from Secrets Manager (TWILIO_SECRET_ARN) at cold start; locally they are given directly.
 */
export const SweepConfig = z.object({
  S3_BUCKET: FunctionsConfig.shape.S3_BUCKET,
  AWS_REGION: FunctionsConfig.shape.AWS_REGION,
  S3_ENDPOINT: FunctionsConfig.shape.S3_ENDPOINT,
  AWS_ACCESS_KEY_ID: FunctionsConfig.shape.AWS_ACCESS_KEY_ID,
  AWS_SECRET_ACCESS_KEY: FunctionsConfig.shape.AWS_SECRET_ACCESS_KEY,
  TWILIO_SECRET_ARN: z
    .string()
    .startsWith('arn:', { error: 'is not an ARN' })
    .optional()
    .meta({ fix: 'use the TwilioSecretArn stack output (set by the stack)' }),
  TWILIO_ACCOUNT_SID: FunctionsConfig.shape.ACCOUNT_SID.optional(),
  TWILIO_API_KEY_SID: ApiKeySid.optional().meta({
    fix: 'create an API key in the Twilio console; the deploy stores it in the Twilio secret',
  }),
  TWILIO_API_KEY_SECRET: ApiKeySecret.optional().meta({ fix: 'the secret of the API key' }),
  TWILIO_API_BASE_URL: FunctionsConfig.shape.TWILIO_API_BASE_URL,
  TWILIO_PHONE_NUMBER: FunctionsConfig.shape.TWILIO_PHONE_NUMBER,
  TWILIO_FLOW_SID: FunctionsConfig.shape.TWILIO_FLOW_SID,
  IE_ENDPOINT: FunctionsConfig.shape.IE_ENDPOINT.optional(),
  IE_SIGNING_SECRET: FunctionsConfig.shape.IE_SIGNING_SECRET.optional(),
  DEFAULT_PHONE_COUNTRY: FunctionsConfig.shape.DEFAULT_PHONE_COUNTRY,
  REMINDER_FIRST_TIMING: FunctionsConfig.shape.REMINDER_FIRST_TIMING,
  REMINDER_SECOND_TIMING: FunctionsConfig.shape.REMINDER_SECOND_TIMING,
  REMINDER_OUTREACH_START: FunctionsConfig.shape.REMINDER_OUTREACH_START,
  REMINDER_OUTREACH_FINISH: FunctionsConfig.shape.REMINDER_OUTREACH_FINISH,
  REMINDER_MIN_GAP_HOURS: FunctionsConfig.shape.REMINDER_MIN_GAP_HOURS,
  TWILIO_MESSAGING_SERVICE_SID: FunctionsConfig.shape.TWILIO_MESSAGING_SERVICE_SID,
  SWEEP_RATE_PER_SECOND: positiveInt(20, 100).meta({
    fix: "Studio accepts 20 new executions per second per account; don't go above your limit",
  }),
  SWEEP_CONCURRENCY: positiveInt(8, 64).meta({ fix: 'use a small number such as 8' }),
});
export type SweepConfig = z.infer<typeof SweepConfig>;

/**
 * The optional settings of the HL7 and FHIR intakes (wall-clock zones, the EHR's FHIR server), as
 * the Functions read them: the receiver and the deploy settings take the same schemas.
 */
export const FORMAT_INTAKE_SETTINGS = FunctionsConfig.pick({
  EHR_DEFAULT_TIMEZONE: true,
  EHR_FACILITY_TIMEZONES: true,
  FHIR_BASE_URL: true,
  FHIR_BEARER_TOKEN: true,
  FHIR_CLIENT_ID: true,
  FHIR_CLIENT_SECRET: true,
  FHIR_TOKEN_URL: true,
  FHIR_SCOPE: true,
}).shape;

/**
 * The raw-body receiver (lambda/receiver.ts; `npm start` serves it at /raw): what the sweep needs to
 * start the flow, plus the intake settings of the Functions. Deployed, EHR_API_KEY and the FHIR
 * secrets come from the intake secret (INTAKE_SECRET_ARN), never from the Lambda's environment.
 */
export const ReceiverConfig = SweepConfig.omit({ SWEEP_RATE_PER_SECOND: true, SWEEP_CONCURRENCY: true }).extend({
  INTAKE_SECRET_ARN: z
    .string()
    .startsWith('arn:', { error: 'is not an ARN' })
    .optional()
    .meta({ fix: 'use the IntakeSecretArn stack output (set by the stack)' }),
  EHR_API_KEY: FunctionsConfig.shape.EHR_API_KEY,
  EHR_EVENT_MAX_FUTURE_HOURS: FunctionsConfig.shape.EHR_EVENT_MAX_FUTURE_HOURS,
  EHR_APPOINTMENT_MAX_FUTURE_DAYS: FunctionsConfig.shape.EHR_APPOINTMENT_MAX_FUTURE_DAYS,
  ...FORMAT_INTAKE_SETTINGS,
});
export type ReceiverConfig = z.infer<typeof ReceiverConfig>;

const FIX_BY_VARIABLE: Record<string, string> = Object.fromEntries(
  [...Object.entries(FunctionsConfig.shape), ...Object.entries(SweepConfig.shape), ...Object.entries(ReceiverConfig.shape)].map(
    ([k, schema]) => [k, String((schema.meta() as { fix?: string } | undefined)?.fix ?? '')],
  ),
);

export function loadConfig<T extends z.ZodObject>(
  schema: T,
  env: Env,
  fixes: Record<string, string> = FIX_BY_VARIABLE,
): { ok: true; config: z.infer<T> } | { ok: false; problems: ConfigProblem[] } {
  const input: Record<string, string | undefined> = {};
  for (const key of Object.keys(schema.shape)) {
    const v = env[key];
    // An empty value in .env means "not set", so defaults apply.
    input[key] = v === undefined || v.trim() === '' ? undefined : v;
  }
  const parsed = schema.safeParse(input);
  if (parsed.success) return { ok: true, config: parsed.data };
  const problems = parsed.error.issues.map((issue) => {
    const variable = String(issue.path[0] ?? '');
    const params = (issue as { params?: { fix?: string } }).params;
    const message = issue.message.startsWith(`${variable}: `) ? issue.message.slice(variable.length + 2) : issue.message;
    return { variable, problem: message, fix: params?.fix ?? fixes[variable] ?? '' };
  });
  return { ok: false, problems };
}

/** The config `loaded` from `env`, failed with the FHIR settings' own problems when they do not fit together. */
function withFhirProblems<T>(loaded: { ok: true; config: T } | { ok: false; problems: ConfigProblem[] }, env: Env) {
  const present = (k: string) => (env[k] === undefined || env[k].trim() === '' ? undefined : env[k]);
  const fhir = fhirSettingsProblems(
    Object.fromEntries(
      ['FHIR_BASE_URL', 'FHIR_BEARER_TOKEN', 'FHIR_CLIENT_ID', 'FHIR_CLIENT_SECRET', 'FHIR_TOKEN_URL'].map((k) => [k, present(k)]),
    ),
  );
  if (fhir.length === 0) return loaded;
  return { ok: false as const, problems: [...(loaded.ok ? [] : loaded.problems), ...fhir] };
}

export function loadFunctionsConfig(env: Env): ReturnType<typeof loadConfig<typeof FunctionsConfig>> {
  return withFhirProblems(loadConfig(FunctionsConfig, env), env);
}

export function loadReceiverConfig(env: Env): ReturnType<typeof loadConfig<typeof ReceiverConfig>> {
  return withFhirProblems(loadConfig(ReceiverConfig, env), env);
}

export function loadSweepConfig(env: Env) {
  return loadConfig(SweepConfig, env);
}

export function describeProblems(problems: ConfigProblem[]): string {
  return problems.map((p) => `${p.variable}: ${p.problem}${p.fix ? ` (fix: ${p.fix})` : ''}`).join('\n');
}
