import { DateTime, FixedOffsetZone, IANAZone, type Zone } from 'luxon';

/** A result that is either a value or a human-readable reason. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const LEGACY_OFFSET = /^([+-])(\d{2}):?(\d{2})$/;
// Abbreviations such as EST or PST name no rule for daylight saving and several mean different
// offsets in different countries, so they are refused even where tzdb happens to know them.
const ABBREVIATION = /^[A-Za-z]{2,5}$/;

export interface AppointmentZone {
  /** Canonical spelling: an IANA name (`America/New_York`) or a fixed offset (`+05:30`). */
  name: string;
  kind: 'iana' | 'fixed-offset';
  zone: Zone;
}

/**
 * Accepts an IANA zone (preferred: DST-correct) or the reference app's fixed `±HHMM` offset.
 */
export function parseAppointmentZone(input: string): Parsed<AppointmentZone> {
  // Resolving a zone builds Intl formatters, which is costly; the set of zones in use is small.
  const cached = zoneCache.get(input);
  if (cached) return cached;
  const parsed = resolveZone(input);
  if (zoneCache.size >= 1000) zoneCache.clear();
  zoneCache.set(input, parsed);
  return parsed;
}

const zoneCache = new Map<string, Parsed<AppointmentZone>>();

function resolveZone(input: string): Parsed<AppointmentZone> {
  const text = input.trim();
  if (text === '') return { ok: false, reason: 'is empty; use an IANA zone such as America/New_York' };
  const legacy = LEGACY_OFFSET.exec(text);
  if (legacy) {
    const [, sign, hh, mm] = legacy as unknown as [string, string, string, string];
    const minutes = Number(hh) * 60 + Number(mm);
    if (Number(mm) >= 60 || minutes > 14 * 60) {
      return { ok: false, reason: `offset ${text} is out of range (-1400..+1400)` };
    }
    const signed = sign === '-' ? -minutes : minutes;
    return {
      ok: true,
      value: { name: `${sign}${hh}:${mm}`, kind: 'fixed-offset', zone: FixedOffsetZone.instance(signed) },
    };
  }
  if (/^(UTC|GMT|Z)$/i.test(text)) {
    return { ok: true, value: { name: 'UTC', kind: 'iana', zone: IANAZone.create('UTC') } };
  }
  if (ABBREVIATION.test(text)) {
    return {
      ok: false,
      reason: `"${text}" is an ambiguous abbreviation; use an IANA zone such as America/New_York or an offset such as -0500`,
    };
  }
  if (!IANAZone.isValidZone(text)) {
    return { ok: false, reason: `"${text}" is not a known IANA time zone (for example America/Chicago)` };
  }
  const canonical = new Intl.DateTimeFormat('en-US', { timeZone: text }).resolvedOptions().timeZone;
  return { ok: true, value: { name: canonical, kind: 'iana', zone: IANAZone.create(canonical) } };
}

const ISO_LOCAL = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/;
const ISO_WITH_OFFSET = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)$/i;

/** Years outside this range are typing or conversion errors (0000, 20260), never real appointments. */
export const MIN_YEAR = 1900;
export const MAX_YEAR = 2199;
/** Real UTC offsets run from -12:00 to +14:00 (ISO 8601 allows ±HH:MM, but not minutes ≥ 60). */
const MAX_OFFSET_MINUTES = 14 * 60;

/** Why the year or the UTC offset written in an ISO 8601 text is impossible, or undefined. */
function dateTextProblem(text: string): string | undefined {
  const year = Number(text.slice(0, 4));
  if (year < MIN_YEAR || year > MAX_YEAR) return `year ${text.slice(0, 4)} is outside ${MIN_YEAR}–${MAX_YEAR}`;
  const offset = /([+-])(\d{2}):?(\d{2})?$/.exec(text);
  if (!offset || /z$/i.test(text)) return undefined;
  const hours = Number(offset[2]);
  const minutes = Number(offset[3] ?? 0);
  if (minutes >= 60 || hours * 60 + minutes > MAX_OFFSET_MINUTES) {
    return `offset ${offset[0]} is not a real UTC offset (hours up to 14, minutes below 60)`;
  }
  return undefined;
}

