import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ehrEvent } from './fixtures/events';
import { localTime } from './fixtures/time';
import { adminApi } from './support/admin';
import { startTestStack, type TestStack } from './support/local-stack';
import { phonesApi } from './support/phones';
import { started } from './support/started';

/*
 * SERVICE_MODE=deployed makes the local stack gate the simulation as a deployed service does,
 * while its texts still go to the virtual phones (the test never reaches Twilio).
 */

function booking(phone: string, id: string) {
  return {
    event_type: 'BOOKED',
    appointment_id: id,
    patient_id: 'P-SIM-1',
    patient_first_name: 'Zoë',
    patient_phone: phone,
    appointment_datetime: localTime(6, '10:00'),
    appointment_timezone: 'America/Los_Angeles',
  };
}

const HL7 = 'MSH|^~\\&|EHR|CLINIC|PAM|PAM|20261125080000||SIU^S12|MSG-1|P|2.5\r';

describe('a deployed service without SIMULATION_ENABLED', () => {
  let t: TestStack;
  let api: ReturnType<typeof adminApi>;
  beforeAll(async () => {
    t = await startTestStack({ SERVICE_MODE: 'deployed' });
    api = adminApi(t);
  });
  afterAll(async () => {
    await started(t)?.stop();
  });

  it('refuses every simulation with 403 naming SIMULATION_ENABLED, records nothing and texts nobody', async () => {
    const token = api.mint('session');
    for (const [path, body] of [
      ['simulate', booking('+14155557001', 'SIM-OFF-1')],
      ['simulate', { event_type: 'REMIND', appointment_id: 'SIM-OFF-1' }],
      ['simulate-message', { format: 'hl7v2', message: HL7 }],
    ] as const) {
      const res = await api.call(path, { token, body });
      expect(res.status).toBe(403);
      expect(res.json.error.code).toBe('forbidden');
      expect(res.json.error.problems[0].field).toBe('SIMULATION_ENABLED');
      expect(res.text).not.toContain('+14155557001');
    }
    expect(await t.listKeys('appointments/')).toEqual([]);
    expect(await phonesApi(t).received('+14155557001')).toEqual([]);
  });

  it('tells the page the panel is off', async () => {
    const res = await api.call('settings-in-force', { token: api.mint('session') });
    expect(res.json.simulation).toEqual({ mode: 'deployed', enabled: false, allowed_phones: 0 });
    expect(res.json.settings.find((s: { key: string }) => s.key === 'simulation').words).toMatch(/^Off/);
  });
});

describe('a deployed service with SIMULATION_ENABLED=true', () => {
  let t: TestStack;
  let api: ReturnType<typeof adminApi>;
  const allowed = '+14155557101';
  beforeAll(async () => {
    t = await startTestStack({
      SERVICE_MODE: 'deployed',
      SIMULATION_ENABLED: 'true',
      SIMULATION_ALLOWED_PHONES: ' +1 (415) 555-7101 , +14155557102',
    });
    api = adminApi(t);
  });
  afterAll(async () => {
    await started(t)?.stop();
  });

  it('texts a number in SIMULATION_ALLOWED_PHONES, written in any common format', async () => {
    const res = await api.call('simulate', { token: api.mint('session'), body: booking('(415) 555-7101', 'SIM-ON-1') });
    expect(res.status).toBe(202);
    expect(res.json.results[0]).toMatchObject({ outcome: 'applied', message: 'started' });
    expect(await phonesApi(t).received(allowed)).toHaveLength(1);
    const remind = await api.call('simulate', { token: api.mint('session'), body: { event_type: 'REMIND', appointment_id: 'SIM-ON-1' } });
    expect(remind.status).toBe(200);
  });

  it('refuses any other number with 403 naming patient_phone, without quoting it', async () => {
    const res = await api.call('simulate', { token: api.mint('session'), body: booking('+14155557199', 'SIM-ON-2') });
    expect(res.status).toBe(403);
    expect(res.json.error.problems).toEqual([{ field: 'patient_phone', message: expect.stringContaining('SIMULATION_ALLOWED_PHONES') }]);
    expect(res.text).not.toMatch(/5557199|555-7199/);
    expect(await phonesApi(t).received('+14155557199')).toEqual([]);
  });

  it('will not touch a real patient’s appointment, even with an allowed number', async () => {
    await t.postEvents(ehrEvent({ appointment_id: 'REAL-1', patient_phone: '+14155557200' }));
    const token = api.mint('session');
    const moved = await api.call('simulate', { token, body: { ...booking(allowed, 'REAL-1'), event_type: 'MODIFIED' } });
    expect(moved.status).toBe(403);
    expect(moved.json.error.problems[0].field).toBe('appointment_id');
    const remind = await api.call('simulate', { token, body: { event_type: 'REMIND', appointment_id: 'REAL-1' } });
    expect(remind.status).toBe(403);
    expect(await phonesApi(t).received('+14155557200')).toHaveLength(1);
  });

  it('runs no pasted message (it could name any number)', async () => {
    const res = await api.call('simulate-message', { token: api.mint('session'), body: { format: 'hl7v2', message: HL7 } });
    expect(res.status).toBe(403);
    expect(res.json.error.problems[0].field).toBe('format');
  });

  it('tells the page the panel is on, for how many numbers', async () => {
    const res = await api.call('settings-in-force', { token: api.mint('session') });
    expect(res.json.simulation).toEqual({ mode: 'deployed', enabled: true, allowed_phones: 2 });
  });
});

describe('npm start (local)', () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack({ SIMULATION_ENABLED: 'false' });
  });
  afterAll(async () => {
    await started(t)?.stop();
  });

  it('can be turned off with SIMULATION_ENABLED=false (it is on by default, see admin-api.int.test.ts)', async () => {
    const api = adminApi(t);
    const res = await api.call('simulate', { token: api.mint('session'), body: booking('+14155557301', 'SIM-LOCAL-1') });
    expect(res.status).toBe(403);
    expect(res.json.error.problems[0]).toEqual({ field: 'SIMULATION_ENABLED', message: 'is false' });
  });
});
