import { DateTime } from 'luxon';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/min';
import { parseAppointmentZone } from './time';

/** "Tue, Dec 1 at 9:30 AM PST": the appointment time as the patient reads it, in their own zone. */
export function formatAppointmentTime(utcIso: string, zoneName: string): string {
  const zone = parseAppointmentZone(zoneName);
  const dt = DateTime.fromISO(utcIso, { zone: 'UTC' }).setZone(zone.ok ? zone.value.zone : 'UTC');
  return dt.setLocale('en-US').toFormat("ccc, LLL d 'at' h:mm a ZZZZ");
}

/** A phone as a patient would dial it: national format at home, international otherwise. */
export function formatPhone(e164: string | undefined, homeCountry: CountryCode): string {
  if (!e164) return '';
  const n = parsePhoneNumberFromString(e164);
  if (!n) return e164;
  return n.country === homeCountry ? n.formatNational() : n.formatInternational();
}

/** "Sam Lee" — the provider as the EHR names them; the clinic adds titles in its templates. */
export function providerName(first?: string, last?: string): string {
  return [first, last].filter((p) => p && p.trim() !== '').join(' ');
}
