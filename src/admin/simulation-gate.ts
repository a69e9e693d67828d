import type { FunctionsConfig } from '../config/config';
import { normalisePhone } from '../domain/phone';
import { errorReply, type HttpReply } from '../http/reply';
import type { AppointmentRecords } from '../storage/appointment-store';

type GateConfig = Pick<
  FunctionsConfig,
  'TWILIO_API_BASE_URL' | 'SIMULATION_ENABLED' | 'SIMULATION_ALLOWED_PHONES' | 'SERVICE_MODE' | 'DEFAULT_PHONE_COUNTRY'
>;

/**
 * Local when `npm start` runs it (it points the Twilio client at its stand-in), unless
 * SERVICE_MODE=deployed asks a local run to behave as deployed. Nothing makes a service whose
 * texts reach real phones count as local.
 */
export function serviceMode(c: Pick<FunctionsConfig, 'TWILIO_API_BASE_URL' | 'SERVICE_MODE'>): 'local' | 'deployed' {
  return c.TWILIO_API_BASE_URL && c.SERVICE_MODE !== 'deployed' ? 'local' : 'deployed';
}

export interface SimulationGate {
  mode: 'local' | 'deployed';
  enabled: boolean;
  /** Null when any number may be texted (local runs, whose phones are virtual). */
  allowedPhones: string[] | null;
}

/** On by default locally, off by default deployed; deployed, only to SIMULATION_ALLOWED_PHONES. */
export function simulationGate(c: GateConfig): SimulationGate {
  const mode = serviceMode(c);
  const enabled = c.SIMULATION_ENABLED === undefined ? mode === 'local' : c.SIMULATION_ENABLED === 'true';
  return { mode, enabled, allowedPhones: mode === 'local' ? null : c.SIMULATION_ALLOWED_PHONES };
}

const OFF =
  'the simulation is off in this deployed service: its texts would reach real phones. Set SIMULATION_ENABLED=true and list test numbers in SIMULATION_ALLOWED_PHONES to allow it';

/** 403 when simulations are off here; undefined when they may go on. */
export function refuseWhenOff(gate: SimulationGate, requestId: string): HttpReply | undefined {
  if (gate.enabled) return undefined;
  return errorReply('forbidden', OFF, requestId, {
    problems: [{ field: 'SIMULATION_ENABLED', message: gate.mode === 'deployed' ? 'is not true in this deployed service' : 'is false' }],
  });
}

/**
 * 403 unless a simulated event may text `phone` and touch `appointmentId`: deployed, the phone
 * must be in SIMULATION_ALLOWED_PHONES, and an appointment already stored must belong to one of
 * them (a simulation must not change a real patient's appointment). Never quotes the number.
 */
export async function refuseUnlistedPhone(
  gate: SimulationGate,
  store: AppointmentRecords,
  c: GateConfig,
  input: { phone?: unknown; appointmentId?: unknown },
  requestId: string,
): Promise<HttpReply | undefined> {
  const off = refuseWhenOff(gate, requestId);
  if (off || gate.allowedPhones === null) return off;
  const allowed = new Set(gate.allowedPhones);
  const refuse = (field: string, message: string) =>
    errorReply('forbidden', `${field} ${message}`, requestId, { problems: [{ field, message }] });
  if (input.phone !== undefined && input.phone !== '') {
    const phone = typeof input.phone === 'string' ? normalisePhone(input.phone, c.DEFAULT_PHONE_COUNTRY) : undefined;
    if (!phone?.ok || !allowed.has(phone.value))
      return refuse('patient_phone', 'is not one of SIMULATION_ALLOWED_PHONES; a deployed simulation texts only those numbers');
  }
  if (typeof input.appointmentId === 'string' && input.appointmentId.trim() !== '') {
    const stored = await store.getState(input.appointmentId);
    if (stored && !allowed.has(stored.value.facts.patient_phone)) {
      return refuse(
        'appointment_id',
        'is an appointment of a phone not in SIMULATION_ALLOWED_PHONES; a deployed simulation may not change it',
      );
    }
  }
  return undefined;
}
