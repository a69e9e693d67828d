import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/min';
import type { Parsed } from './time';

export type { CountryCode };

/** Normalises a phone number to E.164; numbers without a country code use `defaultCountry`. */
export function normalisePhone(input: string, defaultCountry: CountryCode): Parsed<string> {
  const text = input.trim();
  if (text === '') return { ok: false, reason: 'is empty' };
  const number = parsePhoneNumberFromString(text, defaultCountry);
  if (!number) {
    return { ok: false, reason: 'is not a phone number; send E.164 such as +14155550134' };
  }
  if (!number.isValid()) {
    return {
      ok: false,
      reason: `is not a valid phone number for ${number.country ?? defaultCountry}; send E.164 such as +14155550134`,
    };
  }
  return { ok: true, value: number.number };
}
