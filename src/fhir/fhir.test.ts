import { describe, expect, it } from 'vitest';
import { parseEhrEvent } from '../domain/event';
import {
  athenaAppointment,
  FIXTURE_LOCATION,
  FIXTURE_PATIENTS,
  fhirExpectations,
  fhirFixture,
  MOBILE_E164,
  patient,
} from '../../test/fixtures/fhir';
import { mapAppointment, pickPhone, unresolvedReferences, type MappedAppointment } from './appointment';
import { readFhirBody, ResourceIndex, type AppointmentItem } from './bundle';
import { decideEventType, fhirEventId, type StoredView } from './event-type';

const NOW = '2026-11-25T16:00:00.000Z';

function bundleOf(resources: Record<string, unknown>[], type = 'collection') {
  return { resourceType: 'Bundle', type, entry: resources.map((resource) => ({ fullUrl: `urn:uuid:${String(resource.id)}`, resource })) };
}

function mapBody(
  body: unknown,
): { ok: true; mapped: MappedAppointment } | { ok: false; issues: { code: string; expression: string[]; diagnostics: string }[] } {
  const read = readFhirBody(body);
  if (read.kind !== 'appointments') throw new Error(`not appointments: ${JSON.stringify(read)}`);
  return mapAppointment(read.items[0] as AppointmentItem, { resolve: (r) => read.index.get(r), now: NOW });
}

function mapped(body: unknown): MappedAppointment {
  const r = mapBody(body);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.mapped;
}

const appointmentFixtures = fhirExpectations().filter((f) => !f.file.includes('subscription_notification'));

describe('FHIR fixtures: each Appointment, bundled with its Patient, yields its expected facts', () => {
  it.each(appointmentFixtures)('$file', ({ file, expected }) => {
    const appointment = fhirFixture(file.replace('fhir/', ''));
    const m = mapped(bundleOf([appointment, FIXTURE_PATIENTS[expected.patient_id] as unknown as Record<string, unknown>]));
    expect(m.status).toBe('booked');
    expect(m.fields.appointment_id).toBe(expected.appointment_id);
    expect(m.fields.patient_id).toBe(expected.patient_id);
    expect(m.startUtc).toBe(new Date(expected.start as string).toISOString());
    expect(m.fields.appointment_datetime).toBe(expected.start);
    expect(m.fields.provider_id).toBe(expected.provider?.id);
    expect([m.fields.provider_first_name, m.fields.provider_last_name].filter(Boolean).join(' ')).toBe(expected.provider?.name);
    // The Location resource is not in the bundle, so its display is the place.
    expect(m.fields.appointment_location).toBe(expected.location?.name ?? undefined);
    // The mobile, never the home landline listed first.
    expect(m.fields.patient_phone).toBe('(415) 555-0134');
    expect(m.language).toBe('es');
    const event = parseEhrEvent({ ...m.fields, event_type: 'BOOKED', event_datetime_utc: NOW }, { defaultCountry: 'US' });
    expect(event.ok && event.event.patient_phone).toBe(MOBILE_E164);
  });

  it('takes the place and its zone from a Location resolved by Type/id', () => {
    const m = mapped(
      bundleOf([fhirFixture('r4spec_appointment-example.json'), FIXTURE_PATIENTS['Patient/example'] as never, FIXTURE_LOCATION as never]),
    );
    expect(m.fields.appointment_location).toBe('South Wing, second floor');
    expect(m.fields.appointment_timezone).toBe('Europe/Amsterdam');
    expect(m.sources.appointment_location).toBe('Bundle.entry[2].resource.name');
  });

  it('never takes an information-only display-only actor ("Phone Call") as the place', () => {
    const m = mapped(bundleOf([fhirFixture('r4spec_appointment-example2doctors.json'), FIXTURE_PATIENTS['Patient/example'] as never]));
    expect(m.fields.appointment_location).toBeUndefined();
    expect(m.fields.appointment_timezone).toBe('UTC');
  });

  it('reads the athena id-only notification: the focus identifier, the event time, nothing to map yet', () => {
    const read = readFhirBody(fhirFixture('athena_subscription_notification_appointment_schedule.json'));
    expect(read.kind).toBe('appointments');
    if (read.kind !== 'appointments') return;
    expect(read.items).toEqual([]);
    expect(read.idOnly).toEqual([
      {
        identifier: { system: 'urn:athenahealth:athenanet:appointment:195900', value: '2' },
        path: 'Bundle.entry[0].resource.notificationEvent[0].focus',
        eventTime: { value: '2023-04-14T09:22:56Z', path: 'Bundle.entry[0].resource.notificationEvent[0].timestamp' },
      },
    ]);
    // Once fetched, the identifier the notification named is the appointment id (as EXPECTED has it: "2").
    const fetched = athenaAppointment('2026-12-01T17:30:00Z') as unknown as Record<string, unknown>;
    const index = new ResourceIndex();
    index.add({ resource: FIXTURE_PATIENTS['Patient/a-195900.E-51711'] as never, path: 'Patient', fetched: true });
    const item = {
      located: { resource: fetched, path: 'Appointment', fetched: true },
      focusIdentifier: read.idOnly[0]?.identifier,
      eventTime: read.idOnly[0]?.eventTime,
    };
    const r = mapAppointment(item, { resolve: (x) => index.get(x), now: NOW });
    expect(r.ok && r.mapped.fields.appointment_id).toBe('2');
    expect(r.ok && r.mapped.fields.patient_id).toBe('Patient/a-195900.E-51711');
    expect(r.ok && r.mapped.eventTime?.value).toBe('2023-04-14T09:22:56Z');
  });
});

