import { DateTime } from 'luxon';
import { languageFromCode, type EhrEventType } from '../event';
import { parseAppointmentZone, resolveAppointmentTime, type AppointmentZone } from '../time';
import type { AckCode, Hl7Issue } from './ack';
import { parseEr7, segmentsOf, type Er7Message } from './er7';
import { readSiu, type Hl7Position, type SiuFacts } from './siu';
import { decideSiu, type SiuDecision, type SiuPolicyOptions } from './siu-policy';
import { hasMinutes, isoOf, type Hl7Time } from './ts';

/**
 * From ER7 text to the flat JSON event of the contract (README "The EHR event contract"): the
 * HL7 intake then validates it with the same parseEhrEvent as POST /ehr/events. Pure.
 */

export interface SiuMappingOptions extends SiuPolicyOptions {
  /** EHR_DEFAULT_TIMEZONE: the zone of times sent without an offset. */
  defaultZone?: string;
  /** EHR_FACILITY_TIMEZONES: AIL-3 facility (PL.4) or MSH-4 sending facility → zone. */
  facilityZones?: Readonly<Record<string, string>>;
  now: Date;
}

export type SiuMapping =
  | {
      kind: 'event';
      message: Er7Message;
      facts: SiuFacts;
      eventType: EhrEventType;
      subtype?: 'deleted';
      /** The contract's fields, as strings, for parseEhrEvent. */
      input: Record<string, string>;
      /** Where each contract field came from, to name the HL7 field in a problem. */
      sources: Record<string, Hl7Position>;
      zone: string;
    }
  | { kind: 'ignore'; message: Er7Message; facts: SiuFacts; reason: string }
  | { kind: 'reject'; code: Exclude<AckCode, 'AA'>; message?: Er7Message; facts?: SiuFacts; issues: Hl7Issue[]; misconfigured?: boolean };

const MSH = (field: number, component?: number): Hl7Position => ({ segment: 'MSH', field, ...(component ? { component } : {}) });

