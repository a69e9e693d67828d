import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describeProblems, loadSweepConfig, type Env, type ReceiverConfig, type SweepConfig } from '../config/config';
import { TwilioSecret } from '../config/rules';
import { AppError } from '../domain/errors';
import { log } from '../log';
import { runSweep } from '../use-cases/sweep';
import type { SweepCounts, SweepDeps } from '../use-cases/sweep-run';
import { now, sleep } from './clock';
import { ehrNotifierFrom, flowStarterFrom, lambdaTwilioFrom, reminderPolicyFrom, storesFrom, type LambdaTwilio } from './wiring';

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

/** A Lambda's Twilio client and EHR signing secret: from the Twilio secret when deployed, the environment locally. */
export async function lambdaTwilio(c: SweepConfig | ReceiverConfig, runtime: string): Promise<LambdaTwilio> {
  const secret = c.TWILIO_SECRET_ARN ? await readTwilioSecret(c.TWILIO_SECRET_ARN, c.AWS_REGION) : undefined;
  return lambdaTwilioFrom(c, secret, runtime);
}

/** Builds the sweep's dependencies from its environment (and, deployed, Secrets Manager). */
export async function sweepDepsFromEnv(env: Env): Promise<SweepDeps> {
  const loaded = loadSweepConfig(env);
  if (!loaded.ok) throw new Error(`sweep configuration is invalid:\n${describeProblems(loaded.problems)}`);
  const c: SweepConfig = loaded.config;
  const { twilio, ieSigningSecret } = await lambdaTwilio(c, 'sweep');
  const store = storesFrom(c).appointments;
  return {
    store,
    flows: flowStarterFrom(twilio, c, ieSigningSecret),
    ...(c.IE_ENDPOINT ? { notifier: ehrNotifierFrom(c.IE_ENDPOINT, ieSigningSecret, store) } : {}),
    policy: reminderPolicyFrom(c),
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
