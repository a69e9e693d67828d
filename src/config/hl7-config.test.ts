import { describe, expect, it } from 'vitest';
import { loadFunctionsConfig } from './config';

const BASE = {
  EHR_API_KEY: 'k'.repeat(24),
  S3_BUCKET: 'appointments-local',
  ACCOUNT_SID: `AC${'0'.repeat(32)}`,
  AUTH_TOKEN: 'a'.repeat(32),
  TWILIO_PHONE_NUMBER: '+14155550100',
  TWILIO_FLOW_SID: `FW${'0'.repeat(32)}`,
  IE_ENDPOINT: 'https://ehr.example/requests',
  IE_SIGNING_SECRET: 's'.repeat(24),
  CUSTOMER_NAME: 'Owl Health',
};

describe('HL7 time-zone settings', () => {
  it('are optional', () => {
    const loaded = loadFunctionsConfig(BASE);
    expect(loaded.ok && [loaded.config.EHR_DEFAULT_TIMEZONE, loaded.config.EHR_FACILITY_TIMEZONES]).toEqual([undefined, {}]);
  });

  it('take an IANA zone and a JSON map of facility to zone', () => {
    const loaded = loadFunctionsConfig({
      ...BASE,
      EHR_DEFAULT_TIMEZONE: 'America/Phoenix',
      EHR_FACILITY_TIMEZONES: '{"NORTH":"Pacific/Honolulu"}',
    });
    expect(loaded.ok && [loaded.config.EHR_DEFAULT_TIMEZONE, loaded.config.EHR_FACILITY_TIMEZONES]).toEqual([
      'America/Phoenix',
      { NORTH: 'Pacific/Honolulu' },
    ]);
  });

  it.each([
    [{ EHR_DEFAULT_TIMEZONE: 'EST' }, 'EHR_DEFAULT_TIMEZONE'],
    [{ EHR_DEFAULT_TIMEZONE: '-0500' }, 'EHR_DEFAULT_TIMEZONE'],
    [{ EHR_DEFAULT_TIMEZONE: 'Mars/Olympus' }, 'EHR_DEFAULT_TIMEZONE'],
    [{ EHR_FACILITY_TIMEZONES: 'NORTH=America/Chicago' }, 'EHR_FACILITY_TIMEZONES'],
    [{ EHR_FACILITY_TIMEZONES: '["America/Chicago"]' }, 'EHR_FACILITY_TIMEZONES'],
    [{ EHR_FACILITY_TIMEZONES: '{"NORTH":"+0100"}' }, 'EHR_FACILITY_TIMEZONES'],
  ])('refuses %j, naming the variable and how to fix it', (env, variable) => {
    const loaded = loadFunctionsConfig({ ...BASE, ...env });
    expect(loaded.ok).toBe(false);
    if (!loaded.ok) expect(loaded.problems).toEqual([expect.objectContaining({ variable, fix: expect.stringMatching(/IANA|JSON/) })]);
  });
});
