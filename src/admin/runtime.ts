import { loadAdminConfig, type AdminRuntimeConfig } from '../config/admin-config';
import { describeProblems, type Env } from '../config/config';
import { ConfigError, envOf, type FunctionContext } from '../runtime/functions';
import type { StaffRecords } from './staff-records';
import type { S3AdminStore } from '../storage/s3-admin-store';
import { storesFrom } from '../runtime/wiring';
import { createTwilioClient, type TwilioClient } from '../twilio/client';
import { AttemptLimiter } from './rate-limit';
import { TwilioVerifyCodes, type VerifyCodes } from './verify-codes';

/** What the admin Functions need: enough to log in and to check settings even when others are wrong. */
export interface AdminRuntime {
  config: AdminRuntimeConfig;
  /** The raw environment, for the settings check only; it holds secrets, so it never leaves the server. */
  env: Env;
  twilio: TwilioClient;
  store: S3AdminStore;
  /** Staff users and the audit log, in the same bucket (their own small store). */
  records: StaffRecords;
  limiter: AttemptLimiter;
  codes: VerifyCodes;
  /**
   * Wall-clock time for tokens and attempt limits. Deliberately not the local demo clock: moving
   * a demo a day ahead must not make sessions last a day longer or limits reset.
   */
  wallClock: () => number;
}

let cached: { key: string; runtime: AdminRuntime } | undefined;

/** Built once per warm container; throws a ConfigError naming every variable that is wrong. */
export function adminRuntime(context: FunctionContext): AdminRuntime {
  const env = envOf(context);
  const key = JSON.stringify(env);
  if (cached?.key === key) return cached.runtime;
  const loaded = loadAdminConfig(env);
  if (!loaded.ok)
    throw new ConfigError(
      loaded.problems.map((p) => p.variable),
      describeProblems(loaded.problems),
    );
  const config = loaded.config;
  const stores = storesFrom(config, { maxSockets: 16 });
  const twilio = createTwilioClient({
    accountSid: config.ACCOUNT_SID,
    authToken: config.AUTH_TOKEN,
    apiBaseUrl: config.TWILIO_API_BASE_URL,
  });
  const store = stores.admin;
  const runtime: AdminRuntime = {
    config,
    env,
    twilio,
    store,
    records: stores.staff,
    limiter: new AttemptLimiter(store),
    codes: new TwilioVerifyCodes(twilio, config.VERIFY_SERVICE_SID),
    wallClock: () => Date.now(),
  };
  cached = { key, runtime };
  return runtime;
}