/**
 * Resolves an appointment time to an instant. With an offset (or Z) the instant is exact; without
 * one it is a wall-clock time in `zone`, and a time that a DST change skips or repeats is refused
 * rather than guessed.
 */
export function resolveAppointmentTime(input: string, zone: AppointmentZone): Parsed<DateTime> {
  const text = input.trim();
  if (ISO_WITH_OFFSET.test(text)) {
    const impossible = dateTextProblem(text);
    if (impossible) return { ok: false, reason: impossible };
    const dt = DateTime.fromISO(text.replace(' ', 'T'), { setZone: true });
    if (!dt.isValid) return { ok: false, reason: `"${text}" is not a real date and time (${dt.invalidExplanation ?? dt.invalidReason})` };
    return { ok: true, value: dt.toUTC() };
  }
  const m = ISO_LOCAL.exec(text);
  if (!m) {
    return {
      ok: false,
      reason: `"${text}" is not ISO 8601; send YYYY-MM-DDTHH:MM[:SS] with an optional offset such as -05:00 or Z`,
    };
  }
  const impossible = dateTextProblem(text);
  if (impossible) return { ok: false, reason: impossible };
  const parts = {
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: Number(m[4]),
    minute: Number(m[5]),
    second: Number(m[6] ?? 0),
    millisecond: Number((m[7] ?? '0').padEnd(3, '0').slice(0, 3)),
  };
  const asUtc = DateTime.fromObject(parts, { zone: 'UTC' });
  if (!asUtc.isValid) {
    return { ok: false, reason: `"${text}" is not a real date and time (${asUtc.invalidExplanation ?? asUtc.invalidReason})` };
  }
  const wall = asUtc.toMillis();
  // A wall time maps to instants wall - offset for every offset the zone uses around then; the
  // candidates that round-trip are the real ones (0 in a spring-forward gap, 2 in a fall-back overlap).
  const offsets = new Set<number>();
  for (const probe of [-36, -12, 0, 12, 36]) {
    offsets.add(zone.zone.offset(wall + probe * 3_600_000));
  }
  const instants = new Set<number>();
  for (const offset of offsets) {
    const candidate = wall - offset * 60_000;
    if (zone.zone.offset(candidate) === offset) instants.add(candidate);
  }
  if (instants.size === 0) {
    return {
      ok: false,
      reason: `"${text}" does not exist in ${zone.name}: the clocks skip it for daylight saving time`,
    };
  }
  if (instants.size > 1) {
    return {
      ok: false,
      reason: `"${text}" is ambiguous in ${zone.name}: it happens twice when daylight saving time ends; add an offset such as ${describeOffsets([...offsets])}`,
    };
  }
  const [only] = [...instants] as [number];
  return { ok: true, value: DateTime.fromMillis(only, { zone: 'UTC' }) };
}

function describeOffsets(offsets: number[]): string {
  return offsets
    .map((o) => {
      const sign = o < 0 ? '-' : '+';
      const abs = Math.abs(o);
      return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
    })
    .join(' or ');
}

/** Parses an instant that must carry an explicit offset (event_datetime_utc). */
export function parseInstant(input: string): Parsed<DateTime> {
  const text = input.trim();
  if (!ISO_WITH_OFFSET.test(text)) {
    return { ok: false, reason: `"${text}" must be ISO 8601 with Z or an offset, e.g. 2026-11-25T14:05:00Z` };
  }
  const impossible = dateTextProblem(text);
  if (impossible) return { ok: false, reason: impossible };
  const dt = DateTime.fromISO(text.replace(' ', 'T'), { setZone: true });
  if (!dt.isValid) return { ok: false, reason: `"${text}" is not a real date and time` };
  return { ok: true, value: dt.toUTC() };
}

/** Milliseconds-precision UTC ISO text, the one format we store. */
export function toUtcIso(dt: DateTime): string {
  return dt.toUTC().toISO({ suppressMilliseconds: false }) ?? '';
}
