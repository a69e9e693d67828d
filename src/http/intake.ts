import { parseEhrEvent, parseOptionsAt, type AppointmentEvent, type FieldProblem } from '../domain/event';
import type { CountryCode } from '../domain/phone';
import type { AppError } from '../domain/errors';
import { log } from '../log';
import { recordEvents, type RecordDeps, type RecordResult } from '../use-cases/record-event';
import { bearerToken, secretsEqual } from './auth';
import { replyForError, toAppError } from './errors';
import { errorReply, jsonReply, type HttpReply } from './reply';

export const MAX_EVENTS_PER_REQUEST = 100;
/** 100 events of the largest legal size fit comfortably; anything bigger is not an EHR batch. Bytes, not characters. */
export const MAX_BODY_BYTES = 256 * 1024;
/** `{"events": [{...}]}` is 3 deep; unknown fields may nest a little, nothing needs more. */
export const MAX_JSON_DEPTH = 16;
export { DEFAULT_APPOINTMENT_MAX_FUTURE_DAYS } from '../domain/event';

export type Headers = Record<string, string | string[] | undefined>;

export interface IntakeRequest {
  /** `POST`, or what the transport could tell instead (see intakeRequestFromTwilioEvent). */
  method: string;
  headers: Headers;
  /** The JSON body as the runtime parsed it (an object, an array), or undefined when there was none. */
  body?: unknown;
  /** The body's bytes, where the transport has them; then they are decoded here, strictly, and `body` is not used. */
  rawBody?: Uint8Array;
}

export interface IntakeDeps {
  apiKey: string;
  defaultCountry: CountryCode;
  /** How far ahead of the server clock `event_datetime_utc` may be (EHR_EVENT_MAX_FUTURE_HOURS). */
  maxFutureHours?: number;
  /** How far ahead of the server clock `appointment_datetime` may be (EHR_APPOINTMENT_MAX_FUTURE_DAYS). */
  maxAppointmentDays?: number;
  record: RecordDeps;
  /** Starts the Studio Flow for the events that were applied; says per event what happened. */
  sendMessages?: (results: RecordResult[], events: AppointmentEvent[]) => Promise<({ message: string; reason?: string } | undefined)[]>;
}

export function header(headers: Headers, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Twilio Functions hand the handler `event`: the query string's parameters and the JSON body's
 * top-level keys merged (body last), plus `request.headers`; never the method, the URL or the raw
 * body, and `Transfer-Encoding` is withheld. So the method is inferred: the Functions gateway
 * serves only GET, POST and OPTIONS (it answers OPTIONS itself), and a GET has no body, so a
 * request without `Content-Length` is not a POST of events. With `Content-Length: 0` whatever
 * `event` carries came from the query string. A batch (`[...]` arrives as keys "0".."n-1",
 * `{"events": [...]}`) is taken from its own keys, so query parameters next to it are ignored.
 */
export function intakeRequestFromTwilioEvent(event: Record<string, unknown>): IntakeRequest {
  const request = (event.request ?? {}) as { headers?: Headers };
  const headers = request.headers ?? {};
  const length = header(headers, 'content-length');
  if (length === undefined) return { method: 'unknown', headers };
  if (Number(length) === 0) return { method: 'POST', headers };
  const rest = Object.fromEntries(Object.entries(event).filter(([k]) => k !== 'request'));
  const keys = Object.keys(rest);
  const indexes = keys.filter((k) => /^(0|[1-9]\d*)$/.test(k)).sort((a, b) => Number(a) - Number(b));
  let body: unknown;
  if (keys.length === 0) body = undefined;
  else if (indexes.length > 0 && indexes.every((k, i) => k === String(i))) body = indexes.map((k) => rest[k]);
  else if (Array.isArray(rest.events)) body = { events: rest.events };
  else body = rest;
  return { method: 'POST', headers, body };
}

// A media type of exactly application/json (RFC 8259 §11), parameters allowed; charset, if
// given, must be UTF-8. application/json-patch+json and other +json types mean something else.
const JSON_MEDIA_TYPE = /^application\/json[ \t]*(;.*)?$/i;
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)"?/i;

