import { parseEhrEvent, type AppointmentEvent, type FieldProblem } from '../domain/event';
import type { CountryCode } from '../domain/phone';
import { describeError, log } from '../log';
import { recordEvents, StateConflictError, type RecordDeps, type RecordResult } from '../use-cases/record-event';
import { bearerToken, secretsEqual } from './auth';
import { errorReply, jsonReply, type HttpReply } from './reply';

export const MAX_EVENTS_PER_REQUEST = 100;
/** 100 events of the largest legal size fit comfortably; anything bigger is not an EHR batch. */
export const MAX_BODY_BYTES = 256 * 1024;

export type Headers = Record<string, string | string[] | undefined>;

export interface IntakeRequest {
  headers: Headers;
  /** The parsed JSON body: an object, an array, or undefined when there was none. */
  body: unknown;
}

export interface IntakeDeps {
  apiKey: string;
  defaultCountry: CountryCode;
  /** How far ahead of the server clock `event_datetime_utc` may be (EHR_EVENT_MAX_FUTURE_HOURS). */
  maxFutureHours?: number;
  record: RecordDeps;
  /** Starts the Studio Flow for the events that were applied; says per event what happened. */
  sendMessages?: (results: RecordResult[], events: AppointmentEvent[]) => Promise<({ message: string; reason?: string } | undefined)[]>;
}

function header(headers: Headers, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Twilio Functions merge the JSON body's top-level keys into `event` next to `request`; a JSON
 * array arrives as keys "0".."n-1". This rebuilds what the client sent.
 */
export function intakeRequestFromTwilioEvent(event: Record<string, unknown>): IntakeRequest {
  const request = (event.request ?? {}) as { headers?: Headers };
  const rest = Object.fromEntries(Object.entries(event).filter(([k]) => k !== 'request'));
  const keys = Object.keys(rest);
  let body: unknown;
  if (keys.length === 0) body = undefined;
  else if (keys.every((k, i) => k === String(i)) || keys.every((k) => /^\d+$/.test(k))) {
    body = keys.sort((a, b) => Number(a) - Number(b)).map((k) => rest[k]);
  } else body = rest;
  return { headers: request.headers ?? {}, body };
}

export async function handleIntake(req: IntakeRequest, deps: IntakeDeps, requestId: string): Promise<HttpReply> {
  const token = bearerToken(req.headers.authorization);
  if (!token || !secretsEqual(token, deps.apiKey)) {
    const reply = errorReply(
      'unauthorized',
      token ? 'the bearer token is not valid' : 'send the EHR key as "Authorization: Bearer <EHR_API_KEY>"',
      requestId,
    );
    reply.headers = { ...reply.headers, 'WWW-Authenticate': 'Bearer realm="ehr-intake"' };
    log('warn', 'intake rejected: unauthorized', { request_id: requestId, status: 401 });
    return reply;
  }

  const length = Number(header(req.headers, 'content-length') ?? '0');
  if (length > MAX_BODY_BYTES || (req.body !== undefined && JSON.stringify(req.body).length > MAX_BODY_BYTES)) {
    return errorReply('payload-too-large', `the body is larger than ${MAX_BODY_BYTES} bytes; send at most ${MAX_EVENTS_PER_REQUEST} events per request`, requestId);
  }
  const contentType = header(req.headers, 'content-type') ?? '';
  if (!/^application\/json\b/i.test(contentType)) {
    return errorReply('unsupported-media-type', 'send the events as application/json', requestId);
  }
  if (req.body === undefined || (typeof req.body === 'object' && req.body !== null && Object.keys(req.body).length === 0)) {
    return errorReply('invalid-request', 'the body is empty; send one event object or an array of events', requestId);
  }

  const asArray = Array.isArray(req.body);
  const wrapped = !asArray && Array.isArray((req.body as { events?: unknown }).events);
  const items: unknown[] = asArray ? (req.body as unknown[]) : wrapped ? (req.body as { events: unknown[] }).events : [req.body];
  if (items.length > MAX_EVENTS_PER_REQUEST) {
    return errorReply('invalid-request', `a request may carry at most ${MAX_EVENTS_PER_REQUEST} events; this one has ${items.length}`, requestId);
  }

  const problems: FieldProblem[] = [];
  const events: AppointmentEvent[] = [];
  const latestEventTime = new Date(deps.record.now().getTime() + (deps.maxFutureHours ?? 24) * 3_600_000).toISOString();
  items.forEach((item, i) => {
    const parsed = parseEhrEvent(item, { defaultCountry: deps.defaultCountry, latestEventTime });
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
    return jsonReply(
      202,
      {
        request_id: requestId,
        results: results.map((r, i) => answerFor(r, messages[i])),
      },
      requestId,
    );
  } catch (err) {
    const conflict = err instanceof StateConflictError;
    log('error', 'intake failed', { request_id: requestId, error: describeError(err) });
    return errorReply(
      'storage-unavailable',
      conflict
        ? 'the appointment is being updated by too many requests at once; retry the request'
        : 'storage is unavailable; nothing was lost, retry the request',
      requestId,
    );
  }
}

/** One event's line of the answer: what happened to it and to its text (no internal claim tokens). */
function answerFor(r: RecordResult, text: { message: string; reason?: string } | undefined) {
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
