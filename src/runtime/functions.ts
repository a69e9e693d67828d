import { describeProblems, loadFunctionsConfig, type FunctionsConfig } from '../config/config';
import { errorReply, newRequestId, type HttpReply } from '../http/reply';
import { isStudioCallSigned } from '../http/twilio-signature';
import type { ReminderPolicy } from '../domain/reminder-plan';
import type { AppointmentStore } from '../storage/appointment-store';
import { AppError } from '../domain/errors';
import { replyForError, toAppError } from '../http/errors';
import { log } from '../log';
import { now } from './clock';
import { createTwilioClient, type TwilioClient } from '../twilio/client';
import type { FlowStarter, StaffTextSender } from '../messaging/flow-starter';
import type { EhrNotifier } from '../ehr/notifier';
import type { ReplyDeps } from '../use-cases/handle-reply';
import { FhirHttpReader, type FhirReader } from '../ehr/fhir-client';
import { ehrNotifierFrom, flowStarterFrom, reminderPolicyFrom, storesFrom } from './wiring';

/** The subset of the Twilio Functions runtime our entry points use. */
export interface FunctionContext {
  [key: string]: unknown;
  DOMAIN_NAME?: string;
  PATH?: string;
}
export type FunctionEvent = Record<string, unknown>;
export type FunctionCallback = (err: unknown, response?: unknown) => void;

interface TwilioResponse {
  setStatusCode(code: number): void;
  setBody(body: unknown): void;
  appendHeader(key: string, value: string): void;
}
declare const Twilio: { Response: new () => TwilioResponse };

export interface FunctionsRuntime {
  config: FunctionsConfig;
  /** Every port: the Functions between them use all of them (this is where they are wired). */
  store: AppointmentStore;
  policy: ReminderPolicy;
  twilio: TwilioClient;
  flows: FlowStarter;
  /** Staff texts from the inbox, through the same flow and sender. */
  staffTexts: StaffTextSender;
  notifier: EhrNotifier;
  /** Recording events, and what handling a reply needs besides. */
  record: ReplyDeps['record'];
  /** The EHR's FHIR server (FHIR_BASE_URL), when configured. */
  fhir?: FhirReader;
}

let cached: { key: string; runtime: FunctionsRuntime } | undefined;

/** The string-valued entries of a Function's context: its environment variables. */
export function envOf(context: FunctionContext): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(context).filter(([, v]) => typeof v === 'string') as [string, string][]);
}

/**
 * Builds (once per warm container) what the Functions need from their environment. Throws a
 * ConfigError listing every problem when the environment is invalid.
 */
export function functionsRuntime(context: FunctionContext): FunctionsRuntime {
  const env = envOf(context);
  const key = JSON.stringify(env);
  if (cached?.key === key) return cached.runtime;
  const loaded = loadFunctionsConfig(env);
  if (!loaded.ok)
    throw new ConfigError(
      loaded.problems.map((p) => p.variable),
      describeProblems(loaded.problems),
    );
  const config = loaded.config;
  const store = storesFrom(config).appointments;
  const twilio = createTwilioClient({
    accountSid: config.ACCOUNT_SID,
    authToken: config.AUTH_TOKEN,
    apiBaseUrl: config.TWILIO_API_BASE_URL,
  });
  const policy = reminderPolicyFrom(config);
  const flows = flowStarterFrom(twilio, config, config.IE_SIGNING_SECRET);
  const runtime: FunctionsRuntime = {
    config,
    store,
    policy,
    twilio,
    flows,
    staffTexts: flows,
    notifier: ehrNotifierFrom(config.IE_ENDPOINT, config.IE_SIGNING_SECRET, store),
    record: { store, policy, now },
    ...(config.FHIR_BASE_URL ? { fhir: fhirReaderFrom(config, config.FHIR_BASE_URL) } : {}),
  };
  cached = { key, runtime };
  return runtime;
}

