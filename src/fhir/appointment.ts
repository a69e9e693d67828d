import { languageFromCode, type EhrEventInput } from '../domain/event';
import { referenceType, type AppointmentItem, type Located } from './bundle';
import { FHIR_STATUSES_OF } from './event-type';
import {
  AppointmentResource,
  LocationResource,
  PatientResource,
  PractitionerResource,
  schemaIssues,
  type AppointmentStatus,
  type ContactPointInput,
  type HumanName,
  type Issue,
  type ParticipantStatus,
  type Reference,
} from './resources';

/** The contract fields a FHIR Appointment gives, before the event type and time are decided. */
export type MappedFields = Omit<EhrEventInput, 'event_type' | 'event_datetime_utc'>;

/** Which contract field came from where, so a contract problem names the FHIR element. */
export type FieldSources = Partial<Record<keyof EhrEventInput, string>>;

export interface MappedAppointment {
  fields: MappedFields;
  sources: FieldSources;
  status: AppointmentStatus;
  /** The Patient participant's own status: `accepted` after needs-action is a confirmation. */
  patientStatus: ParticipantStatus;
  /** `meta.versionId`, else `meta.lastUpdated`, else empty: part of the event id. */
  version: string;
  /** `start` as a UTC instant, for comparing with the stored appointment. */
  startUtc?: string;
  /** When the change happened: `meta.lastUpdated`, else the envelope's time; undefined = receipt time. */
  eventTime?: { value: string; path: string };
  /** The patient's preferred language (BCP-47) from Patient.communication; the contract has no field for it yet. */
  language?: string;
  patientInstruction?: string;
}

export interface MapContext {
  /** Looks a reference up in the request and in what was fetched for it. */
  resolve(reference: string): Located | undefined;
  /** The current instant (ISO): contact points whose period has ended are not used. */
  now: string;
  /** Added to the diagnostics of a reference that could not be resolved (what to send or configure). */
  unresolvedHint?: string;
}

/** Statuses whose events the product records (those that can say some event type); others are read but answered as ignored. */
export const RECORDED_STATUSES: readonly AppointmentStatus[] = [...new Set(Object.values(FHIR_STATUSES_OF).flat())];

const TIMEZONE_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/timezone';
/** A FHIR instant: seconds required, then Z or an offset (R4 §2.24 "instant"). */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const OFFSET = /(Z|[+-]\d{2}:\d{2})$/;

function issue(code: Issue['code'], expression: string, diagnostics: string): Issue {
  return { severity: 'error', code, expression: [expression], diagnostics };
}

/** A resource a participant's actor refers to, found in the request, `contained`, or fetched. */
interface Actor {
  index: number;
  ref: Reference;
  type?: string;
  located?: Located;
  path: string;
}

/**
 * Maps one Appointment (with the Patient, Practitioner and Location it refers to) onto the event
 * contract's fields, or says what is wrong, element by element. Pure.
 */
