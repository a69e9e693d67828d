import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { SweepSchedule } from '../src/config/rules';
import { FUNCTIONS_KEY_SLOTS, RECEIVER_SETTINGS, type AppointmentStackProps, type FunctionsKeySlot } from './stack';

export type Env = Record<string, string | undefined>;

export interface DeploySettings {
  stackName: string;
  props: AppointmentStackProps;
}

/**
 * Reads the stack's settings from CDK context (`cdk synth -c customerCode=acme`) first and the
 * environment (.env, as `npm run deploy` exports it) second. Values are checked by the stack;
 * this only turns text into the right types and reports every unreadable value at once.
 */
/** Context values arrive as text, or parsed (numbers, booleans, JSON objects) when given as JSON. */
const asText = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

export function readDeploySettings(context: (key: string) => unknown, env: Env): DeploySettings {
  const problems: string[] = [];
  const text = (contextKey: string, envKey: string): string | undefined => {
    const v = context(contextKey) ?? env[envKey];
    if (v === undefined) return undefined;
    // The CDK CLI hands `-c KEY={"a":"b"}` over parsed; the stack wants the text.
    const s = asText(v).trim();
    return s === '' ? undefined : s;
  };
  const integer = (contextKey: string, envKey: string): number | undefined => {
    const v = text(contextKey, envKey);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) problems.push(`${envKey} (context ${contextKey}) "${v}" is not a whole number`);
    return Number(v);
  };

  const customerCode = text('customerCode', 'CUSTOMER_CODE') ?? 'local';
  // Only an explicit context flag may make the data deletable, never a leftover .env line.
  const deleteData = asText(context('deleteData') ?? 'false') === 'true';
  const schedule = text('sweepSchedule', 'SWEEP_SCHEDULE');
  if (schedule !== undefined && !SweepSchedule.safeParse(schedule).success) {
    problems.push(`SWEEP_SCHEDULE (context sweepSchedule) "${schedule}" must be rate(...) or cron(...)`);
  }
  // Context only: the deploy passes the slots the stack has (a leftover .env line must not drop a key).
  const rawKeys = context('functionsKeys');
  const keys = rawKeys === undefined || rawKeys === null || asText(rawKeys).trim() === '' ? undefined : asText(rawKeys).trim();
  const slots = keys?.split(',').map((k) => k.trim());
  if (slots && !slots.every((k): k is FunctionsKeySlot => (FUNCTIONS_KEY_SLOTS as readonly string[]).includes(k))) {
    problems.push(`context functionsKeys "${keys}" must be a, b or a,b`);
  }
  const timeoutSeconds = integer('sweepTimeoutSeconds', 'SWEEP_TIMEOUT_SECONDS');
  const memory = integer('sweepMemoryMiB', 'SWEEP_MEMORY_MB');
  const reminders = {
    firstTiming: text('REMINDER_FIRST_TIMING', 'REMINDER_FIRST_TIMING'),
    secondTiming: text('REMINDER_SECOND_TIMING', 'REMINDER_SECOND_TIMING'),
    outreachStart: text('REMINDER_OUTREACH_START', 'REMINDER_OUTREACH_START'),
    outreachFinish: text('REMINDER_OUTREACH_FINISH', 'REMINDER_OUTREACH_FINISH'),
  };
  const passThrough = Object.fromEntries(
    [
      'LOG_LEVEL',
      'DEFAULT_PHONE_COUNTRY',
      'CUSTOMER_NAME',
      'IE_ENDPOINT',
      'REMINDER_MIN_GAP_HOURS',
      'TWILIO_MESSAGING_SERVICE_SID',
    ].flatMap((k) => {
      const v = text(k, k);
      return v === undefined ? [] : [[k, v]];
    }),
  );
  const raw = text('RAW_RECEIVER', 'RAW_RECEIVER');
  if (raw !== undefined && raw !== 'true' && raw !== 'false')
    problems.push(`RAW_RECEIVER (context RAW_RECEIVER) "${raw}" must be true or false`);
  const rawReceiver = raw === 'true';
  const receiverEnvironment = Object.fromEntries(
    RECEIVER_SETTINGS.flatMap((k) => {
      const v = rawReceiver ? text(k, k) : undefined;
      return v === undefined ? [] : [[k, v]];
    }),
  );
  if (problems.length > 0) throw new Error(`deploy settings are invalid:\n- ${problems.join('\n- ')}`);

  const flowSid = text('TWILIO_FLOW_SID', 'TWILIO_FLOW_SID');
  const alarmEmail = text('ALARM_EMAIL', 'ALARM_EMAIL');
  const phone = text('TWILIO_PHONE_NUMBER', 'TWILIO_PHONE_NUMBER');
  return {
    stackName: `Appointments-${customerCode}`,
    props: {
      customerCode,
      deleteDataOnDestroy: deleteData,
      ...(schedule ? { sweepSchedule: events.Schedule.expression(schedule) } : {}),
      ...(timeoutSeconds !== undefined ? { sweepTimeout: Duration.seconds(timeoutSeconds) } : {}),
      ...(memory !== undefined ? { sweepMemorySize: memory } : {}),
      reminders: Object.fromEntries(Object.entries(reminders).filter(([, v]) => v !== undefined)),
      ...(flowSid ? { twilioFlowSid: flowSid } : {}),
      ...(phone ? { twilioPhoneNumber: phone } : {}),
      ...(alarmEmail ? { alarmEmail } : {}),
      ...(slots ? { functionsKeySlots: slots as FunctionsKeySlot[] } : {}),
      sweepEnvironment: passThrough,
      ...(rawReceiver ? { rawReceiver, receiverEnvironment } : {}),
    },
  };
}
