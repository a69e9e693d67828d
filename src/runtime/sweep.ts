import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { originMarker } from '../messaging/origin-marker';
import { describeProblems, loadSweepConfig, type Env, type SweepConfig } from '../config/config';
import { TwilioSecret } from '../config/rules';
import { AppError } from '../domain/errors';
import { EhrNotifier } from '../ehr/notifier';
import { log } from '../log';
import { TwilioFlowStarter } from '../messaging/twilio-flow-starter';
import { S3AppointmentStore } from '../storage/s3-appointment-store';
import { createS3Client, s3SettingsFrom } from '../storage/s3-client';
import { createTwilioClient } from '../twilio/client';
import { runSweep } from '../use-cases/sweep';
import type { SweepCounts, SweepDeps } from '../use-cases/sweep-run';
import { now, sleep } from './clock';

/**
 * The Twilio secret, parsed with the schema the deploy writes it with (src/config/rules.ts). The
 * message names the fields at fault, never their values.
 */
export async function readTwilioSecret(arn: string, region: string): Promise<TwilioSecret> {
  const client = new SecretsManagerClient({ region });
  const res = await client.send(new GetSecretValueCommand({ SecretId: arn }));
  return parseTwilioSecret(res.SecretString);
}

export function parseTwilioSecret(text: string | undefined): TwilioSecret {
  let json: unknown;
  try {
    json = JSON.parse(text ?? '');
  } catch {
    throw new AppError('misconfigured', 'the Twilio secret is not JSON; run `npm run deploy`');
  }
  const parsed = TwilioSecret.safeParse(json);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.')))].join(', ');
    throw new AppError(
      'misconfigured',
      `the Twilio secret's ${fields} ${parsed.error.issues.length === 1 ? 'is' : 'are'} missing or invalid; run \`npm run deploy\``,
      { field: fields },
    );
  }
  return parsed.data;
}

/** Builds the sweep's dependencies from its environment (and, deployed, Secrets Manager). */
export async function sweepDepsFromEnv(env: Env): Promise<SweepDeps> {
  const loaded = loadSweepConfig(env);
  if (!loaded.ok) throw new Error(`sweep configuration is invalid:\n${describeProblems(loaded.problems)}`);
  const c: SweepConfig = loaded.config;
  const secret = c.TWILIO_SECRET_ARN
    ? await readTwilioSecret(c.TWILIO_SECRET_ARN, c.AWS_REGION)
    : {
        account_sid: c.TWILIO_ACCOUNT_SID ?? '',
        api_key_sid: c.TWILIO_API_KEY_SID ?? '',
        api_key_secret: c.TWILIO_API_KEY_SECRET ?? '',
        ie_signing_secret: c.IE_SIGNING_SECRET,
      };
  if (!secret.account_sid || !secret.api_key_sid || !secret.api_key_secret) {
    throw new Error(
      'sweep configuration is invalid: set TWILIO_SECRET_ARN, or TWILIO_ACCOUNT_SID with TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET',
    );
  }
  const s3 = createS3Client(s3SettingsFrom(c));
  const store = new S3AppointmentStore(s3, c.S3_BUCKET);
  const twilio = createTwilioClient({
    accountSid: secret.account_sid,
    apiKeySid: secret.api_key_sid,
    apiKeySecret: secret.api_key_secret,
    apiBaseUrl: c.TWILIO_API_BASE_URL,
  });
  const ieSecret = secret.ie_signing_secret ?? c.IE_SIGNING_SECRET;
  // The flow tells our executions from an engine's by a marker derived from this secret.
  if (!ieSecret)
    throw new Error(
      'sweep configuration is invalid: IE_SIGNING_SECRET (or ie_signing_secret in the Twilio secret) is not set; run `npm run deploy`',
    );
  return {
    store,
    flows: new TwilioFlowStarter(twilio, {
      flowSid: c.TWILIO_FLOW_SID,
      from: c.TWILIO_MESSAGING_SERVICE_SID ?? c.TWILIO_PHONE_NUMBER,
      originMarker: originMarker(ieSecret),
      homeCountry: c.DEFAULT_PHONE_COUNTRY,
    }),
    ...(c.IE_ENDPOINT ? { notifier: new EhrNotifier({ endpoint: c.IE_ENDPOINT, secret: ieSecret, store, now }) } : {}),
    policy: {
      firstLeadMinutes: c.REMINDER_FIRST_TIMING,
      secondLeadMinutes: c.REMINDER_SECOND_TIMING,
      outreachStartMinutes: c.REMINDER_OUTREACH_START,
      outreachFinishMinutes: c.REMINDER_OUTREACH_FINISH,
      minGapMinutes: c.REMINDER_MIN_GAP_HOURS * 60,
    },
    now,
    sleep,
    wallClock: Date.now,
    ratePerSecond: c.SWEEP_RATE_PER_SECOND,
    concurrency: c.SWEEP_CONCURRENCY,
  };
}

export interface ScheduledEvent {
  id?: string;
  time?: string;
  'detail-type'?: string;
}

/**
 * The sweep handler. Dependencies are built once per container (cold start) and reused; the same
 * handler runs in the Lambda and on `npm start`'s timer.
 */
export function makeSweepHandler(loadDeps: () => Promise<SweepDeps>) {
  let deps: Promise<SweepDeps> | undefined;
  return async (event: ScheduledEvent = {}, context?: LambdaContext): Promise<SweepCounts> => {
    deps ??= loadDeps().catch((err: unknown) => {
      deps = undefined;
      throw err;
    });
    log('info', 'sweep started', { event_id: event.id, code: event['detail-type'] });
    // Stop taking new work a minute before Lambda would cut the run off.
    const remaining = context?.getRemainingTimeInMillis?.();
    const deadline = remaining === undefined ? undefined : Date.now() + Math.max(0, remaining - 60_000);
    return runSweep({ ...(await deps), ...(deadline === undefined ? {} : { deadline }) });
  };
}

/** The part of the Lambda context the sweep uses. */
export interface LambdaContext {
  getRemainingTimeInMillis?: () => number;
}