export function mapAppointment(
  item: AppointmentItem,
  ctx: MapContext,
): { ok: true; mapped: MappedAppointment } | { ok: false; issues: Issue[] } {
  const base = item.located.path;
  const parsed = AppointmentResource.safeParse(item.located.resource);
  if (!parsed.success) return { ok: false, issues: schemaIssues(parsed.error, base) };
  const appt = parsed.data;
  const issues: Issue[] = [];
  const sources: FieldSources = {};
  const recorded = RECORDED_STATUSES.includes(appt.status);

  let startUtc: string | undefined;
  if (appt.start === undefined) {
    if (recorded)
      issues.push(issue('required', `${base}.start`, `${base}.start is required for a ${appt.status} appointment (the text says when)`));
  } else if (!INSTANT.test(appt.start) || !Number.isFinite(Date.parse(appt.start))) {
    issues.push(
      issue(
        'value',
        `${base}.start`,
        `${base}.start must be a FHIR instant with seconds and a UTC offset or Z (e.g. 2026-12-01T09:30:00-08:00); a time without an offset is not guessed`,
      ),
    );
  } else {
    startUtc = new Date(appt.start).toISOString();
    sources.appointment_datetime = `${base}.start`;
  }

  const actors: Actor[] = appt.participant.map((p, index) => {
    const path = `${base}.participant[${index}].actor`;
    const ref = p.actor ?? {};
    const located = ref.reference ? lookUp(ref.reference, appt.contained, base, ctx) : undefined;
    const type = (located?.resource.resourceType as string | undefined) ?? referenceType(ref);
    const declared = referenceType(ref);
    if (located && declared && declared !== located.resource.resourceType) {
      issues.push(
        issue(
          'invalid',
          `${located.path}.resourceType`,
          `${path}.reference names a ${declared}, but the resource it resolves to is a ${String(located.resource.resourceType)}`,
        ),
      );
    }
    return { index, ref, path, ...(type ? { type } : {}), ...(located ? { located } : {}) };
  });

  const patient = actors.find((a) => a.type === 'Patient');
  const patientParticipant = patient ? appt.participant[patient.index] : undefined;
  let fields: Partial<MappedFields> = {};
  let language: string | undefined;
  if (!patient) {
    issues.push(
      issue(
        'required',
        `${base}.participant`,
        `${base}.participant has no actor referring to a Patient; the patient's phone comes from the Patient resource`,
      ),
    );
  } else if (!patient.located) {
    const what = patient.ref.reference ? 'is not in the request (by fullUrl, Type/id or #contained)' : 'has no reference, only a display';
    issues.push(
      issue('not-found', `${patient.path}`, `${patient.path}: the Patient ${what}${ctx.unresolvedHint ? `; ${ctx.unresolvedHint}` : ''}`),
    );
  } else {
    const read = readPatient(patient, ctx.now, sources);
    issues.push(...read.issues);
    fields = { ...fields, ...read.fields };
    language = read.language;
  }

  const provider = pickProvider(actors, appt.participant);
  if (provider) fields = { ...fields, ...readProvider(provider, sources, issues) };

  const place = pickLocation(actors, appt.participant);
  let zone: string | undefined;
  if (place) {
    const read = readLocation(place, sources, issues);
    if (read.location) fields.appointment_location = read.location;
    zone = read.zone;
  }
  if (zone) sources.appointment_timezone = `${place?.located?.path}.extension`;
  else if (appt.start && OFFSET.test(appt.start)) {
    // Without a zone the start's own offset is the zone: exact for this instant, though not across DST.
    const offset = OFFSET.exec(appt.start)?.[1] ?? 'Z';
    zone = offset === 'Z' ? 'UTC' : offset.replace(':', '');
    sources.appointment_timezone = `${base}.start`;
  }

  const id = appointmentId(appt, item, base);
  if ('issue' in id) issues.push(id.issue);
  else sources.appointment_id = id.path;

  if (issues.length > 0) return { ok: false, issues };
  const lastUpdated = appt.meta?.lastUpdated;
  const mapped: MappedAppointment = {
    fields: {
      ...(fields as MappedFields),
      appointment_id: 'value' in id ? id.value : '',
      appointment_datetime: appt.start ?? '',
      appointment_timezone: zone ?? 'UTC',
      ...(languageFromCode(language) ? { patient_language: languageFromCode(language) } : {}),
    },
    sources,
    status: appt.status,
    patientStatus: patientParticipant?.status ?? 'needs-action',
    version: appt.meta?.versionId ?? lastUpdated ?? '',
    ...(startUtc ? { startUtc } : {}),
    ...(lastUpdated
      ? { eventTime: { value: lastUpdated, path: `${base}.meta.lastUpdated` } }
      : item.eventTime
        ? { eventTime: item.eventTime }
        : {}),
    ...(language ? { language } : {}),
    ...(appt.patientInstruction ? { patientInstruction: appt.patientInstruction } : {}),
  };
  return { ok: true, mapped };
}

function lookUp(reference: string, contained: unknown[] | undefined, base: string, ctx: MapContext): Located | undefined {
  if (reference.startsWith('#')) {
    const i = (contained ?? []).findIndex((r) => typeof r === 'object' && r !== null && (r as { id?: unknown }).id === reference.slice(1));
    return i < 0
      ? undefined
      : { resource: (contained as Record<string, unknown>[])[i] as Record<string, unknown>, path: `${base}.contained[${i}]` };
  }
  return ctx.resolve(reference);
}

/** The identifier a notification named it by, else the logical id. */
function appointmentId(appt: AppointmentResource, item: AppointmentItem, base: string): { value: string; path: string } | { issue: Issue } {
  const named = item.focusIdentifier;
  if (named?.value) {
    const i = (appt.identifier ?? []).findIndex((x) => x.value === named.value && (!named.system || x.system === named.system));
    if (i >= 0) return { value: named.value, path: `${base}.identifier[${i}].value` };
  }
  if (appt.id) return { value: appt.id, path: `${base}.id` };
  return { issue: issue('required', `${base}.id`, `${base}.id is required: it identifies the appointment across updates`) };
}