function contentTypeProblem(contentType: string): string | undefined {
  if (!JSON_MEDIA_TYPE.test(contentType.trim())) return 'send the events as application/json';
  const charset = CHARSET.exec(contentType)?.[1];
  if (charset && !/^utf-?8$/i.test(charset)) return 'send the events as application/json in UTF-8 (charset=utf-8)';
  return undefined;
}

/** Nesting depth of a JSON value, without recursion (a deep value must not exhaust the stack). */
export function jsonDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (typeof v !== 'object' || v === null) continue;
    deepest = Math.max(deepest, depth);
    if (deepest > limit) return deepest;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return deepest;
}

type BodyRead = { ok: true; body: unknown } | { ok: false; reply: HttpReply };

/** The JSON body from raw bytes: at most MAX_BODY_BYTES, UTF-8 that decodes without replacement, valid JSON. */
function readRawBody(raw: Uint8Array, requestId: string): BodyRead {
  if (raw.byteLength > MAX_BODY_BYTES) return { ok: false, reply: tooLarge(requestId) };
  if (raw.byteLength === 0) return { ok: true, body: undefined };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    return { ok: false, reply: errorReply('invalid-json', 'the body is not valid UTF-8', requestId) };
  }
  try {
    return { ok: true, body: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, reply: errorReply('invalid-json', 'the body is not valid JSON', requestId) };
  }
}

function tooLarge(requestId: string): HttpReply {
  return errorReply(
    'payload-too-large',
    `the body is larger than ${MAX_BODY_BYTES} bytes; send at most ${MAX_EVENTS_PER_REQUEST} events per request`,
    requestId,
  );
}

function isEmpty(body: unknown): boolean {
  return body === undefined || (typeof body === 'object' && body !== null && Object.keys(body).length === 0);
}

/** The 401 for a request without the EHR key (the same for every EHR intake), or undefined when it has it. */
export function checkBearer(headers: Headers, apiKey: string, requestId: string): HttpReply | undefined {
  const token = bearerToken(headers.authorization);
  if (token && secretsEqual(token, apiKey)) return undefined;
  const reply = errorReply(
    'unauthorized',
    token ? 'the bearer token is not valid' : 'send the EHR key as "Authorization: Bearer <EHR_API_KEY>"',
    requestId,
  );
  reply.headers = { ...reply.headers, 'WWW-Authenticate': 'Bearer realm="ehr-intake"' };
  log('warn', 'intake rejected: unauthorized', { request_id: requestId, status: 401 });
  return reply;
}

