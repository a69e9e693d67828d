import type { AppointmentState } from '../domain/appointment';
import type { AppointmentEvent } from '../domain/event';
import { formatAppointmentTime, formatPhone, providerName, smsText, TEXT_LOCATION_MAX, textLanguage } from '../domain/format';
import type { CountryCode } from '../domain/phone';

/**
 * What the Studio Flow receives as `flow.data`: flat strings, every key always present (empty when
 * unknown) so the flow's Liquid can test `!= ''`. The message texts live in the flow; this only
 * supplies the facts, with the time already written in the patient's own zone and language and
 * the EHR's values written the way an SMS carries them cheaply (smsText).
 */
export interface FlowParameters {
  [key: string]: string;
  event_type: string;
  event_id: string;
  appointment_id: string;
  patient_id: string;
  provider_id: string;
  patient_first_name: string;
  provider_name: string;
  appointment_when: string;
  appointment_location: string;
  provider_callback_phone: string;
  reminder: string;
  /** `es` or `en`: which of the flow's texts the patient gets (any other language gets English). */
  language: string;
}

export function flowParameters(state: AppointmentState, event: AppointmentEvent, homeCountry: CountryCode): FlowParameters {
  const f = state.facts;
  const language = textLanguage(f.patient_language);
  return {
    event_type: event.event_type,
    event_id: event.event_id,
    appointment_id: f.appointment_id,
    patient_id: f.patient_id,
    provider_id: f.provider_id ?? '',
    patient_first_name: smsText(f.patient_first_name),
    provider_name: smsText(providerName(f.provider_first_name, f.provider_last_name)),
    appointment_when: formatAppointmentTime(f.appointment_datetime_utc, f.appointment_timezone, language),
    appointment_location: smsText(f.appointment_location, TEXT_LOCATION_MAX),
    provider_callback_phone: formatPhone(f.provider_callback_phone, homeCountry),
    reminder: event.detail?.reminder ?? '',
    language,
  };
}
