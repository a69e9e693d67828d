import { createHash } from 'node:crypto';
import { EHR_EVENT_FIELDS, parseEhrEvent, parseOptionsAt, type FieldProblem } from '../domain/event';
import { normalisePhone, type CountryCode } from '../domain/phone';
import { markSent } from '../domain/text-outbox';
import { log } from '../log';
import { flowParameters } from '../messaging/flow-parameters';
import type { RejectedEvents } from '../storage/appointment-store';
import { textEvent } from './dispatch-texts';
import { recordEvent, type RecordDeps } from './record-event';
import { commitState } from './update-state';

export interface StudioEventDeps {
  record: RecordDeps;
  rejected: RejectedEvents;
  homeCountry: CountryCode;
  /** The intake's limits (defaults as for /ehr/events when unset). */
  maxFutureHours?: number;
  maxAppointmentDays?: number;
}

/** Where the execution came from, as Studio tells the Function. */
export interface ExecutionContext {
  /** The execution's contact (`contact.channel.address`): the phone the flow texts. */
  to: string;
  executionSid: string;
}

/**
 * What the flow does next. `text`: send the text for `event_type` with these display values (the
 * same keys our own executions carry in `flow.data`); `none`: end without texting, `outcome` says
 * why (rejected, duplicate, superseded, queued behind a text in flight, refused…).
 */
export type StudioEventAnswer =
  ({ action: 'text'; outcome: 'applied' } & Record<string, string>) | { action: 'none'; outcome: string; reason: string };

const none = (outcome: string, reason: string): StudioEventAnswer => ({ action: 'none', outcome, reason });

/**
 * An event that reached us as a Studio execution started by someone else than our Functions (an
 * integration engine built for the reference app, which posts each event to the flow). It is
 * validated and recorded exactly as `/ehr/events` would (same parser, limits, ordering,
 * idempotency and text outbox); the text it warrants is claimed here and sent by this very
 * execution (the contact cannot have a second one), so it is recorded as sent with this
 * execution's SID. Invalid events cannot be refused to the engine (Twilio answered it 201), so
 * they are kept as rejected events for the admin page.
 */
export async function recordStudioEvent(
  deps: StudioEventDeps,
  fields: Record<string, unknown>,
  execution: ExecutionContext,
): Promise<StudioEventAnswer> {
  const now = deps.record.now();
  const body: Record<string, string> = {};
  // The flow passes each of the contract's fields from `flow.data` as its own parameter.
  for (const key of EHR_EVENT_FIELDS) {
    const v = fields[key];
    // Studio renders a key the engine did not send as an empty string.
    if (typeof v === 'string' && v !== '') body[key] = v;
  }
  const parsed = parseEhrEvent(
    body,
    parseOptionsAt(now.getTime(), {
      defaultCountry: deps.homeCountry,
      maxFutureHours: deps.maxFutureHours,
      maxAppointmentDays: deps.maxAppointmentDays,
    }),
  );
  const problems: FieldProblem[] = parsed.ok ? [] : parsed.problems;
  if (parsed.ok) {
    const to = normalisePhone(execution.to, deps.homeCountry);
    if (!to.ok || to.value !== parsed.event.patient_phone) {
      problems.push({
        field: 'patient_phone',
        message: "is not the phone the execution was started for (its To); the flow texts only the execution's contact",
      });
    }
  }
  if (!parsed.ok || problems.length > 0) {
    const id = createHash('sha256').update(`${execution.executionSid}\u0000${now.toISOString()}`).digest('hex').slice(0, 32);
    const appointmentId = body.appointment_id;
    await deps.rejected.putRejected({
      id,
      at: now.toISOString(),
      source: 'studio-execution',
      ...(execution.executionSid ? { execution_sid: execution.executionSid } : {}),
      // Only a well-formed, id-sized value is kept: it is shown on the admin page.
      ...(appointmentId && appointmentId.length <= 64 && appointmentId.isWellFormed() ? { appointment_id: appointmentId } : {}),
      ...(body.event_type && /^[A-Z-]{1,20}$/.test(body.event_type) ? { event_type: body.event_type } : {}),
      problems,
    });
    log('warn', 'studio execution event rejected', { execution_sid: execution.executionSid, event_id: id, count: problems.length });
    return none('rejected', problems.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message)).join('; '));
  }

  const event = parsed.event;
  const result = await recordEvent(deps.record, event);
  log('info', 'studio execution event recorded', {
    execution_sid: execution.executionSid,
    appointment_id: event.appointment_id,
    event_id: event.event_id,
    code: result.outcome,
  });
  if (result.text !== 'claimed' || !result.state || result.etag === undefined) {
    return none(result.outcome, typeof result.text === 'string' ? result.text : 'no text');
  }
  const notice = result.state.outbox?.sending;
  if (!notice || notice.owner !== result.owner) return none(result.outcome, 'queued');
  // This execution sends it right after we answer: recorded as sent now, as our dispatcher records
  // a text once Studio has accepted its execution.
  const sent = await commitState(
    deps.record.store,
    event.appointment_id,
    (s) => markSent(s, notice.id, execution.executionSid, now.toISOString()),
    deps.record,
    { known: { value: result.state, etag: result.etag } },
  );
  const state = sent.current?.value ?? result.state;
  return { action: 'text', outcome: 'applied', ...flowParameters(state, textEvent(state, notice), deps.homeCountry) };
}
