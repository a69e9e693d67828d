import { randomBytes } from 'node:crypto';
import { parseEhrEvent, parseOptionsAt, type FieldProblem } from '../domain/event';
import { buildAck, type AckCode, type Hl7Issue } from '../domain/hl7/ack';
import type { Er7Message } from '../domain/hl7/er7';
import { positionText, type Hl7Position } from '../domain/hl7/siu';
import { mapSiuMessage, type SiuMapping } from '../domain/hl7/siu-event';
import { log } from '../log';
import { recordEvents } from '../use-cases/record-event';
import { replyForError, toAppError } from './errors';
import { answerFor, checkBearer, header, MAX_BODY_BYTES, type IntakeDeps, type IntakeRequest } from './intake';
import { errorReply, type HttpReply } from './reply';

/**
 * POST /ehr/hl7: one HL7 v2 SIU message, wrapped as `{"message": "MSH|…"}` or a form field
 * `message` (Twilio Functions read only JSON and form bodies). Answered with an HL7 ACK: AA with
 * 200, AE/AR with 4xx (the engine must not resend what can never succeed), AR with 503 only
 * when storage failed and a resend will work. The mapped event goes through parseEhrEvent and
 * recordEvents exactly as a JSON event does.
 */
export interface Hl7IntakeDeps extends IntakeDeps {
  /** EHR_DEFAULT_TIMEZONE */
  defaultZone?: string;
  /** EHR_FACILITY_TIMEZONES */
  facilityZones?: Record<string, string>;
}

const ACK_MEDIA_TYPE = 'x-application/hl7-v2+er7';

function ackControlId(): string {
  return randomBytes(10).toString('hex');
}

/** Raw ER7 media types (HL7 over HTTP, HAPI, and what engines send in the wild). */
const ER7_MEDIA_TYPE = /^(x-application\/hl7-v2\+er7|application\/hl7-v2|text\/plain)$/i;
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)"?/i;

/**
 * How the ACK goes back: ER7 when the engine asks for it (Accept) or when it sent raw ER7 (then
 * with the media type it sent, so a Mirth or HoH sender reads the answer as it wrote the request;
 * unless it asks for JSON), else JSON `{ack, ack_code, …}`.
 */
type AnswerAs = { er7: string } | { json: true };

function answerAs(req: IntakeRequest, rawEr7Type: string | undefined): AnswerAs {
  const accept = header(req.headers, 'accept') ?? '';
  if (/hl7-v2/i.test(accept)) return { er7: ACK_MEDIA_TYPE };
  if (rawEr7Type && !/^\s*application\/json\s*(;.*)?$/i.test(accept)) return { er7: `${rawEr7Type}; charset=utf-8` };
  return { json: true };
}

function ackReply(
  status: number,
  code: AckCode,
  ack: string,
  as: AnswerAs,
  requestId: string,
  extra: Record<string, unknown> = {},
): HttpReply {
  if ('er7' in as) return { status, headers: { 'Content-Type': as.er7, 'X-Request-Id': requestId }, body: ack };
  return {
    status,
    headers: { 'Content-Type': 'application/json', 'X-Request-Id': requestId },
    body: { request_id: requestId, ack_code: code, ack, ...extra },
  };
}

function er7MediaType(contentType: string): string | undefined {
  const media = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return ER7_MEDIA_TYPE.test(media) ? media : undefined;
}

type Hl7Body = { ok: true; text: string | undefined; er7Type?: string } | { ok: false; status: number; why: string };

/**
 * The message from a raw body (a host that hands over the bytes, lambda/receiver.ts): raw ER7 in
 * its charset (UTF-8 when none is given, as HL7 over HTTP's charset governs and MSH-18 is
 * ignored), or the same JSON/form wrapper the Functions read; UTF-8 decoded strictly.
 */
function readRawHl7(raw: Uint8Array, contentType: string): Hl7Body {
  if (raw.byteLength > MAX_BODY_BYTES) return { ok: false, status: 413, why: `the body is larger than ${MAX_BODY_BYTES} bytes` };
  const media = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  const er7Type = er7MediaType(contentType);
  const charset = (CHARSET.exec(contentType)?.[1] ?? 'utf-8').toLowerCase();
  const json = media === 'application/json';
  const form = media === 'application/x-www-form-urlencoded';
  if (!json && !form && !er7Type) {
    return {
      ok: false,
      status: 415,
      why: 'send the ER7 text as x-application/hl7-v2+er7, application/hl7-v2 or text/plain, or as {"message": "MSH|…"} (application/json)',
    };
  }
  let text: string;
  try {
    if (/^(iso-?8859-1|latin-?1)$/.test(charset) && !json) text = Buffer.from(raw).toString('latin1');
    else if (/^(utf-?8|us-ascii)$/.test(charset)) text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    else return { ok: false, status: 415, why: `charset ${charset} is not supported; send UTF-8 or ISO-8859-1` };
  } catch {
    return { ok: false, status: 400, why: 'the body is not valid UTF-8' };
  }
  if (form) return { ok: true, text: new URLSearchParams(text).get('message') ?? undefined };
  if (er7Type) return { ok: true, text, er7Type };
  try {
    const body = JSON.parse(text) as { message?: unknown } | null;
    return { ok: true, text: typeof body?.message === 'string' ? body.message : undefined };
  } catch {
    return { ok: false, status: 400, why: 'the body is not valid JSON' };
  }
}

/** Contract problems named by the HL7 field the value came from; quoted values are left out (they may be patient data). */
function issuesFor(problems: FieldProblem[], sources: Record<string, Hl7Position>): Hl7Issue[] {
  return problems.map((p) => {
    const at = sources[p.field];
    const message = p.message.replace(/"[^"]*"/g, 'the value');
    const missing = /required|must not be empty/.test(p.message);
    return { ...(at ? { at } : {}), code: missing ? 101 : 102, text: `${at ? positionText(at) : p.field} (${p.field}): ${message}` };
  });
}

