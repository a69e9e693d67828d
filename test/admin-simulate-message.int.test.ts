import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirSample, hl7Sample, samplePhone, samplePhoneDigits } from '../assets/src/lib/message-samples';
import { MAX_BODY_BYTES } from '../src/http/intake';
import { stateKey } from '../src/storage/keys';
import { FIXTURE_NOW } from './fixtures/time';
import { adminApi } from './support/admin';
import { flowTextPattern } from './support/flow-texts';
import { startTestStack, type TestStack } from './support/local-stack';
import { started } from './support/started';

let t: TestStack;
let api: ReturnType<typeof adminApi>;
let token: string;
beforeAll(async () => {
  t = await startTestStack({ EHR_DEFAULT_TIMEZONE: 'America/New_York' });
  api = adminApi(t);
  token = await api.login();
});
afterAll(async () => {
  await started(t)?.stop();
});

const send = (body: unknown, auth: { token?: string } = { token }) => api.call('simulate-message', { body, ...auth });
const textsTo = (phone: string) => t.stack.carrier.conversation(phone).filter((m) => m.to === phone);

describe('POST /admin/simulate-message: a pasted message through the real intake', () => {
  it('sends the HL7 sample through /ehr/hl7: AA, the appointment recorded as BOOKED and texted', async () => {
    const tag = 'a1b2c3';
    const res = await send({ format: 'hl7v2', message: hl7Sample({ now: FIXTURE_NOW, tag }) });
    expect(res.status).toBe(200);
    expect(res.json.status).toBe(200);
    expect(res.json.ack).toEqual({ code: 'AA', control_id: 'SIMA1B2C3', text: 'applied', errors: [] });
    expect(res.json.answer.ack_code).toBe('AA');
    expect(res.json.recorded).toEqual([
      {
        appointment_id: 'SIM-HL7-A1B2C3',
        event_type: 'BOOKED',
        outcome: 'applied',
        disposition: 'QUEUED',
        message: 'started',
        patient_phone: samplePhone(tag),
      },
    ]);
    const state = await t.getJson(stateKey('SIM-HL7-A1B2C3'));
    expect(state.facts).toMatchObject({
      patient_phone: samplePhone(tag),
      appointment_timezone: 'America/New_York',
      provider_last_name: 'Lopez',
    });
    await t.stack.settle();
    expect(textsTo(samplePhone(tag)).at(-1)?.body).toMatch(flowTextPattern('send_booked'));
  });

  it('answers AE naming PID-13 for a number that cannot be texted, and records nothing', async () => {
    const before = await t.listKeys();
    const message = hl7Sample({ now: FIXTURE_NOW, tag: 'bad001' }).replace(`^415^${samplePhoneDigits('bad001')}`, '^222^2222');
    const res = await send({ format: 'hl7v2', message });
    expect(res.status).toBe(200);
    expect(res.json.status).toBe(400);
    expect(res.json.ack.code).toBe('AE');
    expect(res.json.ack.errors).toEqual([
      expect.objectContaining({ location: 'PID-13', severity: 'E', text: expect.stringContaining('patient_phone') }),
    ]);
    expect(res.json.recorded).toEqual([]);
    expect(await t.listKeys()).toEqual(before);
  });

  it('sends the FHIR sample through /ehr/fhir: an OperationOutcome line, the appointment recorded and texted', async () => {
    const tag = 'f00d01';
    const res = await send({ format: 'fhir-r4', message: fhirSample({ now: FIXTURE_NOW, tag }) });
    expect(res.status).toBe(200);
    expect(res.json.status).toBe(200);
    expect(res.json.answer.resourceType).toBe('OperationOutcome');
    expect(res.json.answer.issue).toEqual([expect.objectContaining({ severity: 'information', expression: ['Bundle.entry[0].resource'] })]);
    expect(res.json.recorded).toEqual([
      {
        appointment_id: 'SIM-FHIR-F00D01',
        event_type: 'BOOKED',
        outcome: 'applied',
        disposition: 'QUEUED',
        message: 'started',
        patient_phone: samplePhone(tag),
      },
    ]);
    const state = await t.getJson(stateKey('SIM-FHIR-F00D01'));
    expect(state.facts).toMatchObject({
      appointment_timezone: 'America/New_York',
      appointment_location: 'Sample Clinic, Suite 100',
      provider_first_name: 'Ana',
    });
    await t.stack.settle();
    expect(textsTo(samplePhone(tag)).at(-1)?.body).toMatch(flowTextPattern('send_booked'));
  });

  it('answers the OperationOutcome naming the element when the Patient has no number, and records nothing', async () => {
    const before = await t.listKeys();
    const bundle = JSON.parse(fhirSample({ now: FIXTURE_NOW, tag: 'f00d02' }));
    delete bundle.entry[1].resource.telecom;
    const res = await send({ format: 'fhir-r4', message: JSON.stringify(bundle) });
    expect(res.json.status).toBe(422);
    expect(res.json.answer.issue).toEqual([
      expect.objectContaining({
        severity: 'error',
        code: 'required',
        expression: ['Bundle.entry[1].resource.telecom'],
        diagnostics: expect.stringContaining('no current phone'),
      }),
    ]);
    expect(res.json.recorded).toEqual([]);
    expect(await t.listKeys()).toEqual(before);
  });

  it('passes text that is not JSON to the FHIR intake, which answers its own OperationOutcome', async () => {
    const res = await send({ format: 'fhir-r4', message: 'MSH|^~\\&|not json' });
    expect(res.json.status).toBe(400);
    expect(res.json.answer.issue[0]).toMatchObject({ severity: 'error', code: 'structure' });
  });

  it('refuses an unknown format, an empty message and one over the intake limit with 400 naming the field', async () => {
    const unknown = await send({ format: 'x12', message: 'ISA*00*' });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.problems).toEqual([{ field: 'format', message: 'must be one of hl7v2, fhir-r4' }]);
    const empty = await send({ format: 'hl7v2', message: '  ' });
    expect(empty.status).toBe(400);
    expect(empty.json.error.problems[0].field).toBe('message');
    const large = await send({
      format: 'hl7v2',
      message: `${hl7Sample({ now: FIXTURE_NOW, tag: 'b16b16' })}NTE|||${'x'.repeat(MAX_BODY_BYTES)}`,
    });
    expect(large.status).toBe(400);
    expect(large.json.error.problems).toEqual([
      { field: 'message', message: `is larger than the intake's limit of ${MAX_BODY_BYTES} bytes` },
    ]);
  });

  it('refuses a request without a session, or with a login challenge instead (401), and sends nothing', async () => {
    const before = await t.listKeys();
    const sample = { format: 'hl7v2', message: hl7Sample({ now: FIXTURE_NOW, tag: '401401' }) };
    for (const auth of [{}, { token: api.mint('challenge') }]) {
      const res = await send(sample, auth);
      expect(res.status).toBe(401);
      expect(res.json.error.code).toBe('unauthorized');
    }
    expect(await t.listKeys()).toEqual(before);
  });
});