const NAME_PREFERENCE = ['usual', 'official', undefined];

/** The name to greet the patient by: usual, then official, then any current name with a given name. */
export function pickName(names: readonly HumanName[], now: string): { name: HumanName; index: number } | undefined {
  const usable = names
    .map((name, index) => ({ name, index }))
    .filter(
      ({ name }) => name.use !== 'old' && name.use !== 'maiden' && !ended(name.period?.end, now) && (name.given?.[0] ?? '').trim() !== '',
    );
  for (const use of NAME_PREFERENCE) {
    const hit = usable.find(({ name }) => use === undefined || name.use === use);
    if (hit) return hit;
  }
  return undefined;
}

function ended(end: string | undefined, now: string): boolean {
  return end !== undefined && Number.isFinite(Date.parse(end)) && new Date(end).toISOString() < now;
}

/**
 * The number to text (R4 ContactPoint): `sms` first, then a `mobile` phone, then other phones;
 * never an `old` one or one whose period has ended; `rank` (1 = highest) orders each group. So a
 * home landline is used only when no mobile is known.
 */
export function pickPhone(telecom: readonly ContactPointInput[], now: string): { value: string; index: number } | undefined {
  const group = (c: ContactPointInput) => (c.system === 'sms' ? 0 : c.use === 'mobile' ? 1 : 2);
  return telecom
    .map((c, index) => ({ c, index }))
    .filter(
      ({ c }) =>
        (c.system === 'sms' || c.system === 'phone') && (c.value ?? '').trim() !== '' && c.use !== 'old' && !ended(c.period?.end, now),
    )
    .sort((a, b) => group(a.c) - group(b.c) || (a.c.rank ?? Infinity) - (b.c.rank ?? Infinity) || a.index - b.index)
    .map(({ c, index }) => ({ value: c.value as string, index }))[0];
}

function readPatient(
  actor: Actor,
  now: string,
  sources: FieldSources,
): { fields: Partial<MappedFields>; issues: Issue[]; language?: string } {
  const located = actor.located as Located;
  const parsed = PatientResource.safeParse(located.resource);
  if (!parsed.success) return { fields: {}, issues: schemaIssues(parsed.error, located.path) };
  const p = parsed.data;
  const issues: Issue[] = [];
  const fields: Partial<MappedFields> = { patient_id: `Patient/${p.id ?? relativeId(actor.ref.reference)}` };
  sources.patient_id = p.id ? `${located.path}.id` : `${actor.path}.reference`;

  const name = pickName(p.name ?? [], now);
  if (name) {
    fields.patient_first_name = name.name.given?.[0] ?? '';
    sources.patient_first_name = `${located.path}.name[${name.index}].given[0]`;
    if (name.name.family) {
      fields.patient_last_name = name.name.family;
      sources.patient_last_name = `${located.path}.name[${name.index}].family`;
    }
  } else if (actor.ref.display?.trim()) {
    fields.patient_first_name = actor.ref.display.trim().split(/\s+/)[0] ?? '';
    sources.patient_first_name = `${actor.path}.display`;
  } else {
    issues.push(
      issue('required', `${located.path}.name`, `${located.path}.name has no current name with a given name to greet the patient by`),
    );
  }

  const phone = pickPhone(p.telecom ?? [], now);
  if (phone) {
    fields.patient_phone = phone.value;
    sources.patient_phone = `${located.path}.telecom[${phone.index}].value`;
  } else {
    issues.push(issue('required', `${located.path}.telecom`, `${located.path}.telecom has no current phone or sms number to text`));
  }

  const comms = p.communication ?? [];
  const chosen = comms.find((c) => c.preferred) ?? comms[0];
  const language = chosen?.language.coding?.find((c) => c.system === 'urn:ietf:bcp:47')?.code ?? chosen?.language.coding?.[0]?.code;
  return { fields, issues, ...(language ? { language } : {}) };
}

function relativeId(reference: string | undefined): string {
  return reference?.split('/').at(-1) ?? '';
}

const PROVIDER_ROLES = ['ATND', 'PPRF', 'PART'];

