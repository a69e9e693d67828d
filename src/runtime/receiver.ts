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
import type { ReminderPolicy } from '../domain/reminder-plan';
import type { TwilioFlowStarter } from '../messaging/twilio-flow-starter';
import { now } from './clock';
import { hl7IntakeDepsFrom } from './intake-deps';
import { flowStarterFrom, reminderPolicyFrom, storesFrom } from './wiring';
import { fhirReaderFrom } from './functions';
import { lambdaTwilio } from './sweep';

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

/** The receiver's dependencies, with the flow starter and policy they were built from (for the wiring test). */
export type ReceiverRuntime = ReceiverDeps & { flows: TwilioFlowStarter; policy: ReminderPolicy };

/**
 * Builds the receiver's dependencies from its environment and, deployed, the two secrets: the
 * intake secret (EHR key, FHIR credentials) and the sweep's Twilio API key. S3 access is the
 * Lambda role's; locally the embedded server's key comes in the environment.
 */
export async function receiverDepsFromEnv(env: Env): Promise<ReceiverRuntime> {
  const arn = env.INTAKE_SECRET_ARN?.trim();
  const secrets = arn ? await readIntakeSecret(arn, env.AWS_REGION ?? 'us-east-1') : {};
  const loaded = loadReceiverConfig({ ...env, ...secrets });
  // Variable names and problems only: the values may be secrets.
  if (!loaded.ok) throw new Error(`receiver configuration is invalid:\n${describeProblems(loaded.problems)}`);
  const c = loaded.config;
  const { twilio, ieSigningSecret } = await lambdaTwilio(c, 'receiver');
  const store = storesFrom(c).appointments;
  const flows = flowStarterFrom(twilio, c, ieSigningSecret);
  const policy = reminderPolicyFrom(c);
  return {
    ...hl7IntakeDepsFrom(c, { store, flows, policy, now }),
    ...(c.FHIR_BASE_URL ? { fhir: fhirReaderFrom(c, c.FHIR_BASE_URL) } : {}),
    flows,
    policy,
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
