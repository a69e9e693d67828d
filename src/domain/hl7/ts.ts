/**
 * HL7 v2 TS/DTM values: `YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]` (HL7 v2.5 §2.A.75, DTM in
 * v2.6+). The number of digits is the precision; an offset, when present, makes it an instant.
 */
export interface Hl7Time {
  /** ISO 8601 local text: `2015-05-19T13:00`, or with seconds `2021-09-24T09:30:00`, as precise as the value. */
  wall: string;
  /** `+02:15`, or null when the value carries none (the sender's wall-clock time). */
  offset: string | null;
  precision: 'year' | 'month' | 'day' | 'hour' | 'minute' | 'second';
}

const TS = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2}(?:\.\d{1,4})?)?([+-]\d{4})?$/;

/** Parses a TS; trailing blanks are trimmed (some feeds pad it). Undefined when it is not a TS. */
export function parseHl7Time(text: string): Hl7Time | undefined {
  const m = TS.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, off] = m;
  // Digits must come in order: a minute needs an hour, and so on.
  const offset = off ? `${off.slice(0, 3)}:${off.slice(3)}` : null;
  if (!mo) return { wall: `${y}`, offset, precision: 'year' };
  if (!d) return { wall: `${y}-${mo}`, offset, precision: 'month' };
  if (!h) return { wall: `${y}-${mo}-${d}`, offset, precision: 'day' };
  if (!mi) return { wall: `${y}-${mo}-${d}T${h}`, offset, precision: 'hour' };
  if (!s) return { wall: `${y}-${mo}-${d}T${h}:${mi}`, offset, precision: 'minute' };
  return { wall: `${y}-${mo}-${d}T${h}:${mi}:${s}`, offset, precision: 'second' };
}

/** At least minutes: a date or an hour alone is no appointment time. */
export function hasMinutes(t: Hl7Time): boolean {
  return t.precision === 'minute' || t.precision === 'second';
}

/** The ISO text the JSON contract takes: the wall time, with the offset if the value had one. */
export function isoOf(t: Hl7Time): string {
  return t.offset ? `${t.wall}${t.offset}` : t.wall;
}