/** The provider: a Practitioner participant, the attender or primary performer first (v3 ParticipationType). */
function pickProvider(actors: Actor[], participants: AppointmentResource['participant']): Actor | undefined {
  const practitioners = actors.filter((a) => a.type === 'Practitioner' && participants[a.index]?.status !== 'declined');
  const role = (a: Actor) => {
    const codes = (participants[a.index]?.type ?? []).flatMap((t) => (t.coding ?? []).map((c) => c.code));
    const i = PROVIDER_ROLES.findIndex((r) => codes.includes(r));
    return i < 0 ? PROVIDER_ROLES.length : i;
  };
  return [...practitioners].sort((a, b) => role(a) - role(b) || a.index - b.index)[0];
}

function readProvider(actor: Actor, sources: FieldSources, issues: Issue[]): Partial<MappedFields> {
  const fields: Partial<MappedFields> = {};
  const id: unknown = actor.located?.resource.id ?? relativeId(actor.ref.reference);
  if (id) {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a located resource is unchecked JSON: a number id prints as itself
    fields.provider_id = `Practitioner/${String(id)}`;
    sources.provider_id = actor.located ? `${actor.located.path}.id` : `${actor.path}.reference`;
  }
  if (actor.located) {
    const parsed = PractitionerResource.safeParse(actor.located.resource);
    if (!parsed.success) {
      issues.push(...schemaIssues(parsed.error, actor.located.path));
      return fields;
    }
    const names = parsed.data.name ?? [];
    const i = names.findIndex((n) => n.use !== 'old');
    const name = names[i];
    if (name) {
      if (name.given?.[0]) {
        fields.provider_first_name = name.given[0];
        sources.provider_first_name = `${actor.located.path}.name[${i}].given[0]`;
      }
      if (name.family) {
        fields.provider_last_name = name.family;
        sources.provider_last_name = `${actor.located.path}.name[${i}].family`;
      }
      if (fields.provider_first_name || fields.provider_last_name) return fields;
    }
  }
  // A display is a whole name ("Dr Adam Careful"): the text shows first and last name joined.
  if (actor.ref.display?.trim()) {
    fields.provider_last_name = actor.ref.display.trim();
    sources.provider_last_name = `${actor.path}.display`;
  }
  return fields;
}

/**
 * The place: a Location participant, else a display-only actor that takes part (an "information
 * only" one, such as "Phone Call", is not where the patient goes).
 */
function pickLocation(actors: Actor[], participants: AppointmentResource['participant']): Actor | undefined {
  const location = actors.find((a) => a.type === 'Location');
  if (location) return location;
  return actors.find((a) => !a.ref.reference && !a.type && a.ref.display?.trim() && participants[a.index]?.required !== 'information-only');
}

function readLocation(actor: Actor, sources: FieldSources, issues: Issue[]): { location?: string; zone?: string } {
  if (actor.located) {
    const parsed = LocationResource.safeParse(actor.located.resource);
    if (!parsed.success) {
      issues.push(...schemaIssues(parsed.error, actor.located.path));
      return {};
    }
    const l = parsed.data;
    const zone = l.extension?.find((e) => e.url === TIMEZONE_EXTENSION)?.valueCode;
    const line = l.address?.line?.[0];
    const name = [l.name, line].filter((x) => x && x.trim() !== '').join(', ');
    if (name) {
      sources.appointment_location = `${actor.located.path}.name`;
      return { location: name, ...(zone ? { zone } : {}) };
    }
    if (zone) return { zone, ...displayOf(actor, sources) };
  }
  return displayOf(actor, sources);
}

function displayOf(actor: Actor, sources: FieldSources): { location?: string } {
  const display = actor.ref.display?.trim();
  if (!display) return {};
  sources.appointment_location = `${actor.path}.display`;
  return { location: display };
}

/** The references an Appointment makes that the request does not resolve: fetch these if a FHIR server is configured. */
export function unresolvedReferences(
  item: AppointmentItem,
  resolve: (reference: string) => Located | undefined,
): { reference: string; type: string; path: string }[] {
  const parsed = AppointmentResource.safeParse(item.located.resource);
  if (!parsed.success) return [];
  return parsed.data.participant.flatMap((p, i) => {
    const [reference, type] = [p.actor?.reference, p.actor ? referenceType(p.actor) : undefined];
    if (!reference || reference.startsWith('#') || !type || !['Patient', 'Practitioner', 'Location'].includes(type) || resolve(reference))
      return [];
    return [{ reference, type, path: `${item.located.path}.participant[${i}].actor` }];
  });
}
