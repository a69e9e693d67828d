import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { AppointmentState } from '../domain/appointment';
import { isEhrEventType, parseEhrEvent, parseOptionsAt, type AppointmentEvent, type EhrEventInput } from '../domain/event';
import { statusAfterEhrEvent } from '../domain/event-log';
import { isRemindable } from '../domain/statuses';
import { FhirFetchError, isTransientFhirFailure, type FhirReader } from '../ehr/fhir-client';
import { mapAppointment, unresolvedReferences, type MappedAppointment } from '../fhir/appointment';
import { readFhirBody, relativeReference, ResourceIndex, type AppointmentItem, type IdOnlyFocus, type Located } from '../fhir/bundle';
import { decideEventType, fhirEventId, type StoredView } from '../fhir/event-type';
import { cleanIssue, errorIssue, operationOutcome, resultIssue } from '../fhir/outcome';
import type { Issue, ParticipantStatus } from '../fhir/resources';
import { PARTICIPANT_STATUSES } from '../fhir/resources';
import { log } from '../log';
import { bearerToken, secretsEqual } from './auth';
import { header, jsonDepth, MAX_BODY_BYTES, recordAndSend, type IntakeDeps, type IntakeRequest } from './intake';
import { replyForError, toAppError } from './errors';
import type { HttpReply } from './reply';

/** Bundles nest deeper than flat events (entry → resource → participant → actor → identifier). */
const MAX_FHIR_DEPTH = 32;
const MAX_APPOINTMENTS = 100;
const FHIR_MEDIA_TYPE = /^application\/(fhir\+)?json[ \t]*(;.*)?$/i;
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)"?/i;
const CONFIGURE =
  'set FHIR_BASE_URL with FHIR_BEARER_TOKEN, or with FHIR_CLIENT_ID, FHIR_CLIENT_SECRET and FHIR_TOKEN_URL, so the intake can fetch it';

export interface FhirIntakeDeps extends Pick<
  IntakeDeps,
  'apiKey' | 'defaultCountry' | 'maxFutureHours' | 'maxAppointmentDays' | 'record' | 'sendMessages'
> {
  /** The EHR's FHIR server, when configured: id-only notifications and bare Appointments are completed from it. */
  fhir?: FhirReader;
}

function reply(status: number, issues: OperationOutcomeIssue[], requestId: string, headers: Record<string, string> = {}): HttpReply {
  return {
    status,
    headers: { 'Content-Type': 'application/fhir+json', 'X-Request-Id': requestId, ...headers },
    body: operationOutcome(issues),
  };
}

function fail(status: number, issues: Issue[], requestId: string, headers?: Record<string, string>): HttpReply {
  log('info', 'fhir intake rejected', { request_id: requestId, status, count: issues.length });
  return reply(status, issues.map(cleanIssue), requestId, headers);
}

/** The body as JSON: parsed by the runtime, or decoded here strictly from raw bytes. */
function bodyOf(req: IntakeRequest): { ok: true; body: unknown } | { ok: false; issue: Issue; status: number } {
  if (!req.rawBody) return { ok: true, body: req.body };
  if (req.rawBody.byteLength > MAX_BODY_BYTES)
    return { ok: false, status: 413, issue: errorIssue('too-costly', undefined, `the body is larger than ${MAX_BODY_BYTES} bytes`) };
  if (req.rawBody.byteLength === 0) return { ok: true, body: undefined };
  try {
    return { ok: true, body: JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(req.rawBody)) as unknown };
  } catch {
    return { ok: false, status: 400, issue: errorIssue('structure', undefined, 'the body is not valid UTF-8 JSON') };
  }
}

