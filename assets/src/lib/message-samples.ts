/**
 * Synthetic messages for the Simulation page's paste box: an HL7 v2.5.1 SIU^S12 and a FHIR R4
 * Bundle, both booking a new appointment three days ahead for a made-up patient with a valid US
 * mobile number (555-01xx, the range reserved for fiction), so they get texted. Pure (no DOM): the
 * HTTP tests send exactly what the page offers.
 */

export type SampleFormat = 'hl7v2' | 'fhir-r4';

export interface SampleOptions {
  /** Now (epoch ms), on the page's clock. */
  now: number;
  /** A short tag that makes the ids and the phone number new each time (hex). */
  tag: string;
}

const DAY = 86_400_000;

/** 555-0110 … 555-0189: away from the local Twilio number (0100) and the administrator (0199). */
export function samplePhoneDigits(tag: string): string {
  const n = (Number.parseInt(tag.slice(0, 6) || '0', 16) || 0) % 80;
  return `55501${String(10 + n).padStart(2, '0')}`;
}

export function samplePhone(tag: string): string {
  return `+1415${samplePhoneDigits(tag)}`;
}

const two = (n: number) => String(n).padStart(2, '0');

function utcParts(ms: number) {
  const d = new Date(ms);
  return {
    date: `${d.getUTCFullYear()}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}`,
    iso: d.toISOString().slice(0, 10),
    time: `${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}`,
  };
}

/** SIU^S12 (HL7 v2.5.1 §10.4): the start is wall-clock 10:00 in the receiver's zone (EHR_DEFAULT_TIMEZONE). */
export function hl7Sample({ now, tag }: SampleOptions): string {
  const id = tag.toUpperCase();
  const sent = utcParts(now);
  const day = utcParts(now + 3 * DAY).date;
  return (
    [
      `MSH|^~\\&|SIM-EHR|SIMCLINIC|SMS-REMINDERS|SIMCLINIC|${sent.date}${sent.time}+0000||SIU^S12^SIU_S12|SIM${id}|P|2.5.1`,
      `SCH|SIM-P-${id}|SIM-HL7-${id}|||||||30|min|^^30^${day}1000|||||||||||||Booked`,
      `TQ1|||||||${day}1000`,
      `PID|1||SIM-MRN-${id}^^^SIM^MR||Sample^Alex||19800101|U|||||^PRN^CP^^1^415^${samplePhoneDigits(tag)}`,
      'RGS|1',
      'AIL|1||MAIN^Room 4^^Sample Clinic',
      'AIP|1||SIM-DR-1^Lopez^Ana',
    ].join('\r') + '\r'
  );
}

/** A transaction Bundle with everything the mapping reads (src/fhir/appointment.ts): Patient, Practitioner, Location with its zone. */
export function fhirSample({ now, tag }: SampleOptions): string {
  const id = tag.toUpperCase();
  const start = `${utcParts(now + 3 * DAY).iso}T15:00:00Z`;
  const patient = {
    resourceType: 'Patient',
    id: `sim-patient-${tag}`,
    name: [{ use: 'usual', family: 'Sample', given: ['Alex'] }],
    telecom: [{ system: 'phone', value: samplePhone(tag), use: 'mobile' }],
  };
  const practitioner = { resourceType: 'Practitioner', id: 'sim-dr-1', name: [{ family: 'Lopez', given: ['Ana'] }] };
  const location = {
    resourceType: 'Location',
    id: 'sim-main',
    name: 'Sample Clinic',
    address: { line: ['Suite 100'] },
    extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/timezone', valueCode: 'America/New_York' }],
  };
  const appointment = {
    resourceType: 'Appointment',
    id: `SIM-FHIR-${id}`,
    status: 'booked',
    start,
    end: start.replace('T15:00', 'T15:30'),
    participant: [
      { actor: { reference: `Patient/${patient.id}` }, status: 'accepted' },
      { actor: { reference: `Practitioner/${practitioner.id}` }, status: 'accepted' },
      { actor: { reference: `Location/${location.id}` }, status: 'accepted' },
    ],
  };
  const entry = [appointment, patient, practitioner, location].map((resource) => ({
    fullUrl: `https://ehr.example.org/fhir/${resource.resourceType}/${resource.id}`,
    resource,
    request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` },
  }));
  return JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry }, null, 2);
}

export function sampleMessage(format: SampleFormat, options: SampleOptions): string {
  return format === 'hl7v2' ? hl7Sample(options) : fhirSample(options);
}
