import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describeProblems, loadReceiverConfig, type Env } from '../config/config';
import {
  handleRawRequest,
  failureFor,
  functionUrlResult,
  type FunctionUrlEvent,
  type FunctionUrlResult,
  type ReceiverDeps,
} from '../http/raw-receiver';
import { AppError } from '../domain/errors';
import { toAppError } from '../http/errors';
import { newRequestId } from '../http/reply';
import { originMarker } from '../messaging/origin-marker';
import { TwilioFlowStarter } from '../messaging/twilio-flow-starter';
import { S3AppointmentStore } from '../storage/s3-appointment-store';
import { createS3Client, s3SettingsFrom } from '../storage/s3-client';
import { createTwilioClient } from '../twilio/client';
import { sendMessagesForEvents } from '../use-cases/send-messages';
import { now } from './clock';
import { fhirReaderFrom } from './functions';
import { readTwilioSecret } from './sweep';

/** The intake secret's JSON fields: named as the variables they stand for (the deploy writes them). */
export const INTAKE_SECRET_FIELDS = ['EHR_API_KEY', 'FHIR_BEARER_TOKEN', 'FHIR_CLIENT_SECRET'] as const;

async function readIntakeSecret(arn: string, region: string): Promise<Env> {
  const client = new SecretsManagerClient({ region });
  const res = await client.send(new GetSecretValueCommand({ SecretId: arn }));
  const parsed = JSON.parse(res.SecretString ?? '{}') as Record<string, unknown>;
  return Object.fromEntries(
    INTAKE_SECRET_FIELDS.flatMap((k) => (typeof parsed[k] === 'string' && parsed[k] !== '' ? [[k, parsed[k]]] : [])),
  );
}

/**
 * Builds the receiver's dependencies from its environment and, deployed, the two secrets: the
 * intake secret (EHR key, FHIR credentials) and the sweep's Twilio API key. S3 access is the
 * Lambda role's; locally the embedded server's key comes in the environment.
 */
export async function receiverDepsFromEnv(env: Env): Promise<ReceiverDeps> {
  const arn = env.INTAKE_SECRET_ARN?.trim();
  const secrets = arn ? await readIntakeSecret(arn, env.AWS_REGION ?? 'us-east-1') : {};
  const loaded = loadReceiverConfig({ ...env, ...secrets });
  // Variable names and problems only: the values may be secrets.
  if (!loaded.ok) throw new Error(`receiver configuration is invalid:\n${describeProblems(loaded.problems)}`);
  const c = loaded.config;
  const twilioSecret = c.TWILIO_SECRET_ARN
    ? await readTwilioSecret(c.TWILIO_SECRET_ARN, c.AWS_REGION)
    : {
        account_sid: c.TWILIO_ACCOUNT_SID ?? '',
        api_key_sid: c.TWILIO_API_KEY_SID ?? '',
        api_key_secret: c.TWILIO_API_KEY_SECRET ?? '',
        ie_signing_secret: c.IE_SIGNING_SECRET,
      };
  const ieSecret = twilioSecret.ie_signing_secret ?? c.IE_SIGNING_SECRET;
  if (!twilioSecret.account_sid || !twilioSecret.api_key_sid || !twilioSecret.api_key_secret || !ieSecret) {
    throw new Error(
      'receiver configuration is invalid: the Twilio secret (or TWILIO_ACCOUNT_SID, TWILIO_API_KEY_SID, TWILIO_API_KEY_SECRET, IE_SIGNING_SECRET) is incomplete; run `npm run deploy`',
    );
  }
  const store = new S3AppointmentStore(createS3Client(s3SettingsFrom(c)), c.S3_BUCKET);
  const twilio = createTwilioClient({
    accountSid: twilioSecret.account_sid,
    apiKeySid: twilioSecret.api_key_sid,
    apiKeySecret: twilioSecret.api_key_secret,
    apiBaseUrl: c.TWILIO_API_BASE_URL,
  });
  const flows = new TwilioFlowStarter(twilio, {
    flowSid: c.TWILIO_FLOW_SID,
    from: c.TWILIO_PHONE_NUMBER,
    originMarker: originMarker(ieSecret),
    homeCountry: c.DEFAULT_PHONE_COUNTRY,
  });
  const policy = {
    firstLeadMinutes: c.REMINDER_FIRST_TIMING,
    secondLeadMinutes: c.REMINDER_SECOND_TIMING,
    outreachStartMinutes: c.REMINDER_OUTREACH_START,
    outreachFinishMinutes: c.REMINDER_OUTREACH_FINISH,
  };
  return {
    apiKey: c.EHR_API_KEY,
    defaultCountry: c.DEFAULT_PHONE_COUNTRY,
    maxFutureHours: c.EHR_EVENT_MAX_FUTURE_HOURS,
    maxAppointmentDays: c.EHR_APPOINTMENT_MAX_FUTURE_DAYS,
    defaultZone: c.EHR_DEFAULT_TIMEZONE,
    facilityZones: c.EHR_FACILITY_TIMEZONES,
    // Filing deferred, as for the Functions' intake (src/runtime/intake-deps.ts).
    record: { store, policy, now, defer: true },
    sendMessages: (results, events) => sendMessagesForEvents({ flows, store, policy, now, defer: true }, results, events),
    ...(c.FHIR_BASE_URL ? { fhir: fhirReaderFrom(c, c.FHIR_BASE_URL) } : {}),
  };
}

/**
 * The receiver's handler. Dependencies are built once per container and rebuilt after a failure
 * (a secret not written yet); until they load, every request gets the endpoint's 500, with the
 * details in the log only.
 */
export function makeReceiverHandler(loadDeps: () => Promise<ReceiverDeps>) {
  let deps: Promise<ReceiverDeps> | undefined;
  return async (event: FunctionUrlEvent): Promise<FunctionUrlResult> => {
    deps ??= loadDeps().catch((err: unknown) => {
      deps = undefined;
      throw err;
    });
    let loaded: ReceiverDeps;
    try {
      loaded = await deps;
    } catch (err) {
      // Secrets Manager briefly unavailable is worth a retry (503); a bad configuration is not (500).
      const requestId = newRequestId();
      const classified = toAppError(err);
      const error =
        classified.retryable || classified.code === 'misconfigured'
          ? classified
          : new AppError('misconfigured', 'the receiver is misconfigured; the logs have this request id', { cause: err });
      return functionUrlResult(failureFor(event.rawPath, error, requestId, 'receiver configuration invalid'));
    }
    return handleRawRequest(event, loaded, newRequestId());
  };
}