/** POST /ehr/fhir: FHIR R4 Appointments, Bundles and subscription notifications → the same events as /ehr/events. */
export async function handleFhirIntake(req: IntakeRequest, deps: FhirIntakeDeps, requestId: string): Promise<HttpReply> {
  if (req.method !== 'POST')
    return fail(405, [errorIssue('not-supported', undefined, 'POST the resource as a JSON body with a Content-Length header')], requestId, {
      Allow: 'POST',
    });
  const token = bearerToken(req.headers.authorization);
  if (!token || !secretsEqual(token, deps.apiKey)) {
    const why = token ? 'the bearer token is not valid' : 'send the EHR key as "Authorization: Bearer <EHR_API_KEY>"';
    return fail(401, [errorIssue('security', undefined, why)], requestId, { 'WWW-Authenticate': 'Bearer realm="ehr-intake"' });
  }
  const contentType = (header(req.headers, 'content-type') ?? '').trim();
  const charset = CHARSET.exec(contentType)?.[1];
  if (!FHIR_MEDIA_TYPE.test(contentType) || (charset && !/^utf-?8$/i.test(charset))) {
    return fail(
      415,
      [
        errorIssue(
          'not-supported',
          undefined,
          'send the resource as application/json (or application/fhir+json where the host passes it) in UTF-8',
        ),
      ],
      requestId,
    );
  }
  if (!(Number(header(req.headers, 'content-length') ?? '0') <= MAX_BODY_BYTES))
    return fail(413, [errorIssue('too-costly', undefined, `the body is larger than ${MAX_BODY_BYTES} bytes`)], requestId);
  const read = bodyOf(req);
  if (!read.ok) return fail(read.status, [read.issue], requestId);
  const body = read.body;
  if (body === undefined || (typeof body === 'object' && body !== null && Object.keys(body).length === 0)) {
    // Twilio Functions hand the handler an empty event for media types they do not parse.
    const dropped = !req.rawBody && /fhir\+json/i.test(contentType);
    const hint = dropped ? '; this host cannot read application/fhir+json bodies, send the same JSON as application/json' : '';
    return fail(
      dropped ? 415 : 400,
      [errorIssue(dropped ? 'not-supported' : 'structure', undefined, `the body is empty${hint}`)],
      requestId,
    );
  }
  if (jsonDepth(body, MAX_FHIR_DEPTH) > MAX_FHIR_DEPTH)
    return fail(400, [errorIssue('structure', undefined, `the body nests deeper than ${MAX_FHIR_DEPTH} levels`)], requestId);
  if (Buffer.byteLength(JSON.stringify(body), 'utf8') > MAX_BODY_BYTES)
    return fail(413, [errorIssue('too-costly', undefined, `the body is larger than ${MAX_BODY_BYTES} bytes`)], requestId);

  const parsed = readFhirBody(body);
  if (parsed.kind === 'invalid') return fail(parsed.status, parsed.issues, requestId);
  if (parsed.kind === 'no-op') {
    return reply(
      200,
      [{ severity: 'information', code: 'informational', diagnostics: `${parsed.reason}: acknowledged, nothing recorded` }],
      requestId,
    );
  }
  if (parsed.items.length + parsed.idOnly.length > MAX_APPOINTMENTS) {
    return fail(422, [errorIssue('too-costly', 'Bundle.entry', `a request may carry at most ${MAX_APPOINTMENTS} Appointments`)], requestId);
  }

  try {
    const completed = await complete(parsed.items, parsed.idOnly, parsed.index, deps.fhir);
    if ('issues' in completed) return fail(422, completed.issues, requestId);
    return await recordMapped(completed.items, completed.resolve, deps, requestId);
  } catch (err) {
    if (err instanceof StoreReadError) {
      // Only a transient failure is worth the engine's retry; anything else is a bug (500 from the handler).
      const error = toAppError(err.cause);
      if (!error.retryable) throw err.cause;
      const mapped = replyForError(error, requestId, 'fhir intake: storage unavailable');
      return reply(
        mapped.status,
        [cleanIssue(errorIssue('transient', undefined, 'storage is unavailable; nothing was recorded, retry the request'))],
        requestId,
        { 'Retry-After': mapped.headers?.['Retry-After'] ?? '30' },
      );
    }
    if (!(err instanceof FhirFetchError)) throw err;
    // The status and Retry-After are the central mapping's (docs/errors.md, "Upstream failures"), so
    // a timeout is the same 503 here as anywhere; only the body is an OperationOutcome.
    const mapped = replyForError(err, requestId, 'fhir intake: the FHIR server could not be read');
    const transient = isTransientFhirFailure(err);
    const what = `${err.kind}${err.status ? ` ${err.status}` : ''}`;
    const why = transient
      ? `the EHR FHIR server could not be read (${what}); nothing was recorded, retry the notification`
      : err.kind === 'unauthorized' || err.kind === 'token'
        ? 'the EHR FHIR server refused our credentials; check FHIR_BEARER_TOKEN or the client credentials'
        : `the EHR FHIR server could not be read (${what}); nothing was recorded`;
    const code = transient ? (err.kind === 'timeout' ? 'timeout' : 'transient') : 'exception';
    const retryAfter = mapped.headers?.['Retry-After'];
    return reply(mapped.status, [cleanIssue(errorIssue(code, undefined, why))], requestId, retryAfter ? { 'Retry-After': retryAfter } : {});
  }
}

/** A read of the store failed: transient, answered 503 like a failed write. */
class StoreReadError extends Error {
  constructor(override readonly cause: unknown) {
    super('storage read failed');
  }
}

async function fromStore<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    throw new StoreReadError(err);
  }
}