describe('bundles and notifications', () => {
  it('resolves references by fullUrl as well as Type/id, in transaction, batch and searchset bundles', () => {
    const appt = { ...fhirFixture('ihe_sched_example-appointment.json') };
    const participants = (appt.participant as { actor: { reference?: string } }[]).map((p) => ({ ...p, actor: { ...p.actor } }));
    (participants[2] as { actor: { reference?: string } }).actor.reference = 'urn:uuid:5b0f6b7e-0000-4000-8000-000000000001';
    appt.participant = participants;
    for (const type of ['transaction', 'batch', 'searchset']) {
      const body = {
        resourceType: 'Bundle',
        type,
        entry: [
          { fullUrl: 'urn:uuid:appt', resource: appt, search: { mode: 'match' } },
          {
            fullUrl: 'urn:uuid:5b0f6b7e-0000-4000-8000-000000000001',
            resource: patient('pat1', 'Meiko', 'Lufhir'),
            search: { mode: 'include' },
          },
        ],
      };
      expect(mapped(body).fields.patient_first_name).toBe('Meiko');
    }
  });

  it('maps a full-resource R4 backport notification (status as Parameters) and acknowledges heartbeats', () => {
    const appointment = {
      ...fhirFixture('r4spec_appointment-example.json'),
      meta: { versionId: '3', lastUpdated: '2026-11-25T15:00:00Z' },
    };
    const status = (type: string) => ({
      resourceType: 'Parameters',
      parameter: [
        { name: 'subscription', valueReference: { reference: 'Subscription/s1' } },
        { name: 'type', valueCode: type },
        {
          name: 'notification-event',
          part: [
            { name: 'timestamp', valueInstant: '2026-11-25T15:00:01Z' },
            { name: 'focus', valueReference: { reference: 'Appointment/example' } },
          ],
        },
      ],
    });
    const notification = (type: string) => ({
      resourceType: 'Bundle',
      type: 'history',
      entry: [
        { fullUrl: 'urn:uuid:s', resource: status(type) },
        { fullUrl: 'https://ehr.example/fhir/Appointment/example', resource: appointment },
        { fullUrl: 'https://ehr.example/fhir/Patient/example', resource: FIXTURE_PATIENTS['Patient/example'] },
      ],
    });
    const m = mapped(notification('event-notification'));
    expect(m.fields.appointment_id).toBe('example');
    expect(m.version).toBe('3');
    expect(m.eventTime).toEqual({ value: '2026-11-25T15:00:00Z', path: 'Bundle.entry[1].resource.meta.lastUpdated' });
    expect(readFhirBody(notification('heartbeat'))).toEqual({ kind: 'no-op', reason: 'subscription heartbeat' });
    expect(readFhirBody(notification('handshake'))).toEqual({ kind: 'no-op', reason: 'subscription handshake' });
  });

  it('lists the references a FHIR server must provide when the request does not carry them', () => {
    const read = readFhirBody(fhirFixture('r4spec_appointment-example.json'));
    if (read.kind !== 'appointments') throw new Error('expected appointments');
    expect(unresolvedReferences(read.items[0] as AppointmentItem, (r) => read.index.get(r)).map((x) => [x.reference, x.path])).toEqual([
      ['Patient/example', 'Appointment.participant[0].actor'],
      ['Practitioner/example', 'Appointment.participant[1].actor'],
      ['Location/1', 'Appointment.participant[2].actor'],
    ]);
  });
});

