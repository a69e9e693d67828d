import { createHash } from 'node:crypto';
import { z } from 'zod';
import { normalisePhone, type CountryCode } from './phone';
import { hasVisibleCharacter, textProblem } from './text';
import { parseAppointmentZone, parseInstant, resolveAppointmentTime, toUtcIso } from './time';
import { EHR_EVENT_TYPES, EVENT_TYPES, type PATIENT_EVENT_TYPES, type SYSTEM_EVENT_TYPES } from './event-types';

export {
  EHR_EVENT_TYPES,
  EVENT_TYPES,
  FLOW_EVENT_TYPES,
  PATIENT_EVENT_TYPES,
  PATIENT_REQUEST_TYPES,
  SYSTEM_EVENT_TYPES,
} from './event-types';

export type EhrEventType = (typeof EHR_EVENT_TYPES)[number];
export type PatientEventType = (typeof PATIENT_EVENT_TYPES)[number];
export type SystemEventType = (typeof SYSTEM_EVENT_TYPES)[number];
export type EventType = (typeof EVENT_TYPES)[number];

export function isEhrEventType(t: string): t is EhrEventType {
  return (EHR_EVENT_TYPES as readonly string[]).includes(t);
}

const MAX_ID_BYTES = 128;

// Every string field follows the same character rules (src/domain/text.ts): well-formed, no
// controls, no invisible or direction characters outside the places a script needs them.
function text(max: number) {
  return z
    .string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string') })
    .max(max, { error: `must be at most ${max} characters` })
    .superRefine((v, ctx) => {
      const problem = textProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
      else if (v.trim() !== '' && !hasVisibleCharacter(v))
        ctx.addIssue({ code: 'custom', message: 'must contain a visible character (it is only spaces or invisible characters)' });
    });
}

function requiredText(max: number) {
  return text(max).refine((v) => v.trim() !== '', { error: 'must not be empty' });
}

function optionalText(max: number) {
  return text(max).optional();
}

const id = requiredText(MAX_ID_BYTES).refine((v) => Buffer.byteLength(v, 'utf8') <= MAX_ID_BYTES, {
  error: `must be at most ${MAX_ID_BYTES} bytes of UTF-8`,
});

/** The reference app's EHR integration contract, as received. Unknown fields are ignored. */
export const EhrEventInput = z.object({
  event_type: z.enum(EHR_EVENT_TYPES, {
    error: (i) => (i.input === undefined ? 'is required' : `must be one of ${EHR_EVENT_TYPES.join(', ')}`),
  }),
  event_datetime_utc: requiredText(64),
  patient_id: id,
  patient_first_name: requiredText(100),
  patient_last_name: optionalText(100),
  patient_phone: requiredText(40),
  /** BCP 47 tag (`es`, `es-MX`, `en-US`): the language the patient's texts are written in. */
  patient_language: optionalText(35),
  provider_id: id.optional(),
  provider_first_name: optionalText(100),
  provider_last_name: optionalText(100),
  provider_callback_phone: optionalText(40),
  appointment_location: optionalText(500),
  appointment_id: id,
  appointment_timezone: requiredText(64),
  appointment_datetime: requiredText(64),
});
export type EhrEventInput = z.infer<typeof EhrEventInput>;

/** The contract's field names, in the order above. */
export const EHR_EVENT_FIELDS = Object.keys(EhrEventInput.shape) as (keyof EhrEventInput)[];

/** An event after validation: phones in E.164, zone canonical, times resolved to UTC. */
export const AppointmentEvent = z.object({
  event_id: z.string(),
  event_type: z.enum(EVENT_TYPES),
  event_datetime_utc: z.string(),
  patient_id: z.string(),
  patient_first_name: z.string(),
  patient_last_name: z.string().optional(),
  patient_phone: z.string(),
  patient_language: z.string().optional(),
  provider_id: z.string().optional(),
  provider_first_name: z.string().optional(),
  provider_last_name: z.string().optional(),
  provider_callback_phone: z.string().optional(),
  appointment_location: z.string().optional(),
  appointment_id: z.string(),
  appointment_timezone: z.string(),
  appointment_datetime: z.string(),
  appointment_datetime_utc: z.string(),
  /** For REMIND: which reminder (1 or 2). For patient events: the inbound message sid. */
  detail: z.record(z.string(), z.string()).optional(),
});
export type AppointmentEvent = z.infer<typeof AppointmentEvent>;

