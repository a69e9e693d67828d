import { createHash } from 'node:crypto';
import type { EhrEventType } from '../domain/event';
import { isClosed, type StatusName } from '../domain/statuses';
import type { MappedAppointment } from './appointment';
import type { AppointmentStatus, ParticipantStatus } from './resources';

/** What the product already holds about the appointment (from the store), as the decision needs it. */
export interface StoredView {
  status: StatusName;
  appointment_datetime_utc: string;
  appointment_location?: string;
  provider_id?: string;
  provider_first_name?: string;
  provider_last_name?: string;
  /** The patient asked by SMS to confirm, and the EHR has not answered yet. */
  patient_requested_confirm: boolean;
  /** The Patient participant's status in the last FHIR version recorded, if it came by FHIR. */
  previous_patient_status?: ParticipantStatus;
}

export type Decision = { type: EhrEventType } | { ignore: string };

/**
 * The R4 statuses for which decideEventType can say each event type (fhir.test.ts holds it to that,
 * both ways). Adding an event type means deciding how a FHIR feed says it, or that it cannot.
 */
export const FHIR_STATUSES_OF = {
  BOOKED: ['booked'],
  RESCHEDULED: ['booked'],
  MODIFIED: ['booked'],
  CONFIRMED: ['booked'],
  CANCELED: ['cancelled', 'entered-in-error'],
  NOSHOWED: ['noshow'],
} as const satisfies Record<EhrEventType, readonly AppointmentStatus[]>;

/**
 * R4 Appointment.status → the contract's event type. R4 has no "rescheduled" or "confirmed"
 * status, so a booked appointment is compared with what is stored: new (or revived) → BOOKED, a
 * new start → RESCHEDULED, the patient participant now `accepted` after needs-action/tentative
 * (or after the patient's own CONFIRM) → CONFIRMED, anything else → MODIFIED (the outbox sends no
 * text that says nothing new). Statuses before booking or after arrival are not texted.
 */
export function decideEventType(
  m: Pick<MappedAppointment, 'status' | 'patientStatus' | 'startUtc' | 'fields'>,
  stored: StoredView | null,
): Decision {
  switch (m.status) {
    case 'proposed':
    case 'pending':
      return { ignore: `status ${m.status}: not booked yet, so nothing is texted` };
    case 'waitlist':
      return { ignore: 'status waitlist: on a waitlist, not booked' };
    case 'arrived':
    case 'checked-in':
    case 'fulfilled':
      return { ignore: `status ${m.status}: the visit is under way or over, so nothing is texted` };
    case 'cancelled':
      return { type: 'CANCELED' };
    case 'noshow':
      return { type: 'NOSHOWED' };
    case 'entered-in-error':
      // Booked in error: stop any reminders; one never seen needs nothing (and no text about it).
      return stored ? { type: 'CANCELED' } : { ignore: 'status entered-in-error for an appointment never recorded: nothing to cancel' };
    case 'booked':
      return decideBooked(m, stored);
  }
}

function decideBooked(m: Pick<MappedAppointment, 'patientStatus' | 'startUtc' | 'fields'>, stored: StoredView | null): Decision {
  if (!stored || isClosed(stored.status)) return { type: 'BOOKED' };
  if (m.startUtc && m.startUtc !== stored.appointment_datetime_utc) return { type: 'RESCHEDULED' };
  const confirmedNow =
    m.patientStatus === 'accepted' &&
    stored.status !== 'CONFIRMED' &&
    (stored.patient_requested_confirm ||
      stored.previous_patient_status === 'needs-action' ||
      stored.previous_patient_status === 'tentative');
  if (confirmedNow) return { type: 'CONFIRMED' };
  return { type: 'MODIFIED' };
}

/**
 * The event id of one version of an Appointment: its id, version and everything mapped from it
 * except what the store decides (type) or the clock gives (receipt time). The same version
 * delivered twice has the same id, so it is one change and one text.
 */
export function fhirEventId(m: Pick<MappedAppointment, 'fields' | 'status' | 'patientStatus' | 'version'>): string {
  const fields = Object.keys(m.fields)
    .sort()
    .map((k) => [k, (m.fields as Record<string, unknown>)[k]]);
  const canonical = JSON.stringify(['fhir-r4', m.fields.appointment_id, m.version, m.status, m.patientStatus, fields]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}
