import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUTCOME_SYSTEM } from '../src/fhir/outcome';
import { historyPrefix, stateKey } from '../src/storage/keys';
import {
  athenaAppointment,
  FIXTURE_LOCATION,
  FIXTURE_PATIENTS,
  FIXTURE_PRACTITIONER,
  fhirExpectations,
  fhirFixture,
  MOBILE_E164,
  patient,
} from './fixtures/fhir';
import { DAY, FIXTURE_NOW, HOUR } from './fixtures/time';
import { startTestStack, type TestStack } from './support/local-stack';
import { started } from './support/started';

/* eslint-disable @typescript-eslint/no-explicit-any -- the answers are read loosely and asserted on */

let t: TestStack;
const ATHENA_START = new Date(FIXTURE_NOW + 6 * DAY).toISOString().replace('.000Z', 'Z');

beforeAll(async () => {
  t = await startTestStack();
  const fhir = t.stack.ehr.fhir;
  for (const p of Object.values(FIXTURE_PATIENTS)) fhir.put(p);
  fhir.put(FIXTURE_LOCATION);
  fhir.put(FIXTURE_PRACTITIONER);
  fhir.put(athenaAppointment(ATHENA_START));
});
afterAll(async () => {
  await started(t)?.stop();
});

/** The codings of an answer's issue, by what they say. */
function coded(issue: any): Record<string, string> {
  return Object.fromEntries(
    (issue.details?.coding ?? []).map((c: { system: string; code: string }) => [c.system.slice(OUTCOME_SYSTEM.length + 1), c.code]),
  );
}

const textsTo = (s: TestStack, phone: string) => s.stack.carrier.conversation(phone).filter((m) => m.to === phone);

async function bucketSnapshot(s: TestStack): Promise<string> {
  const keys = await s.listKeys();
  const bodies = await Promise.all(keys.map(async (k) => `${k}=${JSON.stringify(await s.getJson(k))}`));
  return bodies.join('\n');
}

describe('POST /ehr/fhir: every public fixture yields its expected facts', () => {
  const rows: string[] = [];
  afterAll(() => console.info(`fixture results:\n${rows.join('\n')}`));

  it.each(fhirExpectations())('$file', async ({ file, expected }) => {
    const athena = file.includes('subscription_notification');
    const start = athena ? ATHENA_START : (expected.start as string);
    // The clock stands three days before the appointment, so the booking is texted.
    t.stack.clock.set(Date.parse(start) - 3 * DAY);
    const res = await t.postFhir(fhirFixture(file.replace('fhir/', '')));
    expect(res.status).toBe(200);
    expect(res.json.resourceType).toBe('OperationOutcome');
    expect(res.json.issue).toHaveLength(1);
    const line = coded(res.json.issue[0]);
    expect(line).toMatchObject({
      'appointment-id': expected.appointment_id,
      'event-type': 'BOOKED',
      outcome: 'applied',
      disposition: 'QUEUED',
      message: 'started',
    });
    await t.stack.settle();

    const state = await t.getJson(stateKey(expected.appointment_id));
    expect(state.facts).toMatchObject({
      appointment_id: expected.appointment_id,
      patient_id: expected.patient_id,
      patient_phone: MOBILE_E164,
    });
    expect(state.facts.appointment_datetime_utc).toBe(new Date(start).toISOString());
    if (athena) {
      expect(state.ehr_event_at).toBe(new Date(expected.event_timestamp as string).toISOString());
    } else {
      const provider = [state.facts.provider_first_name, state.facts.provider_last_name].filter(Boolean).join(' ');
      expect(state.facts.provider_id).toBe(expected.provider?.id);
      // The sandbox holds Practitioner/dr-y (named "Dr Y"); the others are known by their display only.
      expect(provider).toBe(expected.provider?.name);
      expect(state.facts.appointment_location).toBe(expected.location?.name ?? undefined);
    }
    const text = textsTo(t, MOBILE_E164).at(-1);
    // The sandbox's Patient prefers Spanish (Patient.communication): the booking text is in Spanish.
    expect(state.facts.patient_language).toBe('es');
    expect(text?.body).toMatch(/^Hola .*, su cita/);
    rows.push(
      `${file} | ${line['event-type']} | ${expected.appointment_id} | ${state.facts.appointment_datetime_utc} (${state.facts.appointment_timezone}) | ${state.facts.patient_phone} | texted: ${line.message}`,
    );
  });

  it('fetched what the requests did not carry from the sandbox FHIR server, with its token', () => {
    const reads = t.stack.ehr.fhir.reads();
    expect(reads.map((r) => `${r.status} ${r.path}`)).toEqual(
      expect.arrayContaining([
        '200 /Patient/example',
        '200 /Location/1',
        '404 /Practitioner/example',
        '200 /Practitioner/dr-y',
        '200 /Appointment',
      ]),
    );
    expect(reads.every((r) => r.auth === 'fixed')).toBe(true);
  });
});

