import type { OperationOutcome } from '@medplum/fhirtypes';
import { handleFhirIntake, type FhirIntakeDeps } from './fhir-intake';
import { handleHl7Intake, type Hl7IntakeDeps } from './hl7-intake';
import { checkBearer, handleIntake, type Headers, type IntakeRequest } from './intake';
import { replyForError, toAppError } from './errors';
import { errorReply, type HttpReply } from './reply';

/**
 * The raw-body receiver (lambda/receiver.ts behind a Lambda Function URL, and `/raw` on `npm
 * start`): the same three intakes as the Twilio Functions, for engines that POST raw ER7 or
 * application/fhir+json, which the Functions drop. Unlike the Functions it sees the method, the
 * query string and the body's bytes, so it decodes them strictly and refuses what the Functions
 * could not tell apart.
 */

/** The part of a Lambda Function URL request (payload format 2.0) the receiver reads. */
export interface FunctionUrlEvent {
  rawPath: string;
  rawQueryString?: string;
  headers?: Record<string, string | undefined>;
  body?: string;
  isBase64Encoded?: boolean;
  requestContext: { http: { method: string } };
}

export interface FunctionUrlResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: false;
}

/** What the three intakes need; FHIR's reader only when FHIR_BASE_URL is set. */
export type ReceiverDeps = Hl7IntakeDeps & Pick<FhirIntakeDeps, 'fhir'>;

export const RECEIVER_PATHS = ['/ehr/events', '/ehr/hl7', '/ehr/fhir'] as const;
type ReceiverPath = (typeof RECEIVER_PATHS)[number];

/**
 * The intake request of a Function URL event. Header names are lower-cased (Function URLs do, a
 * local adapter may not); the body's bytes are the base64 payload decoded, or the UTF-8 of a text
 * payload. Content-Length is the byte count of what arrived: the Function URL has already removed
 * any chunked framing, so a stale or missing header cannot hide the size.
 */
export function intakeRequestFromFunctionUrl(event: FunctionUrlEvent): { path: string; query: string; request: IntakeRequest } {
  const headers: Headers = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) if (v !== undefined) headers[k.toLowerCase()] = v;
  const body = event.body ?? '';
  const rawBody = event.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  headers['content-length'] = String(rawBody.byteLength);
  delete headers['transfer-encoding'];
  return {
    path: event.rawPath,
    query: event.rawQueryString ?? '',
    request: { method: event.requestContext.http.method.toUpperCase(), headers, rawBody },
  };
}

/** Our reply as a Function URL response: JSON bodies serialized, text (an ER7 ACK) as is. */
export function functionUrlResult(reply: HttpReply): FunctionUrlResult {
  return {
    statusCode: reply.status,
    headers: reply.headers ?? {},
    body: typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body),
    isBase64Encoded: false,
  };
}

function isReceiverPath(path: string): path is ReceiverPath {
  return (RECEIVER_PATHS as readonly string[]).includes(path);
}

/** Routes one request to its intake and answers as the Function of the same path does. */
export async function handleRawRequest(event: FunctionUrlEvent, deps: ReceiverDeps, requestId: string): Promise<FunctionUrlResult> {
  const { path, query, request } = intakeRequestFromFunctionUrl(event);
  if (!isReceiverPath(path)) {
    return functionUrlResult(
      errorReply('not-found', `nothing is served at ${path.slice(0, 80)}; POST to ${RECEIVER_PATHS.join(', ')}`, requestId),
    );
  }
  try {
    return functionUrlResult(await route(path, query, request, deps, requestId));
  } catch (err) {
    return functionUrlResult(failureFor(path, err, requestId, 'raw receiver failed'));
  }
}

async function route(path: ReceiverPath, query: string, request: IntakeRequest, deps: ReceiverDeps, requestId: string): Promise<HttpReply> {
  if (path === '/ehr/hl7') return handleHl7Intake(request, deps, requestId);
  if (path === '/ehr/fhir') return handleFhirIntake(request, deps, requestId);
  // The Functions merge query parameters into the event and cannot tell them from the body; here
  // they are refused, so an engine that puts data in the URL finds out.
  if (query !== '' && request.method === 'POST') {
    const unauthorized = checkBearer(request.headers, deps.apiKey, requestId);
    if (unauthorized) return unauthorized;
    return errorReply('invalid-request', 'send the events in the body only; this endpoint takes no query parameters', requestId);
  }
  return handleIntake(request, deps, requestId);
}

/**
 * The Lambda's mapping of a failure to a reply: the one mapping (replyForError) decides status and
 * Retry-After, and /ehr/fhir gets it as an OperationOutcome like its Function answers.
 */
export function failureFor(path: string, err: unknown, requestId: string, what: string): HttpReply {
  const reply = replyForError(err, requestId, what);
  if (path !== '/ehr/fhir') return reply;
  const error = toAppError(err);
  const diagnostics =
    error.code === 'internal' ? `the request failed; nothing was recorded; the receiver logs have request id ${requestId}` : error.message;
  const outcome: OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code: error.retryable ? 'transient' : 'exception', diagnostics }],
  };
  return { ...reply, headers: { ...reply.headers, 'Content-Type': 'application/fhir+json' }, body: outcome };
}