export async function handleHl7Intake(req: IntakeRequest, deps: Hl7IntakeDeps, requestId: string): Promise<HttpReply> {
  if (req.method !== 'POST') {
    const reply = errorReply('method-not-allowed', 'POST the HL7 message as {"message": "MSH|…"} with a Content-Length header', requestId);
    reply.headers = { ...reply.headers, Allow: 'POST' };
    return reply;
  }
  const unauthorized = checkBearer(req.headers, deps.apiKey, requestId);
  if (unauthorized) return unauthorized;
  const now = deps.record.now();
  const ack = (code: AckCode, text: string, original?: Er7Message, issues: Hl7Issue[] = []) =>
    buildAck({ code, text, original, issues, now, controlId: ackControlId() });

  const contentType = header(req.headers, 'content-type') ?? '';
  const wrapped = (req.body as { message?: unknown } | undefined)?.message;
  const read: Hl7Body = req.rawBody
    ? readRawHl7(req.rawBody, contentType)
    : { ok: true, text: typeof wrapped === 'string' ? wrapped : undefined };
  // A raw ER7 request is answered in ER7 even when its body could not be read.
  const as = answerAs(req, read.ok ? read.er7Type : req.rawBody && er7MediaType(contentType));
  if (!read.ok) {
    const issue: Hl7Issue = { code: 100, text: read.why };
    return ackReply(read.status, 'AR', ack('AR', read.why, undefined, [issue]), as, requestId, {
      problems: [{ field: 'message', code: 100, message: read.why }],
    });
  }
  const text = read.text;
  if (text === undefined || text.trim() === '') {
    const hint = read.er7Type
      ? 'the body is empty; send one ER7 message'
      : 'send the ER7 text as {"message": "MSH|…"} (JSON) or a form field message';
    const issue: Hl7Issue = { code: 100, text: hint };
    return ackReply(400, 'AR', ack('AR', 'no message', undefined, [issue]), as, requestId, {
      problems: [{ field: 'message', message: issue.text }],
    });
  }
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) {
    return ackReply(
      413,
      'AR',
      ack('AR', `message larger than ${MAX_BODY_BYTES} bytes`, undefined, [{ code: 100, text: 'the message is too large' }]),
      as,
      requestId,
    );
  }

  const mapped: SiuMapping = mapSiuMessage(text, { defaultZone: deps.defaultZone, facilityZones: deps.facilityZones, now });
  const controlId = mapped.facts?.controlId ?? '';
  const logged = { request_id: requestId, control_id: controlId, appointment_id: mapped.facts?.appointmentId?.value };
  if (mapped.kind === 'reject') {
    const status = mapped.misconfigured ? 500 : 400;
    log(mapped.misconfigured ? 'error' : 'info', 'hl7 message refused', {
      ...logged,
      code: mapped.code,
      status,
      count: mapped.issues.length,
    });
    return ackReply(
      status,
      mapped.code,
      ack(mapped.code, mapped.issues[0]?.text ?? 'refused', mapped.message, mapped.issues),
      as,
      requestId,
      { problems: mapped.issues.map(problemOf) },
    );
  }
  if (mapped.kind === 'ignore') {
    log('info', 'hl7 message ignored', { ...logged, code: 'ignored', status: 200 });
    return ackReply(200, 'AA', ack('AA', `ignored: ${mapped.reason}`, mapped.message), as, requestId, {
      result: { outcome: 'ignored', reason: mapped.reason },
    });
  }

  const parsed = parseEhrEvent(mapped.input, parseOptionsAt(now.getTime(), deps));
  if (!parsed.ok) {
    const issues = issuesFor(parsed.problems, mapped.sources);
    log('info', 'hl7 message refused', { ...logged, code: 'AE', status: 400, count: issues.length });
    return ackReply(400, 'AE', ack('AE', issues[0]?.text ?? 'invalid', mapped.message, issues), as, requestId, {
      problems: issues.map(problemOf),
    });
  }

  const event = parsed.event;
  try {
    const results = await recordEvents(deps.record, [event]);
    const messages = deps.sendMessages ? await deps.sendMessages(results, [event]) : [];
    const result = answerFor(results[0] as (typeof results)[number], messages[0]);
    log('info', 'hl7 message recorded', {
      ...logged,
      event_id: event.event_id,
      event_type: event.event_type,
      code: result.outcome,
      status: 200,
    });
    return ackReply(200, 'AA', ack('AA', result.outcome, mapped.message), as, requestId, { result });
  } catch (err) {
    // The one mapping decides the status (transient → 503, a bug → 500); the ACK says the same in HL7.
    const mappedReply = replyForError(err, requestId, 'hl7 intake failed');
    const error = toAppError(err);
    const text = error.retryable
      ? `the message could not be recorded now (${error.code}); nothing was lost, resend the message`
      : `the message could not be processed (${error.code}, request ${requestId}); nothing was recorded`;
    const issue: Hl7Issue = { code: 207, text };
    const answer = ackReply(mappedReply.status, 'AR', ack('AR', issue.text, mapped.message, [issue]), as, requestId, {
      problems: [problemOf(issue)],
    });
    const retryAfter = mappedReply.headers?.['Retry-After'];
    return retryAfter ? { ...answer, headers: { ...answer.headers, 'Retry-After': retryAfter } } : answer;
  }
}

function problemOf(issue: Hl7Issue): { field: string; code: number; message: string } {
  return { field: issue.at ? positionText(issue.at) : '', code: issue.code, message: issue.text };
}