/** Fetches what the request only names: id-only Appointments, then the resources Appointments refer to. */
async function complete(
  items: AppointmentItem[],
  idOnly: IdOnlyFocus[],
  index: ResourceIndex,
  fhir: FhirReader | undefined,
): Promise<{ items: AppointmentItem[]; resolve: (reference: string) => Located | undefined } | { issues: Issue[] }> {
  const fetched = new ResourceIndex();
  const resolve = (reference: string) => index.get(reference) ?? fetched.get(reference);
  if (idOnly.length > 0 && !fhir) {
    return {
      issues: idOnly.map((f) =>
        errorIssue('processing', f.path, `${f.path}: the notification carries only the Appointment's id; ${CONFIGURE}`),
      ),
    };
  }
  const all = [...items];
  const issues: Issue[] = [];
  for (const focus of idOnly) {
    const r = await fetchFocus(focus, fhir as FhirReader);
    if ('issue' in r) issues.push(r.issue);
    else all.push(r.item);
  }
  if (issues.length > 0) return { issues };
  if (fhir) {
    for (const item of all) {
      for (const ref of unresolvedReferences(item, resolve)) {
        const relative = relativeReference(ref.reference);
        // Only this server's resources are fetched: a reference elsewhere is never followed.
        if (!relative || (/^[a-z]+:/i.test(ref.reference) && !fhir.owns(ref.reference)) || fetched.get(relative)) continue;
        const [type, id] = relative.split('/') as [string, string];
        const resource = await fhir.read(type, id);
        if (resource) fetched.add({ resource, path: type, fetched: true }, ref.reference);
      }
    }
  }
  return { items: all, resolve };
}

async function fetchFocus(focus: IdOnlyFocus, fhir: FhirReader): Promise<{ item: AppointmentItem } | { issue: Issue }> {
  const relative = focus.reference ? relativeReference(focus.reference) : undefined;
  let found: Record<string, unknown>[] = [];
  if (relative && (!/^[a-z]+:/i.test(focus.reference ?? '') || fhir.owns(focus.reference ?? ''))) {
    const resource = await fhir.read('Appointment', relative.split('/')[1] as string);
    found = resource ? [resource] : [];
  } else if (focus.identifier?.value) {
    found = await fhir.searchByIdentifier('Appointment', focus.identifier.system, focus.identifier.value);
  } else {
    return { issue: errorIssue('required', focus.path, `${focus.path} has neither a reference into the FHIR server nor an identifier`) };
  }
  if (found.length === 0) return { issue: errorIssue('not-found', focus.path, `${focus.path}: the FHIR server has no such Appointment`) };
  if (found.length > 1)
    return {
      issue: errorIssue(
        'multiple-matches',
        focus.path,
        `${focus.path}: the identifier matches ${found.length} Appointments on the FHIR server`,
      ),
    };
  return {
    item: {
      located: { resource: found[0] as Record<string, unknown>, path: 'Appointment', fetched: true },
      ...(focus.identifier ? { focusIdentifier: focus.identifier } : {}),
      ...(focus.eventTime ? { eventTime: focus.eventTime } : {}),
    },
  };
}

function storedView(state: AppointmentState, previousPatientStatus?: ParticipantStatus): StoredView {
  return {
    status: state.status,
    appointment_datetime_utc: state.facts.appointment_datetime_utc,
    ...(state.facts.appointment_location ? { appointment_location: state.facts.appointment_location } : {}),
    ...(state.facts.provider_id ? { provider_id: state.facts.provider_id } : {}),
    patient_requested_confirm: state.patient_request?.type === 'CONFIRM',
    ...(previousPatientStatus ? { previous_patient_status: previousPatientStatus } : {}),
  };
}

type Line = Parameters<typeof resultIssue>[0];