describe('OperationOutcome issues name the FHIR path and the reason', () => {
  const withPatient = (appointment: Record<string, unknown>) => bundleOf([appointment, FIXTURE_PATIENTS['Patient/example'] as never]);
  const base = fhirFixture('r4spec_appointment-example.json');

  it.each([
    ['missing start', { ...base, start: undefined }, 'required', 'Bundle.entry[0].resource.start'],
    ['start without an offset', { ...base, start: '2026-12-01T09:30:00' }, 'value', 'Bundle.entry[0].resource.start'],
    ['unknown status', { ...base, status: 'rescheduled' }, 'code-invalid', 'Bundle.entry[0].resource.status'],
    [
      'participant status missing',
      { ...base, participant: [{ actor: { reference: 'Patient/example' } }] },
      'required',
      'Bundle.entry[0].resource.participant[0].status',
    ],
  ])('%s', (_name, appointment, code, expression) => {
    const r = mapBody(withPatient(appointment));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues).toEqual([expect.objectContaining({ code, expression: [expression] })]);
  });

  it('an unresolvable Patient reference', () => {
    const r = mapBody(base);
    expect(!r.ok && r.issues).toEqual([expect.objectContaining({ code: 'not-found', expression: ['Appointment.participant[0].actor'] })]);
  });

  it('a reference that resolves to another resource type', () => {
    const wrong = { ...(FIXTURE_PATIENTS['Patient/example'] as object), resourceType: 'Practitioner' };
    const r = mapBody({
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ resource: base }, { fullUrl: 'Patient/example', resource: wrong }],
    });
    expect(!r.ok && r.issues.map((i) => i.expression[0])).toContain('Bundle.entry[1].resource.resourceType');
  });

  it('the wrong resourceType at the top, and a Bundle type not accepted', () => {
    expect(readFhirBody({ resourceType: 'Patient', id: 'x' })).toMatchObject({
      kind: 'invalid',
      status: 400,
      issues: [{ code: 'not-supported', expression: ['resourceType'] }],
    });
    expect(readFhirBody({ resourceType: 'Bundle', type: 'document', entry: [] })).toMatchObject({
      kind: 'invalid',
      status: 400,
      issues: [{ expression: ['Bundle.type'] }],
    });
    expect(readFhirBody({ resourceType: 'Bundle', type: 'collection', entry: [] })).toMatchObject({
      kind: 'invalid',
      status: 422,
      issues: [{ expression: ['Bundle.entry'] }],
    });
  });

  it('a patient without a phone to text: names the telecom element, never the values', () => {
    const noMobile = patient('example', 'Peter', 'Chalmers', {
      telecom: [
        { system: 'email', value: 'a@example.org' },
        { system: 'phone', value: '(415) 555-0999', use: 'old' },
      ],
    });
    const r = mapBody(bundleOf([base, noMobile as never]));
    expect(!r.ok && r.issues).toEqual([expect.objectContaining({ code: 'required', expression: ['Bundle.entry[1].resource.telecom'] })]);
    expect(JSON.stringify(!r.ok && r.issues)).not.toContain('555');
  });
});