describe('POST /ehr/fhir: the same guarantees as the JSON intake', () => {
  const phone = '+14155550177';
  const who = patient('p-dup', 'Lena', 'Dup', { telecom: [{ system: 'phone', value: '(415) 555-0177', use: 'mobile' }] });
  const appointment = (over: Record<string, unknown> = {}) => ({
    resourceType: 'Appointment',
    id: 'fhir-dup-1',
    meta: { versionId: '1', lastUpdated: new Date(FIXTURE_NOW - 2 * HOUR).toISOString() },
    status: 'booked',
    start: '2026-12-01T17:30:00Z',
    participant: [
      { actor: { reference: 'urn:uuid:9a1f0d52-58e1-4c39-9a43-0c1e8b7d1b10' }, status: 'accepted' },
      { actor: { reference: 'Location/1' }, status: 'accepted' },
    ],
    ...over,
  });
  const bundle = (appt: Record<string, unknown>) => ({
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      {
        fullUrl: 'urn:uuid:7c1e1a2b-0000-4000-8000-00000000a001',
        resource: appt,
        request: { method: 'PUT', url: `Appointment/${String(appt.id)}` },
      },
      { fullUrl: 'urn:uuid:9a1f0d52-58e1-4c39-9a43-0c1e8b7d1b10', resource: who, request: { method: 'PUT', url: 'Patient/p-dup' } },
    ],
  });

  it('records the same resource version twice as one change and one text', async () => {
    t.stack.clock.set(FIXTURE_NOW);
    const first = await t.postFhir(bundle(appointment()));
    const second = await t.postFhir(bundle(appointment()));
    expect([first.status, second.status]).toEqual([200, 200]);
    expect([coded(first.json.issue[0]).outcome, coded(second.json.issue[0]).outcome]).toEqual(['applied', 'duplicate']);
    expect(coded(first.json.issue[0])['event-id']).toBe(coded(second.json.issue[0])['event-id']);
    await t.stack.settle();
    expect(await t.listKeys(historyPrefix('fhir-dup-1'))).toHaveLength(1);
    expect((await t.getJson(stateKey('fhir-dup-1'))).log).toHaveLength(1);
    expect(textsTo(t, phone)).toHaveLength(1);
  });

  it('reads a new start as RESCHEDULED, a new place as MODIFIED, cancelled as CANCELED', async () => {
    t.stack.clock.set(FIXTURE_NOW + HOUR);
    const at = (h: number) => new Date(FIXTURE_NOW - 2 * HOUR + h * 60_000).toISOString();
    const moved = await t.postFhir(bundle(appointment({ meta: { versionId: '2', lastUpdated: at(1) }, start: '2026-12-02T17:30:00Z' })));
    const placed = await t.postFhir(
      bundle(
        appointment({
          meta: { versionId: '3', lastUpdated: at(2) },
          start: '2026-12-02T17:30:00Z',
          participant: [appointment().participant[0], { actor: { display: 'Annex, room 4' }, status: 'accepted' }],
        }),
      ),
    );
    const cancelled = await t.postFhir(
      bundle(appointment({ meta: { versionId: '4', lastUpdated: at(3) }, start: '2026-12-02T17:30:00Z', status: 'cancelled' })),
    );
    expect([moved, placed, cancelled].map((r) => coded(r.json.issue[0])['event-type'])).toEqual(['RESCHEDULED', 'MODIFIED', 'CANCELED']);
    const state = await t.getJson(stateKey('fhir-dup-1'));
    expect(state.disposition).toBe('CANCELED');
    expect(state.log.map((e: { type: string }) => e.type)).toEqual(['BOOKED', 'RESCHEDULED', 'MODIFIED', 'CANCELED']);
  });

  it('answers a status that is not texted (pending) with 200, recording nothing', async () => {
    const before = await bucketSnapshot(t);
    const res = await t.postFhir(bundle(appointment({ id: 'fhir-pending', status: 'pending' })));
    expect(res.status).toBe(200);
    expect(coded(res.json.issue[0]).outcome).toBe('ignored');
    expect(await bucketSnapshot(t)).toBe(before);
  });

  it('says to send application/json when the Functions runtime drops an application/fhir+json body', async () => {
    // Twilio's runtime parses only JSON and form bodies; the handler sees an empty event.
    const before = await bucketSnapshot(t);
    const res = await t.postFhir(bundle(appointment({ id: 'fhir-media' })), { 'content-type': 'application/fhir+json' });
    expect(res.status).toBe(415);
    expect(res.json.issue[0]).toMatchObject({
      code: 'not-supported',
      diagnostics: expect.stringMatching(/send the same JSON as application\/json/),
    });
    expect(await bucketSnapshot(t)).toBe(before);
  });
});

