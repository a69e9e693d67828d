import { AdminConfig } from '../../../src/config/admin-config';
import { fhirSettingsProblems, FunctionsConfig, loadConfig, type ConfigProblem } from '../../../src/config/config';
import type { FunctionsKey, StackOutputs } from './aws';
import type { DeploySettings } from './settings';

export interface FunctionsEnvInput {
  outputs: StackOutputs;
  key: FunctionsKey;
  verifyServiceSid: string;
  sessionSecret: string;
  /** Unknown on the very first deploy until the flow exists; set right after. */
  flowSid?: string;
}

/**
 * The Functions' environment variables. ACCOUNT_SID and AUTH_TOKEN are not among them: the
 * service is created with IncludeCredentials, so Twilio adds them. The S3 key is the Functions'
 * own bucket-scoped user from the stack, never the deployer's AWS credentials.
 */
export function functionsEnvironment(s: DeploySettings, x: FunctionsEnvInput): Record<string, string> {
  return {
    CUSTOMER_CODE: s.customerCode,
    CUSTOMER_NAME: s.customerName,
    TWILIO_PHONE_NUMBER: s.phoneNumber,
    ...(x.flowSid ? { TWILIO_FLOW_SID: x.flowSid } : {}),
    EHR_API_KEY: s.ehrApiKey,
    IE_ENDPOINT: s.ieEndpoint,
    IE_SIGNING_SECRET: s.ieSigningSecret,
    DEFAULT_PHONE_COUNTRY: s.defaultPhoneCountry,
    REMINDER_FIRST_TIMING: s.reminders.firstTiming,
    REMINDER_SECOND_TIMING: s.reminders.secondTiming,
    REMINDER_OUTREACH_START: s.reminders.outreachStart,
    REMINDER_OUTREACH_FINISH: s.reminders.outreachFinish,
    ...(s.reminders.minGapHours !== undefined ? { REMINDER_MIN_GAP_HOURS: s.reminders.minGapHours } : {}),
    ...(s.messagingServiceSid ? { TWILIO_MESSAGING_SERVICE_SID: s.messagingServiceSid } : {}),
    S3_BUCKET: x.outputs.BucketName,
    AWS_REGION: x.outputs.Region,
    AWS_ACCESS_KEY_ID: x.key.accessKeyId,
    AWS_SECRET_ACCESS_KEY: x.key.secretAccessKey,
    APPLICATION_PASSWORD: s.applicationPassword,
    ADMINISTRATOR_PHONE: s.administratorPhone,
    VERIFY_SERVICE_SID: x.verifyServiceSid,
    SESSION_SECRET: x.sessionSecret,
    ...(s.logLevel ? { LOG_LEVEL: s.logLevel } : {}),
    ...s.intake,
    ...s.simulation,
  };
}

const Deployed = FunctionsConfig.omit({
  ACCOUNT_SID: true,
  AUTH_TOKEN: true,
  TWILIO_FLOW_SID: true,
  S3_ENDPOINT: true,
  TWILIO_API_BASE_URL: true,
});

/**
 * The computed environment checked with the Functions' own schemas before it is uploaded, so a
 * deploy never ships a configuration the Functions would refuse (Twilio adds ACCOUNT_SID and
 * AUTH_TOKEN; TWILIO_FLOW_SID may still be pending).
 */
export function functionsEnvironmentProblems(env: Record<string, string>): ConfigProblem[] {
  const main = loadConfig(Deployed, env);
  const admin = loadConfig(AdminConfig, env);
  return [...(main.ok ? [] : main.problems), ...fhirSettingsProblems(env), ...(admin.ok ? [] : admin.problems)];
}