describe('choosing the phone to text', () => {
  const home = { system: 'phone' as const, value: 'home', use: 'home' };
  const mobile = { system: 'phone' as const, value: 'mobile', use: 'mobile' };
  it.each([
    ['the mobile over a home landline listed first', [home, mobile], 'mobile'],
    ['an sms number over a mobile phone', [mobile, { system: 'sms' as const, value: 'sms' }], 'sms'],
    [
      'the lower rank among mobiles',
      [
        { ...mobile, value: 'm2', rank: 2 },
        { ...mobile, value: 'm1', rank: 1 },
      ],
      'm1',
    ],
    ['a home landline when it is the only phone', [{ system: 'email' as const, value: 'e' }, home], 'home'],
    ['no old or expired number', [{ ...mobile, use: 'old' }, { ...mobile, value: 'gone', period: { end: '2020-01-01' } }, home], 'home'],
    [
      'never a fax or pager',
      [
        { system: 'fax' as const, value: 'f' },
        { system: 'pager' as const, value: 'p' },
      ],
      undefined,
    ],
  ])('%s', (_name, telecom, chosen) => {
    expect(pickPhone(telecom, NOW)?.value).toBe(chosen);
  });
});

describe('status → event type, against the stored appointment', () => {
  const facts = mapped(bundleOf([fhirFixture('r4spec_appointment-example.json'), FIXTURE_PATIENTS['Patient/example'] as never]));
  const stored = (over: Partial<StoredView> = {}): StoredView => ({
    status: 'QUEUED',
    appointment_datetime_utc: facts.startUtc as string,
    appointment_location: facts.fields.appointment_location,
    patient_requested_confirm: false,
    ...over,
  });
  it.each([
    ['booked, never seen', {}, null, 'BOOKED'],
    ['booked again after a cancel', {}, stored({ status: 'CANCELED' }), 'BOOKED'],
    ['booked with a new start', { startUtc: '2013-12-11T09:00:00.000Z' }, stored(), 'RESCHEDULED'],
    ['booked with a new place', {}, stored({ appointment_location: 'Elsewhere' }), 'MODIFIED'],
    ['booked, patient accepted after needs-action', {}, stored({ previous_patient_status: 'needs-action' }), 'CONFIRMED'],
    ['booked, patient accepted after asking to confirm by SMS', {}, stored({ patient_requested_confirm: true }), 'CONFIRMED'],
    ['booked, accepted all along', {}, stored({ previous_patient_status: 'accepted' }), 'MODIFIED'],
    ['cancelled', { status: 'cancelled' }, stored(), 'CANCELED'],
    ['noshow', { status: 'noshow' }, stored(), 'NOSHOWED'],
    ['entered-in-error for a stored appointment', { status: 'entered-in-error' }, stored(), 'CANCELED'],
    ['entered-in-error, never seen', { status: 'entered-in-error' }, null, undefined],
    ['proposed', { status: 'proposed' }, null, undefined],
    ['pending', { status: 'pending' }, stored(), undefined],
    ['waitlist', { status: 'waitlist' }, null, undefined],
    ['arrived', { status: 'arrived' }, stored(), undefined],
    ['checked-in', { status: 'checked-in' }, stored(), undefined],
    ['fulfilled', { status: 'fulfilled' }, stored(), undefined],
  ] as const)('%s', (_name, over, store, type) => {
    const d = decideEventType({ ...facts, ...over }, store);
    expect('type' in d ? d.type : undefined).toBe(type);
  });

  it('gives one version of an appointment one event id, and a new version another', () => {
    expect(fhirEventId(facts)).toBe(fhirEventId(structuredClone(facts)));
    expect(fhirEventId({ ...facts, version: '2' })).not.toBe(fhirEventId(facts));
    expect(fhirEventId({ ...facts, status: 'cancelled' })).not.toBe(fhirEventId(facts));
  });
});