export async function handleIntake(req: IntakeRequest, deps: IntakeDeps, requestId: string): Promise<HttpReply> {
  if (req.method !== 'POST') {
    const reply = errorReply('method-not-allowed', 'POST the events as a JSON body with a Content-Length header', requestId);
    reply.headers = { ...reply.headers, Allow: 'POST' };
    log('info', 'intake rejected: not a POST with a body', { request_id: requestId, status: 405 });
    return reply;
  }
  const unauthorized = checkBearer(req.headers, deps.apiKey, requestId);
  if (unauthorized) return unauthorized;

  const mediaProblem = contentTypeProblem(header(req.headers, 'content-type') ?? '');
  if (mediaProblem) return errorReply('unsupported-media-type', mediaProblem, requestId);
  const length = Number(header(req.headers, 'content-length') ?? '0');
  if (!(length <= MAX_BODY_BYTES)) return tooLarge(requestId);
  let body = req.body;
  if (req.rawBody) {
    const read = readRawBody(req.rawBody, requestId);
    if (!read.ok) return read.reply;
    body = read.body;
  }
  if (jsonDepth(body, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    return errorReply('invalid-request', `the body nests deeper than ${MAX_JSON_DEPTH} levels; an event is a flat object`, requestId);
  }
  // The runtime parsed the body already: its UTF-8 size is measured again, whatever the framing said.
  if (body !== undefined && Buffer.byteLength(JSON.stringify(body), 'utf8') > MAX_BODY_BYTES) return tooLarge(requestId);
  if (isEmpty(body)) {
    return errorReply('invalid-request', 'the body is empty; send one event object or an array of events', requestId);
  }

  const asArray = Array.isArray(body);
  const wrapped = !asArray && Array.isArray((body as { events?: unknown }).events);
  const items: unknown[] = asArray ? (body as unknown[]) : wrapped ? (body as { events: unknown[] }).events : [body];
  if (items.length === 0) {
    return errorReply('invalid-request', 'the batch is empty; send at least one event', requestId, {
      problems: [{ field: 'events', message: 'must contain at least one event' }],
    });
  }
  if (items.length > MAX_EVENTS_PER_REQUEST) {
    return errorReply(
      'invalid-request',
      `a request may carry at most ${MAX_EVENTS_PER_REQUEST} events; this one has ${items.length}`,
      requestId,
    );
  }

  const problems: FieldProblem[] = [];
  const events: AppointmentEvent[] = [];
  const options = parseOptionsAt(deps.record.now().getTime(), deps);
  items.forEach((item, i) => {
    const parsed = parseEhrEvent(item, options);
    const prefix = asArray ? `[${i}]` : wrapped ? `events[${i}]` : '';
    if (parsed.ok) events.push(parsed.event);
    else {
      for (const p of parsed.problems) {
        const field = prefix && p.field ? `${prefix}.${p.field}` : prefix || p.field;
        problems.push({ field, message: p.message });
      }
    }
  });
  if (problems.length > 0) {
    log('info', 'intake rejected: invalid events', { request_id: requestId, status: 400, count: problems.length });
    return errorReply('invalid-event', `${problems.length} problem(s) in the request; nothing was recorded`, requestId, { problems });
  }

  const recorded = await recordAndSend(deps, events, requestId);
  if (!recorded.ok) return replyForError(recorded.error, requestId, 'intake failed');
  return jsonReply(202, { request_id: requestId, results: recorded.results }, requestId);
}

export type EventAnswer = ReturnType<typeof answerFor>;

/**
 * The use case every intake shares once its events are valid: record them (history, state,
 * outbox), start the texts they claimed, and say per event what happened. A failure comes back
 * in the error vocabulary (src/domain/errors.ts): retryable only when it is transient (storage
 * unavailable, contention), `internal` for a bug; the caller maps it with its runtime's mapping.
 */
export async function recordAndSend(
  deps: Pick<IntakeDeps, 'record' | 'sendMessages'>,
  events: AppointmentEvent[],
  requestId: string,
): Promise<{ ok: true; results: EventAnswer[] } | { ok: false; error: AppError }> {
  try {
    const results = await recordEvents(deps.record, events);
    for (const r of results) {
      log('info', 'event recorded', {
        request_id: requestId,
        appointment_id: r.appointment_id,
        event_id: r.event_id,
        event_type: r.event_type,
        code: r.outcome,
      });
    }
    const messages = deps.sendMessages ? await deps.sendMessages(results, events) : [];
    return { ok: true, results: results.map((r, i) => answerFor(r, messages[i])) };
  } catch (err) {
    return { ok: false, error: toAppError(err) };
  }
}

/** One event's line of the answer: what happened to it and to its text (no internal claim tokens). */
export function answerFor(r: RecordResult, text: { message: string; reason?: string } | undefined) {
  return {
    appointment_id: r.appointment_id,
    event_id: r.event_id,
    event_type: r.event_type,
    outcome: r.outcome,
    ...(r.reason ? { reason: r.reason } : {}),
    disposition: r.disposition,
    duplicate: r.duplicate,
    stale: r.stale,
    ...(r.late ? { late: true } : {}),
    ...(text ? { message: text.message, ...(text.reason ? { message_reason: text.reason } : {}) } : {}),
  };
}