export interface FieldProblem {
  /** Dotted path, e.g. `patient_phone` or `[3].appointment_timezone`. */
  field: string;
  message: string;
}

export interface ParseOptions {
  defaultCountry: CountryCode;
  /**
   * The latest `event_datetime_utc` accepted (ISO, UTC): the server clock plus the allowed skew.
   * An event from the future would outrank every real event after it, so it is refused.
   */
  latestEventTime?: string;
  /**
   * The latest appointment time accepted (ISO, UTC): the server clock plus the booking horizon.
   * Beyond it a date is a typing or conversion error (2062 for 2026), not a booking.
   */
  latestAppointmentTime?: string;
}

/** How far ahead of the clock an event's time may be, and an appointment's, unless configured. */
export const DEFAULT_EVENT_MAX_FUTURE_HOURS = 24;
export const DEFAULT_APPOINTMENT_MAX_FUTURE_DAYS = 730;

/** The parse options every intake uses at `nowMs`: the configured limits turned into instants. */
export function parseOptionsAt(
  nowMs: number,
  limits: { defaultCountry: CountryCode; maxFutureHours?: number; maxAppointmentDays?: number },
): ParseOptions {
  return {
    defaultCountry: limits.defaultCountry,
    latestEventTime: new Date(nowMs + (limits.maxFutureHours ?? DEFAULT_EVENT_MAX_FUTURE_HOURS) * 3_600_000).toISOString(),
    latestAppointmentTime: new Date(nowMs + (limits.maxAppointmentDays ?? DEFAULT_APPOINTMENT_MAX_FUTURE_DAYS) * 86_400_000).toISOString(),
  };
}

/** Validates one EHR event and normalises it. Every problem is reported, not just the first. */
export function parseEhrEvent(
  raw: unknown,
  options: ParseOptions,
): { ok: true; event: AppointmentEvent } | { ok: false; problems: FieldProblem[] } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, problems: [{ field: '', message: 'each event must be a JSON object' }] };
  }
  const parsed = EhrEventInput.safeParse(raw);
  const problems: FieldProblem[] = parsed.success ? [] : parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message }));
  const bad = new Set(problems.map((p) => p.field));
  const input = raw as Record<string, unknown>;
  const str = (k: string): string | undefined => (!bad.has(k) && typeof input[k] === 'string' ? input[k] : undefined);

  const phone = str('patient_phone');
  const e164 = phone === undefined ? undefined : normalisePhone(phone, options.defaultCountry);
  if (e164 && !e164.ok) problems.push({ field: 'patient_phone', message: e164.reason });

  const callback = str('provider_callback_phone');
  const callbackE164 = callback === undefined || callback.trim() === '' ? undefined : normalisePhone(callback, options.defaultCountry);
  if (callbackE164 && !callbackE164.ok) problems.push({ field: 'provider_callback_phone', message: callbackE164.reason });

  const languageText = str('patient_language');
  const language = languageText === undefined || languageText.trim() === '' ? undefined : parseLanguageTag(languageText);
  if (language && !language.ok) problems.push({ field: 'patient_language', message: language.reason });

  const eventTime = str('event_datetime_utc');
  const eventInstant = eventTime === undefined ? undefined : parseInstant(eventTime);
  if (eventInstant && !eventInstant.ok) problems.push({ field: 'event_datetime_utc', message: eventInstant.reason });
  if (eventInstant?.ok && options.latestEventTime && toUtcIso(eventInstant.value) > options.latestEventTime) {
    problems.push({
      field: 'event_datetime_utc',
      message: `is too far ahead of the server clock (latest accepted ${options.latestEventTime}); check the sending system's clock`,
    });
  }

  const zoneText = str('appointment_timezone');
  const zone = zoneText === undefined ? undefined : parseAppointmentZone(zoneText);
  if (zone && !zone.ok) problems.push({ field: 'appointment_timezone', message: zone.reason });

  const when = str('appointment_datetime');
  let appointmentUtc: string | undefined;
  if (when !== undefined && zone?.ok) {
    const resolved = resolveAppointmentTime(when, zone.value);
    if (!resolved.ok) problems.push({ field: 'appointment_datetime', message: resolved.reason });
    else if (options.latestAppointmentTime && toUtcIso(resolved.value) > options.latestAppointmentTime) {
      problems.push({
        field: 'appointment_datetime',
        message: `is too far ahead (latest accepted ${options.latestAppointmentTime}, EHR_APPOINTMENT_MAX_FUTURE_DAYS)`,
      });
    } else appointmentUtc = toUtcIso(resolved.value);
  }

  if (problems.length > 0 || !parsed.success || !e164?.ok || !eventInstant?.ok || !zone?.ok || !appointmentUtc) {
    return { ok: false, problems: dedupe(problems) };
  }
  const v = parsed.data;
  const body: Omit<AppointmentEvent, 'event_id'> = {
    event_type: v.event_type,
    event_datetime_utc: toUtcIso(eventInstant.value),
    patient_id: v.patient_id,
    patient_first_name: v.patient_first_name,
    patient_last_name: v.patient_last_name,
    patient_phone: e164.value,
    patient_language: language?.ok ? language.value : undefined,
    provider_id: v.provider_id,
    provider_first_name: v.provider_first_name,
    provider_last_name: v.provider_last_name,
    provider_callback_phone: callbackE164?.ok ? callbackE164.value : undefined,
    appointment_location: v.appointment_location,
    appointment_id: v.appointment_id,
    appointment_timezone: zone.value.name,
    appointment_datetime: v.appointment_datetime,
    appointment_datetime_utc: appointmentUtc,
  };
  return { ok: true, event: withEventId(stripUndefined(body)) };
}

