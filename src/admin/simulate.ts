import { EHR_EVENT_FIELDS, FLOW_EVENT_TYPES } from '../domain/event';
import { normalisePhone } from '../domain/phone';
import { handleIntake } from '../http/intake';
import { errorReply, jsonReply, type HttpReply } from '../http/reply';
import type { FunctionsRuntime } from '../runtime/functions';
import { intakeDeps } from '../runtime/intake-deps';
import { remindNow } from '../use-cases/sweep';
import { refuseUnlistedPhone, refuseWhenOff, simulationGate } from './simulation-gate';

export const SIMULATED_EVENT_TYPES = FLOW_EVENT_TYPES;
export type SimulatedEventType = (typeof SIMULATED_EVENT_TYPES)[number];

/** The EHR contract's fields the page may send (type and time come from the simulation); anything else is dropped. */
const EVENT_FIELDS = EHR_EVENT_FIELDS.filter((f) => f !== 'event_type' && f !== 'event_datetime_utc');

/**
 * Simulates the EHR: builds the event the integration engine would post and runs it through the
 * same intake as `POST /ehr/events` (authentication with EHR_API_KEY, validation, recording,
 * flow start), so the page shows exactly what a real event would do, field errors included.
 * REMIND sends the appointment's next reminder now through the sweep's own path.
 */
export async function simulate(runtime: FunctionsRuntime, params: Record<string, unknown>, requestId: string): Promise<HttpReply> {
  const gate = simulationGate(runtime.config);
  const off = refuseWhenOff(gate, requestId);
  if (off) return off;
  const type = params.event_type;
  if (typeof type !== 'string' || !(SIMULATED_EVENT_TYPES as readonly string[]).includes(type)) {
    return errorReply('invalid-request', `event_type must be one of ${SIMULATED_EVENT_TYPES.join(', ')}`, requestId, {
      problems: [{ field: 'event_type', message: `must be one of ${SIMULATED_EVENT_TYPES.join(', ')}` }],
    });
  }

  const unlisted = await refuseUnlistedPhone(
    gate,
    runtime.store,
    runtime.config,
    { phone: type === 'REMIND' ? undefined : params.patient_phone, appointmentId: params.appointment_id },
    requestId,
  );
  if (unlisted) return unlisted;

  if (type === 'REMIND') {
    const id = params.appointment_id;
    if (typeof id !== 'string' || id.trim() === '') {
      return errorReply('invalid-request', 'appointment_id is required', requestId, {
        problems: [{ field: 'appointment_id', message: 'is required' }],
      });
    }
    const r = await remindNow(
      { store: runtime.store, flows: runtime.flows, notifier: runtime.notifier, policy: runtime.policy, now: runtime.record.now },
      id,
    );
    if (r.reason === 'unknown-appointment') return errorReply('not-found', 'no appointment with this id; simulate BOOKED first', requestId);
    return jsonReply(
      200,
      {
        event_type: 'REMIND',
        appointment_id: id,
        sent: r.sent,
        ...(r.n ? { n: r.n } : {}),
        ...(r.reason ? { reason: r.reason } : {}),
        ...(r.executionSid ? { execution_sid: r.executionSid } : {}),
      },
      requestId,
    );
  }

  const event: Record<string, unknown> = { event_type: type, event_datetime_utc: runtime.record.now().toISOString() };
  for (const field of EVENT_FIELDS) {
    const v = params[field];
    // Optional fields left empty in the form are not sent, as an engine would leave them out.
    if (v !== undefined && v !== null && v !== '') event[field] = v;
  }
  const reply = await handleIntake(
    { method: 'POST', headers: { authorization: `Bearer ${runtime.config.EHR_API_KEY}`, 'content-type': 'application/json' }, body: event },
    intakeDeps(runtime),
    requestId,
  );
  // The page follows the patient's phone; it gets the number as the intake stored it (E.164).
  const phone =
    typeof event.patient_phone === 'string' ? normalisePhone(event.patient_phone, runtime.config.DEFAULT_PHONE_COUNTRY) : undefined;
  if (reply.status === 202 && phone?.ok) reply.body = { ...(reply.body as object), patient_phone: phone.value };
  return reply;
}
