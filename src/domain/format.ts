import { DateTime, IANAZone } from 'luxon';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/min';
import { isGsm7Char } from './segments';
import { parseAppointmentZone } from './time';

/** The languages the flow has texts for; every other language gets English. */
export const TEXT_LANGUAGES = ['en', 'es'] as const;
export type TextLanguage = (typeof TEXT_LANGUAGES)[number];

/** The text language for a patient's BCP 47 tag: `es`, `es-MX`, `es-419` → es; anything else → en. */
export function textLanguage(tag: string | undefined): TextLanguage {
  const primary = (tag ?? '').trim().toLowerCase().split(/[-_]/)[0];
  return primary === 'es' ? 'es' : 'en';
}

/**
 * The zone as the text names it, the same in both languages: the abbreviation US phones show
 * (PST, EDT, HST, MST for Phoenix) where there is one, otherwise the offset written `UTC+5:30`,
 * for IANA zones and fixed offsets alike (Intl writes `GMT+5:30` for some zones: never shown).
 */
export function zoneLabel(dt: DateTime): string {
  if (dt.zone instanceof IANAZone) {
    const name = dt.setLocale('en-US').toFormat('ZZZZ');
    if (/^[A-Z]{2,5}$/.test(name) && !/^(GMT|UTC)$/.test(name)) return name;
  }
  const minutes = dt.offset;
  if (minutes === 0) return 'UTC';
  const sign = minutes < 0 ? '-' : '+';
  const h = Math.floor(Math.abs(minutes) / 60);
  const m = Math.abs(minutes) % 60;
  return `UTC${sign}${h}${m ? `:${String(m).padStart(2, '0')}` : ''}`;
}

/**
 * Accents GSM 03.38 lacks (á í ó ú …) are written without them, so a date never turns a text
 * into UCS-2 (70 characters a segment instead of 160); é, ñ, ü and the like are kept.
 */
export function gsmLetters(text: string): string {
  return [...text]
    .map((ch) => {
      if (isGsm7Char(ch)) return ch;
      const base = ch.normalize('NFD').replace(/\p{M}/gu, '');
      return /^[A-Za-z]+$/.test(base) ? base : ch;
    })
    .join('');
}

/** At most this many characters of the location go in a text (the whole of it stays in the record). */
export const TEXT_LOCATION_MAX = 100;

/**
 * A value from the EHR as a text shows it: letters GSM-7 lacks written without their accent
 * (María → Maria, Zoë → Zoe; a single í would make the whole text UCS-2 and double or triple its
 * segments), runs of spaces as one, and cut at a word with "..." beyond `max` characters. Names
 * in other scripts are kept as written (the text then goes UCS-2).
 */
export function smsText(value: string | undefined, max?: number): string {
  const text = gsmLetters((value ?? '').normalize('NFC'))
    .replace(/\s+/g, ' ')
    .trim();
  if (max === undefined || [...text].length <= max) return text;
  const cut = [...text].slice(0, max - 3).join('');
  const atWord = cut.replace(/[\s,;.:-]+\S*$/, '');
  return `${atWord.length >= (max - 3) / 2 ? atWord : cut}...`;
}

/**
 * The appointment time as the patient reads it, in their own zone and language:
 * "Tue, Dec 1 at 9:30 AM PST" / "mar, 1 dic, 9:30 PST".
 */
export function formatAppointmentTime(utcIso: string, zoneName: string, language: TextLanguage = 'en'): string {
  const zone = parseAppointmentZone(zoneName);
  const dt = DateTime.fromISO(utcIso, { zone: 'UTC' }).setZone(zone.ok ? zone.value.zone : 'UTC');
  const when =
    language === 'es'
      ? gsmLetters(dt.setLocale('es').toFormat('ccc, d LLL, H:mm'))
      : dt.setLocale('en-US').toFormat("ccc, LLL d 'at' h:mm a");
  return `${when} ${zoneLabel(dt)}`;
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