/** The EHR's FHIR server with the configured credentials (a fixed token, or OAuth2 client credentials). */
export function fhirReaderFrom(
  config: Pick<FunctionsConfig, 'FHIR_BEARER_TOKEN' | 'FHIR_CLIENT_ID' | 'FHIR_CLIENT_SECRET' | 'FHIR_TOKEN_URL' | 'FHIR_SCOPE'>,
  baseUrl: string,
): FhirReader {
  const auth =
    config.FHIR_CLIENT_ID && config.FHIR_CLIENT_SECRET && config.FHIR_TOKEN_URL
      ? {
          kind: 'client-credentials' as const,
          tokenUrl: config.FHIR_TOKEN_URL,
          clientId: config.FHIR_CLIENT_ID,
          clientSecret: config.FHIR_CLIENT_SECRET,
          ...(config.FHIR_SCOPE ? { scope: config.FHIR_SCOPE } : {}),
        }
      : { kind: 'bearer' as const, token: config.FHIR_BEARER_TOKEN ?? '' };
  return new FhirHttpReader({ baseUrl, auth, now: () => now().getTime() });
}

/** Variable names only in the message: values may be secrets. */
export class ConfigError extends AppError {
  constructor(
    readonly variables: string[],
    readonly details: string,
  ) {
    super('misconfigured', `configuration is invalid: ${variables.join(', ')}`);
  }
}

/** Maps our reply onto Twilio's Response object. */
export function respond(callback: FunctionCallback, reply: HttpReply): void {
  const response = new Twilio.Response();
  response.setStatusCode(reply.status);
  for (const [k, v] of Object.entries(reply.headers ?? {})) response.appendHeader(k, v);
  response.setBody(reply.body);
  callback(null, response);
}

export function configErrorReply(err: ConfigError, requestId: string): HttpReply {
  // Variable names only: values may be secrets.
  log('error', 'configuration invalid', { request_id: requestId, error: err.variables.join(',') });
  return {
    status: 500,
    headers: { 'Content-Type': 'application/json', 'X-Request-Id': requestId },
    body: {
      error: {
        code: 'misconfigured',
        message: `the service is misconfigured (${err.variables.join(', ')}); the administrator can see details on the admin page`,
        request_id: requestId,
      },
    },
  };
}

/**
 * A Function entry point: builds the runtime, runs `handle`, and answers whatever happens. A bad
 * configuration answers with the variables' names; any other error goes through the one mapping
 * (replyForError: transient → 503 with Retry-After, a bug → 500 with the request id), logged under
 * `failure`, never through the runtime's `callback(err)` (which would send the message and stack).
 * `render` reshapes the body for endpoints whose callers expect another format (FHIR's
 * OperationOutcome); the status stays the mapping's.
 */
export function functionHandler(
  failure: string,
  handle: (runtime: FunctionsRuntime, event: FunctionEvent, context: FunctionContext, requestId: string) => Promise<HttpReply>,
  render?: (reply: HttpReply, error: AppError) => HttpReply,
) {
  return async (context: FunctionContext, event: FunctionEvent, callback: FunctionCallback): Promise<void> => {
    const requestId = newRequestId();
    try {
      respond(callback, await handle(functionsRuntime(context), event, context, requestId));
    } catch (err) {
      respond(callback, failureReply(err, requestId, failure, render));
    }
  };
}

/** The Twilio Functions' mapping of any failure to a reply (used by functionHandler and the hand-written handlers). */
export function failureReply(
  err: unknown,
  requestId: string,
  failure: string,
  render?: (reply: HttpReply, error: AppError) => HttpReply,
): HttpReply {
  if (err instanceof ConfigError) return configErrorReply(err, requestId);
  const reply = replyForError(err, requestId, failure);
  return render ? render(reply, toAppError(err)) : reply;
}

/**
 * The refusal for a call that should come from Twilio (the Studio flow, a status callback) but
 * carries no valid X-Twilio-Signature; undefined when it is signed.
 */
export function unsignedReply(
  runtime: FunctionsRuntime,
  context: FunctionContext,
  event: FunctionEvent,
  requestId: string,
  what: string,
): HttpReply | undefined {
  if (isStudioCallSigned(runtime.config.AUTH_TOKEN, context, event)) return undefined;
  log('warn', `${what} rejected: bad signature`, { request_id: requestId, status: 403 });
  return errorReply('forbidden', 'missing or invalid X-Twilio-Signature', requestId);
}