/** A BCP 47 language tag in its canonical form (`ES-mx` → `es-MX`), or why it is not one. */
export function parseLanguageTag(input: string): { ok: true; value: string } | { ok: false; reason: string } {
  try {
    const [canonical] = Intl.getCanonicalLocales(input.trim());
    if (canonical) return { ok: true, value: canonical };
  } catch {
    // RangeError: not a well-formed tag.
  }
  return { ok: false, reason: `"${input}" is not a BCP 47 language tag (for example es, es-MX, en-US)` };
}

/** ISO 639-2 codes an EHR's language field often carries (HL7 table 0296 in practice), as BCP 47. */
const THREE_LETTER: Record<string, string> = {
  eng: 'en',
  spa: 'es',
  fre: 'fr',
  fra: 'fr',
  ger: 'de',
  deu: 'de',
  por: 'pt',
  chi: 'zh',
  zho: 'zh',
  vie: 'vi',
  kor: 'ko',
  rus: 'ru',
  ara: 'ar',
  tgl: 'tl',
};

/**
 * The `patient_language` an HL7 PID-15 or a FHIR Patient.communication code gives, or undefined
 * when it is no language tag we can use: a feed's odd code must not block a booking, the patient
 * then gets the default language.
 */
export function languageFromCode(code: string | undefined): string | undefined {
  const raw = code?.trim();
  if (!raw) return undefined;
  const mapped = THREE_LETTER[raw.toLowerCase()] ?? (raw.toLowerCase() === 'sp' ? 'es' : raw);
  const tag = parseLanguageTag(mapped);
  return tag.ok && tag.value.length <= 35 ? tag.value : undefined;
}

function dedupe(problems: FieldProblem[]): FieldProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.field}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/**
 * The event id is a digest of the normalised content, so the same event delivered twice (by a
 * retrying integration engine) has the same id and is recognised as a duplicate.
 */
export function withEventId(body: Omit<AppointmentEvent, 'event_id'>): AppointmentEvent {
  const canonical = JSON.stringify(
    Object.keys(body)
      .sort()
      .map((k) => [k, (body as Record<string, unknown>)[k]]),
  );
  const event_id = createHash('sha256').update(canonical).digest('hex').slice(0, 32);
  return { event_id, ...body };
}
