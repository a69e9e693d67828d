import { describe, expect, it } from 'vitest';
import { FunctionsConfig, loadFunctionsConfig } from './config';

const env = {
  EHR_API_KEY: 'k'.repeat(32),
  S3_BUCKET: 'bucket-a',
  ACCOUNT_SID: `AC${'0'.repeat(32)}`,
  AUTH_TOKEN: 'a'.repeat(32),
  TWILIO_PHONE_NUMBER: '+14155550100',
  TWILIO_FLOW_SID: `FW${'0'.repeat(32)}`,
  IE_ENDPOINT: 'https://ehr.example/x',
  IE_SIGNING_SECRET: 'i'.repeat(32),
  CUSTOMER_NAME: 'Owl',
};
const problems = (extra: Record<string, string>) => {
  const r = loadFunctionsConfig({ ...env, ...extra });
  return r.ok ? [] : r.problems.map((p) => `${p.variable}: ${p.problem}`);
};

describe('FHIR server settings', () => {
  it('are optional, and take a base URL with a token or with all three client credentials', () => {
    expect(problems({})).toEqual([]);
    expect(problems({ FHIR_BASE_URL: 'https://ehr.example/fhir', FHIR_BEARER_TOKEN: 't'.repeat(20) })).toEqual([]);
    expect(
      problems({
        FHIR_BASE_URL: 'https://ehr.example/fhir',
        FHIR_CLIENT_ID: 'app',
        FHIR_CLIENT_SECRET: 's'.repeat(20),
        FHIR_TOKEN_URL: 'https://ehr.example/token',
      }),
    ).toEqual([]);
  });

  it('report every inconsistency at once', () => {
    expect(problems({ FHIR_BASE_URL: 'https://ehr.example/fhir' })).toEqual(['FHIR_BASE_URL: is set without credentials']);
    expect(problems({ FHIR_BEARER_TOKEN: 't'.repeat(20) })).toEqual(['FHIR_BASE_URL: is not set, but FHIR credentials are']);
    expect(problems({ FHIR_BASE_URL: 'ftp://ehr.example/fhir', FHIR_CLIENT_ID: 'app', FHIR_BEARER_TOKEN: 't'.repeat(20) })).toEqual([
      'FHIR_BASE_URL: is not an http(s) URL',
      'FHIR_CLIENT_SECRET: is not set, but the other OAuth2 client settings are',
      'FHIR_TOKEN_URL: is not set, but the other OAuth2 client settings are',
      'FHIR_BEARER_TOKEN: is set together with OAuth2 client credentials',
    ]);
  });

  it('leave the schema usable with omit (the deploy checks a subset of it)', () => {
    expect(() => FunctionsConfig.omit({ ACCOUNT_SID: true })).not.toThrow();
  });
});