/** Maps, decides each event type against the store, validates as /ehr/events does, records, texts. */
async function recordMapped(
  items: AppointmentItem[],
  resolve: (reference: string) => Located | undefined,
  deps: FhirIntakeDeps,
  requestId: string,
): Promise<HttpReply> {
  const store = deps.record.store;
  const nowMs = deps.record.now().getTime();
  const now = new Date(nowMs).toISOString();
  const hint = deps.fhir ? 'the FHIR server does not have it either' : `send it in a Bundle with the Appointment, or ${CONFIGURE}`;
  const mapped: { m: MappedAppointment; item: AppointmentItem }[] = [];
  const issues: Issue[] = [];
  for (const item of items) {
    const r = mapAppointment(item, { resolve, now, unresolvedHint: hint });
    if (r.ok) mapped.push({ m: r.mapped, item });
    else issues.push(...r.issues);
  }
  if (issues.length > 0) return fail(422, issues, requestId);

  const limits = parseOptionsAt(nowMs, deps);
  // What is known of each appointment: the store, then what this request has decided before.
  const views = new Map<string, StoredView | null>();
  const states = new Map<string, AppointmentState | null>();
  const lines: (Line | { event: number })[] = [];
  const events: AppointmentEvent[] = [];
  for (const { m, item } of mapped) {
    const id = m.fields.appointment_id;
    const eventId = fhirEventId(m);
    if (!states.has(id)) states.set(id, (await fromStore(() => store.getState(id)))?.value ?? null);
    const state = states.get(id) ?? null;
    const expression = item.located.path;
    const logged = state?.log?.find((e) => e.id === eventId);
    const known = !!state && (state.ehr_event_id === eventId || state.recent_event_ids.includes(eventId));
    if (!logged && known) {
      // Recorded long ago and folded out of the log: a redelivery, recorded nothing.
      lines.push({ appointment_id: id, event_id: eventId, outcome: 'duplicate', disposition: state.disposition, expression });
      continue;
    }
    let type = logged && isEhrEventType(logged.type) ? logged.type : undefined;
    if (!type) {
      if (!views.has(id)) views.set(id, state ? storedView(state, await previousPatientStatus(deps, id, m, state)) : null);
      const decision = decideEventType(m, views.get(id) ?? null);
      if ('ignore' in decision) {
        lines.push({
          appointment_id: id,
          event_id: eventId,
          outcome: 'ignored',
          reason: decision.ignore,
          disposition: state?.disposition ?? null,
          expression,
        });
        continue;
      }
      type = decision.type;
    }
    const eventTime = logged?.at ?? m.eventTime?.value ?? now;
    const flat: EhrEventInput = { ...m.fields, event_type: type, event_datetime_utc: eventTime };
    const parsed = parseEhrEvent(flat, limits);
    if (!parsed.ok) {
      const sources = { ...m.sources, ...(m.eventTime ? { event_datetime_utc: m.eventTime.path } : {}) };
      for (const p of parsed.problems) {
        const at = sources[p.field as keyof EhrEventInput] ?? expression;
        issues.push(errorIssue('value', at, `${at}: ${p.message}`));
      }
      continue;
    }
    views.set(id, {
      // What the event makes of a new appointment: the next version in the bundle is decided against it.
      status: statusAfterEhrEvent(type, undefined, false),
      appointment_datetime_utc: parsed.event.appointment_datetime_utc,
      patient_requested_confirm: false,
      previous_patient_status: m.patientStatus,
    });
    lines.push({ event: events.length });
    events.push({
      ...parsed.event,
      event_id: eventId,
      detail: {
        source: 'fhir-r4',
        fhir_status: m.status,
        fhir_patient_status: m.patientStatus,
        ...(m.version ? { fhir_version: m.version } : {}),
      },
    });
  }
  if (issues.length > 0) return fail(422, issues, requestId);

  const recorded = events.length > 0 ? await recordAndSend(deps, events, requestId) : { ok: true as const, results: [] };
  if (!recorded.ok) {
    const mapped = replyForError(recorded.error, requestId, 'fhir intake failed');
    const why =
      recorded.error.code === 'internal'
        ? `the request failed; nothing was recorded; the logs have request id ${requestId}`
        : recorded.error.message;
    const retryAfter = mapped.headers?.['Retry-After'];
    return reply(
      mapped.status,
      [cleanIssue(errorIssue(recorded.error.retryable ? 'transient' : 'exception', undefined, why))],
      requestId,
      retryAfter ? { 'Retry-After': retryAfter } : {},
    );
  }
  const expressions = mapped.map(({ item }) => item.located.path);
  const answer = lines.map((line, i) => {
    if (!('event' in line)) return resultIssue(line);
    const r = recorded.results[line.event];
    return resultIssue({ ...(r as NonNullable<typeof r>), expression: expressions[i] as string });
  });
  return reply(200, answer, requestId);
}

/**
 * The patient participant's status in the newest version recorded by FHIR: read from the history
 * only when it can turn a booked appointment into CONFIRMED (accepted now, not confirmed yet).
 */
async function previousPatientStatus(
  deps: FhirIntakeDeps,
  id: string,
  m: MappedAppointment,
  state: AppointmentState,
): Promise<ParticipantStatus | undefined> {
  const candidate =
    m.status === 'booked' &&
    m.patientStatus === 'accepted' &&
    isRemindable(state.status) &&
    m.startUtc === state.facts.appointment_datetime_utc;
  if (!candidate) return undefined;
  const history = await fromStore(() => deps.record.store.listHistory(id));
  const last = history.filter((h) => h.event.detail?.source === 'fhir-r4').at(-1)?.event.detail?.fhir_patient_status;
  return (PARTICIPANT_STATUSES as readonly string[]).includes(last ?? '') ? (last as ParticipantStatus) : undefined;
}
