import { z } from 'zod';
import { E164_PATTERN } from '../domain/e164';
import { DEFAULT_REMINDER_POLICY, minutesAsHhmm } from '../domain/reminder-defaults';

/**
 * The configuration rules, written once. The Functions' and the sweep's config (config.ts), the
 * deploy settings (scripts/lib/deploy/settings.ts) and the CDK stack (infra/stack.ts) all check
 * values with these schemas, so a value one of them accepts is accepted by all. Only zod and the
 * import-free reminder defaults here: the stack imports this module at synth time.
 */

/**
 * The clinic's short name; it suffixes every AWS resource name (bucket, IAM, Lambda, secrets, the
 * stack `Appointments-<code>`). Lowercase letters and digits only: every one of those names
 * allows them, and without hyphens `appointments-<code>-<account>-<region>` cannot be read two
 * ways. At most 20 so the bucket name (63 characters at most) fits the longest region name.
 */
export const CUSTOMER_CODE_PATTERN = /^[a-z0-9]{1,20}$/;
export const CustomerCode = z
  .string({ error: 'is not set' })
  .regex(CUSTOMER_CODE_PATTERN, { error: 'must be 1-20 lowercase letters or digits (no spaces, hyphens or other characters)' })
  .meta({ fix: 'use a short lowercase name for the clinic, e.g. owlhealth; it becomes part of the AWS resource names' });

export { E164_PATTERN };
export const E164Phone = z.string({ error: 'is not set' }).regex(E164_PATTERN, { error: 'is not an E.164 phone number' });

/** A Twilio SID: two letters naming the resource type, then 32 hex digits. */
function twilioSid(prefix: string, what: string) {
  return z
    .string({ error: 'is not set' })
    .regex(new RegExp(`^${prefix}[0-9a-fA-F]{32}$`), { error: `is not a ${what} SID (${prefix} followed by 32 hex digits)` });
}
export const AccountSid = twilioSid('AC', 'Twilio account');
export const ApiKeySid = twilioSid('SK', 'Twilio API key');
export const FlowSid = twilioSid('FW', 'Studio Flow');
export const MessagingServiceSid = twilioSid('MG', 'Messaging Service');
export const VerifyServiceSid = twilioSid('VA', 'Twilio Verify service');
/** Twilio shows an API key's secret once: 32 characters. */
export const ApiKeySecret = z
  .string({ error: 'is not set' })
  .min(32, { error: 'is shorter than the 32 characters of a Twilio API key secret' });

export const EmailAddress = z.string({ error: 'is not set' }).regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, { error: 'is not an e-mail address' });

/** An EventBridge schedule expression. */
export const SweepSchedule = z.string().regex(/^(rate|cron)\(.+\)$/, { error: 'must be an EventBridge rate(...) or cron(...) expression' });

/** Lead times may be up to 30 days ahead; clock times are within one day (2400 = midnight at the end). */
export const MAX_LEAD_MINUTES = 30 * 24 * 60;
export const MAX_CLOCK_MINUTES = 24 * 60;

const HHMM = /^(\d{2})(\d{2})$/;

/** `HHMM` as minutes (hours may exceed 24 for lead times: 4800 = 48 hours), or undefined when it is not HHMM within `maxMinutes`. */
export function hhmmMinutes(text: string, maxMinutes: number): number | undefined {
  const m = HHMM.exec(text.trim());
  if (!m || Number(m[2]) >= 60) return undefined;
  const minutes = Number(m[1]) * 60 + Number(m[2]);
  return minutes > maxMinutes ? undefined : minutes;
}

/** An HHMM setting, read as minutes; the message names the variable, as the deploy and the admin page show it. */
export function hhmm(variable: string, maxMinutes: number, fix: string) {
  return z.string().transform((v, ctx) => {
    const minutes = hhmmMinutes(v, maxMinutes);
    if (minutes === undefined) {
      ctx.addIssue({ code: 'custom', message: `${variable}: "${v}" is not HHMM within range`, params: { fix } });
      return z.NEVER;
    }
    return minutes;
  });
}

/** The reminder settings in the reference app's HHMM spelling, with their one set of defaults. */
export const REMINDER_VARIABLES = {
  REMINDER_FIRST_TIMING: {
    maxMinutes: MAX_LEAD_MINUTES,
    default: minutesAsHhmm(DEFAULT_REMINDER_POLICY.firstLeadMinutes),
    fix: 'use HHMM hours before the appointment, e.g. 4800',
  },
  REMINDER_SECOND_TIMING: {
    maxMinutes: MAX_LEAD_MINUTES,
    default: minutesAsHhmm(DEFAULT_REMINDER_POLICY.secondLeadMinutes),
    fix: 'use HHMM, e.g. 2400, or 0000 to turn it off',
  },
  // 08:00–21:00 in the patient's zone (TCPA's calling hours); 0000 with 2400 is the reference app's "any time".
  REMINDER_OUTREACH_START: {
    maxMinutes: MAX_CLOCK_MINUTES,
    default: minutesAsHhmm(DEFAULT_REMINDER_POLICY.outreachStartMinutes),
    fix: 'use HHMM local time, e.g. 0800',
  },
  REMINDER_OUTREACH_FINISH: {
    maxMinutes: MAX_CLOCK_MINUTES,
    default: minutesAsHhmm(DEFAULT_REMINDER_POLICY.outreachFinishMinutes),
    fix: 'use HHMM local time, e.g. 2100 (2400 = midnight)',
  },
} as const;
export type ReminderVariable = keyof typeof REMINDER_VARIABLES;

/** The schema of one reminder variable: HHMM text in, minutes out, the shared default when unset. */
export function reminderSetting(variable: ReminderVariable) {
  const rule = REMINDER_VARIABLES[variable];
  return hhmm(variable, rule.maxMinutes, rule.fix)
    .default(hhmmMinutes(rule.default, rule.maxMinutes) as number)
    .meta({ fix: rule.fix });
}

/**
 * The Twilio credentials secret in Secrets Manager: the deploy and `rotate-keys` write it, the
 * stack creates it with a placeholder of this shape, the sweep and the receiver read it.
 * `ie_signing_secret` is written by the deploy for the Lambdas' origin marker and EHR signatures.
 */
export const TwilioSecret = z.object({
  account_sid: AccountSid,
  api_key_sid: ApiKeySid,
  api_key_secret: ApiKeySecret,
  ie_signing_secret: z.string().min(24, { error: 'is shorter than 24 characters' }).optional(),
});
export type TwilioSecret = z.infer<typeof TwilioSecret>;
export const TWILIO_SECRET_FIELDS = Object.keys(TwilioSecret.shape) as (keyof TwilioSecret)[];

/** The first problem of `schema` for `value`, as "<reason>", or undefined when it passes. */
export function ruleProblem(schema: z.ZodType, value: unknown): string | undefined {
  const r = schema.safeParse(value);
  return r.success ? undefined : (r.error.issues[0]?.message ?? 'is invalid');
}