describe('POST /ehr/fhir: problems answer an OperationOutcome and write nothing', () => {
  const base = () => fhirFixture('r4spec_appointment-example.json');
  it.each([
    ['missing start', () => ({ ...base(), id: 'oo-1', start: undefined }), 422, 'required', 'Appointment.start'],
    ['unknown status', () => ({ ...base(), id: 'oo-2', status: 'rescheduled' }), 422, 'code-invalid', 'Appointment.status'],
    [
      'unresolvable reference',
      () => ({ ...base(), id: 'oo-3', participant: [{ actor: { reference: 'Patient/nobody' }, status: 'accepted' }] }),
      422,
      'not-found',
      'Appointment.participant[0].actor',
    ],
    ['wrong resourceType', () => FIXTURE_PATIENTS['Patient/example'], 400, 'not-supported', 'resourceType'],
    [
      'a reference to the wrong type',
      () => ({
        resourceType: 'Bundle',
        type: 'collection',
        entry: [{ resource: { ...base(), id: 'oo-5' } }, { fullUrl: 'Patient/example', resource: { ...FIXTURE_LOCATION, id: 'example' } }],
      }),
      422,
      'invalid',
      'Bundle.entry[1].resource.resourceType',
    ],
  ])('%s', async (_name, body, status, code, expression) => {
    t.stack.clock.set(FIXTURE_NOW);
    const before = await bucketSnapshot(t);
    const res = await t.postFhir(body());
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/application\/fhir\+json/);
    expect(res.json.resourceType).toBe('OperationOutcome');
    expect(res.json.issue).toEqual(
      expect.arrayContaining([expect.objectContaining({ severity: 'error', code, expression: [expression] })]),
    );
    // Diagnostics name the element and the reason, not the patient.
    expect(JSON.stringify(res.json)).not.toMatch(/Chalmers|555-01/);
    expect(await bucketSnapshot(t)).toBe(before);
  });

  it('refuses a wrong key with 401 and a security issue', async () => {
    const res = await t.postFhir(base(), { authorization: 'Bearer wrong-key-wrong-key-wrong' });
    expect(res.status).toBe(401);
    expect(res.json.issue[0].code).toBe('security');
  });
});
