import type { SweepConfig } from '../config/config';
import type { ReminderPolicy } from '../domain/reminder-plan';
import { EhrNotifier } from '../ehr/notifier';
import { originMarker } from '../messaging/origin-marker';
import { TwilioFlowStarter } from '../messaging/twilio-flow-starter';
import { S3AdminStore } from '../storage/s3-admin-store';
import { S3AppointmentStore } from '../storage/s3-appointment-store';
import { createS3Client, s3SettingsFrom } from '../storage/s3-client';
import { S3StaffRecords } from '../storage/s3-staff-records';
import { createTwilioClient, type TwilioClient } from '../twilio/client';
import { now } from './clock';

/**
 * The composition root's parts, each built in one place from a validated config. Every runtime
 * (the Functions, the sweep Lambda, the raw-body receiver Lambda, the admin Functions and the local
 * stack, which runs those same builders) calls these, so two runtimes cannot drift apart: a
 * receiver that started flows from the bare number while the Functions used the Messaging Service
 * lost delivery receipts and the reminder gap (issue 21).
 */

export type ReminderSettings = Pick<
  SweepConfig,
  'REMINDER_FIRST_TIMING' | 'REMINDER_SECOND_TIMING' | 'REMINDER_OUTREACH_START' | 'REMINDER_OUTREACH_FINISH' | 'REMINDER_MIN_GAP_HOURS'
>;

/** The reminder policy the settings describe (HHMM variables already read as minutes by the config). */
export function reminderPolicyFrom(c: ReminderSettings): ReminderPolicy {
  return {
    firstLeadMinutes: c.REMINDER_FIRST_TIMING,
    secondLeadMinutes: c.REMINDER_SECOND_TIMING,
    outreachStartMinutes: c.REMINDER_OUTREACH_START,
    outreachFinishMinutes: c.REMINDER_OUTREACH_FINISH,
    minGapMinutes: c.REMINDER_MIN_GAP_HOURS * 60,
  };
}

export type FlowSettings = Pick<
  SweepConfig,
  'TWILIO_FLOW_SID' | 'TWILIO_PHONE_NUMBER' | 'TWILIO_MESSAGING_SERVICE_SID' | 'DEFAULT_PHONE_COUNTRY'
>;

/**
 * Who the flow's executions are started from: the Messaging Service when there is one, so every
 * text's delivery status reaches /twilio/status, else the clinic's number.
 */
export function flowSenderFrom(c: Pick<FlowSettings, 'TWILIO_PHONE_NUMBER' | 'TWILIO_MESSAGING_SERVICE_SID'>): string {
  return c.TWILIO_MESSAGING_SERVICE_SID ?? c.TWILIO_PHONE_NUMBER;
}

/** The one flow starter: the flow, its sender, and the origin marker derived from the EHR signing secret. */
export function flowStarterFrom(twilio: TwilioClient, c: FlowSettings, ieSigningSecret: string): TwilioFlowStarter {
  return new TwilioFlowStarter(twilio, {
    flowSid: c.TWILIO_FLOW_SID,
    from: flowSenderFrom(c),
    originMarker: originMarker(ieSigningSecret),
    homeCountry: c.DEFAULT_PHONE_COUNTRY,
  });
}

export type StorageSettings = Pick<SweepConfig, 'S3_BUCKET' | 'AWS_REGION' | 'S3_ENDPOINT' | 'AWS_ACCESS_KEY_ID' | 'AWS_SECRET_ACCESS_KEY'>;

export interface Stores {
  appointments: S3AppointmentStore;
  admin: S3AdminStore;
  /** Staff users and the audit trail. */
  staff: S3StaffRecords;
}

/** The bucket's stores over one S3 client (the admin page runs more requests at once: `maxSockets`). */
export function storesFrom(c: StorageSettings, options: { maxSockets?: number } = {}): Stores {
  const s3 = createS3Client({ ...s3SettingsFrom(c), ...(options.maxSockets ? { maxSockets: options.maxSockets } : {}) });
  return {
    appointments: new S3AppointmentStore(s3, c.S3_BUCKET),
    admin: new S3AdminStore(s3, c.S3_BUCKET),
    staff: new S3StaffRecords(s3, c.S3_BUCKET),
  };
}

/** Patients' confirm and cancel requests to the EHR, signed with the shared secret, retried by the sweep. */
export function ehrNotifierFrom(endpoint: string, signingSecret: string, store: S3AppointmentStore): EhrNotifier {
  return new EhrNotifier({ endpoint, secret: signingSecret, store, now });
}

/** The Lambdas' Twilio access: an API key (from the Twilio secret deployed, from the environment locally). */
export interface LambdaTwilio {
  twilio: TwilioClient;
  /** The EHR signing secret, which also derives the flow's origin marker. */
  ieSigningSecret: string;
}

export interface LambdaTwilioSecret {
  account_sid: string;
  api_key_sid: string;
  api_key_secret: string;
  ie_signing_secret?: string | undefined;
}

/**
 * The sweep's and the receiver's Twilio client from the secret (or the local environment's key).
 * The message names what is missing, never a value.
 */
export function lambdaTwilioFrom(
  c: Pick<SweepConfig, 'TWILIO_ACCOUNT_SID' | 'TWILIO_API_KEY_SID' | 'TWILIO_API_KEY_SECRET' | 'IE_SIGNING_SECRET' | 'TWILIO_API_BASE_URL'>,
  secret: LambdaTwilioSecret | undefined,
  runtime: string,
): LambdaTwilio {
  const s = secret ?? {
    account_sid: c.TWILIO_ACCOUNT_SID ?? '',
    api_key_sid: c.TWILIO_API_KEY_SID ?? '',
    api_key_secret: c.TWILIO_API_KEY_SECRET ?? '',
    ie_signing_secret: c.IE_SIGNING_SECRET,
  };
  if (!s.account_sid || !s.api_key_sid || !s.api_key_secret) {
    throw new Error(
      `${runtime} configuration is invalid: set TWILIO_SECRET_ARN, or TWILIO_ACCOUNT_SID with TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET`,
    );
  }
  const ieSigningSecret = s.ie_signing_secret ?? c.IE_SIGNING_SECRET;
  // The flow tells our executions from an engine's by a marker derived from this secret.
  if (!ieSigningSecret) {
    throw new Error(
      `${runtime} configuration is invalid: IE_SIGNING_SECRET (or ie_signing_secret in the Twilio secret) is not set; run \`npm run deploy\``,
    );
  }
  const twilio = createTwilioClient({
    accountSid: s.account_sid,
    apiKeySid: s.api_key_sid,
    apiKeySecret: s.api_key_secret,
    apiBaseUrl: c.TWILIO_API_BASE_URL,
  });
  return { twilio, ieSigningSecret };
}