/** Names and places as one line of text: `.br` in a name or an address is layout, not content. */
function clean(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export function mapSiuMessage(text: string, options: SiuMappingOptions): SiuMapping {
  const parsed = parseEr7(text);
  if (!parsed.ok) {
    return {
      kind: 'reject',
      code: 'AR',
      issues: parsed.problems.map((p) => ({
        code: 100,
        text: `${p.location} ${p.message}`,
        ...(p.location.startsWith('MSH') ? { at: MSH(p.location === 'MSH-2' ? 2 : 1) } : {}),
      })),
    };
  }
  const message = parsed.message;
  if (message.segments.some((s, i) => (i > 0 && s.id === 'MSH') || ['FHS', 'BHS', 'BTS', 'FTS'].includes(s.id))) {
    return {
      kind: 'reject',
      code: 'AR',
      message,
      issues: [{ code: 100, text: 'batches are not supported: send one message per request' }],
    };
  }
  const facts = readSiu(message);
  if (!/^2\.\d/.test(facts.version)) {
    return {
      kind: 'reject',
      code: 'AR',
      message,
      facts,
      issues: [{ at: MSH(12), code: 203, text: `MSH-12: version ${facts.version || '(empty)'} is not supported; send HL7 v2.x` }],
    };
  }

  const found = resolveZone(facts, options);
  const startInPast = facts.start && found?.ok ? instantOf(facts.start.value, found.zone)?.getTime() : undefined;
  const decision: SiuDecision = decideSiu(
    {
      messageType: facts.messageType,
      trigger: facts.trigger,
      status: facts.status,
      startInPast: startInPast === undefined ? undefined : startInPast < options.now.getTime(),
      resourceActions: facts.resourceActions,
    },
    options,
  );
  if (decision.kind === 'reject')
    return { kind: 'reject', code: 'AR', message, facts, issues: [{ at: MSH(9), code: decision.error, text: decision.reason }] };
  if (decision.kind === 'ignore') return { kind: 'ignore', message, facts, reason: decision.reason };

  const issues: Hl7Issue[] = [];
  const need = (ok: unknown, issue: Hl7Issue) => {
    if (!ok) issues.push(issue);
  };
  need(segmentsOf(message, 'SCH').length > 0, { code: 100, at: { segment: 'SCH', field: 1 }, text: 'SCH: the message has no SCH segment' });
  need(facts.patientCount > 0, {
    code: 100,
    at: { segment: 'PID', field: 1 },
    text: 'PID: the message has no PID segment (no patient to text)',
  });
  need(facts.patientCount <= 1, {
    code: 100,
    at: { segment: 'PID', field: 1 },
    text: 'PID: one patient per appointment message is supported',
  });
  need(facts.appointmentId, { code: 101, at: { segment: 'SCH', field: 2 }, text: 'SCH-2/SCH-1: no filler or placer appointment id' });
  if (facts.badStart)
    issues.push({ code: 102, at: facts.badStart, text: `${label(facts.badStart)}: is not an HL7 date and time (YYYYMMDDHHMM[SS][+ZZZZ])` });
  else
    need(facts.start, {
      code: 101,
      at: { segment: 'TQ1', field: 7 },
      text: 'TQ1-7/SCH-11.4: no appointment start time (TQ1-7, SCH-11.4 or a resource start)',
    });
  if (facts.start && !hasMinutes(facts.start.value))
    issues.push({ code: 102, at: facts.start.at, text: `${label(facts.start.at)}: the start time needs at least hours and minutes` });
  need(facts.eventTime, { code: 101, at: MSH(7), text: 'MSH-7: no message date and time' });
  need(facts.patientId, {
    code: 101,
    at: { segment: 'PID', field: 3 },
    text: 'PID-3: no patient identifier (a social security number is not used as one)',
  });
  need(facts.patientGiven, { code: 101, at: { segment: 'PID', field: 5, component: 2 }, text: 'PID-5.2: no given name in any repetition' });
  if (issues.length > 0) return { kind: 'reject', code: 'AE', message, facts, issues };

  if (!facts.phone) return { kind: 'ignore', message, facts, reason: 'PID-13/PID-14/PID-40: no phone number to text' };
  if (!found?.ok) {
    return {
      kind: 'reject',
      code: 'AR',
      message,
      facts,
      misconfigured: true,
      issues: [
        {
          code: 207,
          text: found
            ? `${found.variable}: ${found.reason}`
            : 'EHR_DEFAULT_TIMEZONE is not set: times without an offset cannot be placed; the receiver must be configured',
        },
      ],
    };
  }

  const start = facts.start as NonNullable<SiuFacts['start']>;
  const eventTime = facts.eventTime as NonNullable<SiuFacts['eventTime']>;
  const eventInstant = instantOf(eventTime.value, found.zone);
  if (!eventInstant)
    return {
      kind: 'reject',
      code: 'AE',
      message,
      facts,
      issues: [{ code: 102, at: eventTime.at, text: `${label(eventTime.at)}: is not a real date and time` }],
    };

  const input: Record<string, string> = {
    event_type: decision.eventType,
    event_datetime_utc: eventInstant.toISOString(),
    patient_id: facts.patientId?.value ?? '',
    patient_first_name: clean(facts.patientGiven?.value ?? ''),
    patient_phone: facts.phone.number,
    appointment_id: facts.appointmentId?.value ?? '',
    appointment_timezone: found.zone.name,
    appointment_datetime: appointmentText(start.value, found.zone),
  };
  const sources: Record<string, Hl7Position> = {
    event_type: MSH(9, 2),
    event_datetime_utc: eventTime.at,
    patient_id: facts.patientId?.at ?? { segment: 'PID', field: 3 },
    patient_first_name: { segment: 'PID', field: 5, component: 2 },
    patient_last_name: { segment: 'PID', field: 5, component: 1 },
    patient_phone: facts.phone.at,
    appointment_id: facts.appointmentId?.at ?? { segment: 'SCH', field: 2 },
    appointment_timezone: MSH(4),
    appointment_datetime: start.at,
  };
  if (facts.patientFamily) input.patient_last_name = clean(facts.patientFamily.value);
  const language = languageFromCode(facts.language);
  if (language) input.patient_language = language;
  const provider = facts.provider;
  if (provider) {
    if (provider.value.id) input.provider_id = provider.value.id;
    if (provider.value.given) input.provider_first_name = clean(provider.value.given);
    if (provider.value.family) input.provider_last_name = clean(provider.value.family);
    sources.provider_id = provider.at;
    sources.provider_first_name = { ...provider.at, component: 3 };
    sources.provider_last_name = { ...provider.at, component: 2 };
  }
  if (facts.location) {
    input.appointment_location = clean(facts.location.value.display);
    sources.appointment_location = facts.location.at;
  }
  return {
    kind: 'event',
    message,
    facts,
    eventType: decision.eventType,
    ...(decision.subtype ? { subtype: decision.subtype } : {}),
    input,
    sources,
    zone: found.zone.name,
  };
}

function label(p: Hl7Position): string {
  return `${p.segment}-${p.field}${p.component ? `.${p.component}` : ''}`;
}

type ZoneFound = { ok: true; zone: AppointmentZone } | { ok: false; variable: string; reason: string };

/**
 * The zone of wall-clock times: the appointment's facility (AIL-3 PL.4), else the sending
 * facility (MSH-4.1), else the default. MSH-7's offset is never taken as the zone: a fixed offset
 * is wrong across a DST change between the message and the appointment.
 */
export function resolveZone(
  facts: Pick<SiuFacts, 'locationFacility' | 'sendingFacility'>,
  options: Pick<SiuMappingOptions, 'defaultZone' | 'facilityZones'>,
): ZoneFound | undefined {
  const map = options.facilityZones ?? {};
  for (const key of [facts.locationFacility, facts.sendingFacility]) {
    const name = key ? map[key] : undefined;
    if (name) {
      const z = parseAppointmentZone(name);
      return z.ok ? { ok: true, zone: z.value } : { ok: false, variable: 'EHR_FACILITY_TIMEZONES', reason: z.reason };
    }
  }
  if (!options.defaultZone) return undefined;
  const z = parseAppointmentZone(options.defaultZone);
  return z.ok ? { ok: true, zone: z.value } : { ok: false, variable: 'EHR_DEFAULT_TIMEZONE', reason: z.reason };
}

/** An HL7 time as an instant: its own offset if it has one, else wall-clock time in `zone`. */
function instantOf(t: Hl7Time, zone: AppointmentZone): Date | undefined {
  const dt = t.offset ? DateTime.fromISO(isoOf(t), { setZone: true }) : DateTime.fromISO(t.wall, { zone: zone.zone });
  return dt.isValid ? dt.toJSDate() : undefined;
}

/**
 * The contract's `appointment_datetime`. A wall time repeated when DST ends cannot be made exact
 * by the sender (HL7 feeds carry no offset), so the earlier instant is taken and written with its
 * offset; a skipped wall time is left for the contract to refuse.
 */
function appointmentText(t: Hl7Time, zone: AppointmentZone): string {
  const iso = isoOf(t);
  if (t.offset) return iso;
  const resolved = resolveAppointmentTime(iso, zone);
  if (resolved.ok || !/ambiguous/.test(resolved.reason)) return iso;
  const wall = DateTime.fromISO(t.wall, { zone: 'UTC' }).toMillis();
  const offsets = [-6, -3, 3, 6].map((h) => zone.zone.offset(wall + h * 3_600_000));
  const valid = offsets.filter((o) => zone.zone.offset(wall - o * 60_000) === o);
  const earliest = Math.max(...valid);
  const sign = earliest < 0 ? '-' : '+';
  const abs = Math.abs(earliest);
  return `${iso}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
