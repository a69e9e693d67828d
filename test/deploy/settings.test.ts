import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDeploySettings, loadTargetSettings, readDeployEnv, secretValues } from '../../scripts/lib/deploy/settings';
import { functionsEnvironment } from '../../scripts/lib/deploy/functions-env';
import { Masker } from '../../scripts/lib/deploy/report';
import { validEnv } from './support';

const problemsOf = (env: Record<string, string | undefined>, options = {}) => {
  const r = loadDeploySettings(env, options);
  return r.ok ? [] : r.problems;
};

describe('the deploy configuration', () => {
  it('reads a complete .env into the settings the commands use', () => {
    const r = loadDeploySettings(validEnv());
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.settings).toMatchObject({
      customerCode: 'acme',
      stackName: 'Appointments-acme',
      region: 'us-west-2',
      aws: { accessKeyId: 'AKIADEPLOYER00000001' },
      phoneNumber: '+14155550100',
      defaultPhoneCountry: 'US',
      reminders: { firstTiming: '7200', secondTiming: '2400', outreachStart: '0800', outreachFinish: '2000' },
    });
    expect(r.settings.sessionSecret).toBeUndefined();
  });

  it.each([
    ['Acme', /lowercase/],
    ['acme clinic', /no spaces/],
    ['acme-clinic', /hyphens/],
    ['acme_1', /lowercase letters or digits/],
    ['a'.repeat(21), /1-20/],
  ])('refuses CUSTOMER_CODE %j (it suffixes AWS names)', (code, message) => {
    const [p] = problemsOf(validEnv({ CUSTOMER_CODE: code }));
    expect(p).toMatchObject({
      variable: 'CUSTOMER_CODE',
      problem: expect.stringMatching(message),
      fix: expect.stringContaining('lowercase'),
    });
  });

  it('reports every missing variable at once, each with a fix, in the order of the table', () => {
    const problems = problemsOf({ AWS_PROFILE: 'deployer' });
    expect(problems.map((p) => p.variable)).toEqual([
      'TWILIO_ACCOUNT_SID',
      'TWILIO_API_KEY_SID',
      'TWILIO_API_KEY_SECRET',
      'CUSTOMER_CODE',
      'TWILIO_PHONE_NUMBER',
      'CUSTOMER_NAME',
      'EHR_API_KEY',
      'IE_ENDPOINT',
      'IE_SIGNING_SECRET',
      'APPLICATION_PASSWORD',
      'ADMINISTRATOR_PHONE',
      'ALARM_EMAIL',
    ]);
    for (const p of problems) {
      // The Functions' schema words a missing URL as "is not a URL".
      expect(p.problem).toBe(p.variable === 'IE_ENDPOINT' ? 'is not a URL' : 'is not set');
      expect(p.fix).not.toBe('');
    }
  });

  it('uses the Functions’ own rules for their variables (same messages as the settings check)', () => {
    const problems = problemsOf(
      validEnv({
        EHR_API_KEY: 'short',
        REMINDER_OUTREACH_FINISH: '2500',
        TWILIO_PHONE_NUMBER: '415-555-0100',
        APPLICATION_PASSWORD: 'hunter2',
      }),
    );
    expect(problems).toEqual([
      expect.objectContaining({ variable: 'TWILIO_PHONE_NUMBER', problem: 'is not an E.164 phone number' }),
      expect.objectContaining({ variable: 'EHR_API_KEY', problem: 'is shorter than 24 characters' }),
      expect.objectContaining({ variable: 'REMINDER_OUTREACH_FINISH', problem: '"2500" is not HHMM within range' }),
      expect.objectContaining({ variable: 'APPLICATION_PASSWORD', problem: 'is shorter than 12 characters' }),
    ]);
  });

  it('wants the EHR endpoint over https (patient requests carry health information)', () => {
    expect(problemsOf(validEnv({ IE_ENDPOINT: 'http://ehr.example.org/x' }))).toEqual([
      expect.objectContaining({ variable: 'IE_ENDPOINT', problem: expect.stringContaining('must use https') }),
    ]);
    expect(problemsOf(validEnv({ IE_ENDPOINT: 'not a url' }))).toEqual([
      expect.objectContaining({ variable: 'IE_ENDPOINT', problem: 'is not a URL' }),
    ]);
  });

  it('needs AWS credentials: a key pair, a profile, or a shared config file', () => {
    const none = validEnv({ AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined });
    expect(problemsOf(none)).toEqual([
      expect.objectContaining({ variable: 'AWS_ACCESS_KEY_ID', problem: expect.stringContaining('no AWS credentials') }),
    ]);
    expect(problemsOf(none, { hasSharedAwsConfig: true })).toEqual([]);
    expect(problemsOf({ ...none, AWS_PROFILE: 'deployer' })).toEqual([]);
    expect(problemsOf(validEnv({ AWS_SECRET_ACCESS_KEY: '' }))).toEqual([
      expect.objectContaining({ variable: 'AWS_SECRET_ACCESS_KEY', problem: 'is not set but AWS_ACCESS_KEY_ID is' }),
    ]);
  });

  it('needs an ALARM_EMAIL that is an e-mail address, and hands it to the stack', () => {
    expect(problemsOf(validEnv({ ALARM_EMAIL: 'ops at clinic' }))).toEqual([
      expect.objectContaining({ variable: 'ALARM_EMAIL', problem: 'is not an e-mail address' }),
    ]);
    const loaded = loadDeploySettings(validEnv());
    expect(loaded.ok && loaded.settings.alarmEmail).toBe('alarms@owlhealth.example');
  });

  it('takes an optional VERIFY_SERVICE_SID and SESSION_SECRET with the admin page’s rules', () => {
    const problems = problemsOf(validEnv({ VERIFY_SERVICE_SID: 'VA123', SESSION_SECRET: 'short' }));
    expect(problems.map((p) => p.variable)).toEqual(['VERIFY_SERVICE_SID', 'SESSION_SECRET']);
  });

  it('forwards the optional HL7 zones and FHIR server settings verbatim, and nothing when they are unset', () => {
    const given = {
      EHR_DEFAULT_TIMEZONE: 'America/New_York',
      EHR_FACILITY_TIMEZONES: '{"NORTH":"America/Chicago"}',
      FHIR_BASE_URL: 'https://ehr.example.org/fhir/r4',
      FHIR_BEARER_TOKEN: 'fhir-token-0123456789abcdef',
    };
    const r = loadDeploySettings(validEnv(given));
    expect(r.ok && r.settings.intake).toEqual(given);
    const none = loadDeploySettings(validEnv());
    expect(none.ok && none.settings.intake).toEqual({});
  });

  it.each([
    [{ EHR_DEFAULT_TIMEZONE: 'EST' }, 'EHR_DEFAULT_TIMEZONE'],
    [{ EHR_DEFAULT_TIMEZONE: '+05:00' }, 'EHR_DEFAULT_TIMEZONE'],
    [{ EHR_FACILITY_TIMEZONES: 'NORTH=America/Chicago' }, 'EHR_FACILITY_TIMEZONES'],
    [{ EHR_FACILITY_TIMEZONES: '{"NORTH":"Mars/Olympus"}' }, 'EHR_FACILITY_TIMEZONES'],
    [{ FHIR_BASE_URL: 'ftp://ehr.example.org/fhir', FHIR_BEARER_TOKEN: 'fhir-token-0123456789abcdef' }, 'FHIR_BASE_URL'],
    [{ FHIR_BASE_URL: 'https://ehr.example.org/fhir' }, 'FHIR_BASE_URL'],
    [{ FHIR_BEARER_TOKEN: 'fhir-token-0123456789abcdef' }, 'FHIR_BASE_URL'],
    [
      { FHIR_BASE_URL: 'https://ehr.example.org/fhir', FHIR_CLIENT_ID: 'reminders', FHIR_CLIENT_SECRET: 'client-secret-0123' },
      'FHIR_TOKEN_URL',
    ],
  ])('refuses the intake settings %j as the Functions would (%s)', (given, variable) => {
    const problems = problemsOf(validEnv(given));
    expect(problems.map((p) => p.variable)).toContain(variable);
    expect(problems.every((p) => p.fix !== '')).toBe(true);
  });

  it('forwards SIMULATION_ENABLED and SIMULATION_ALLOWED_PHONES to the Functions when set, and nothing when unset', () => {
    const given = { SIMULATION_ENABLED: 'true', SIMULATION_ALLOWED_PHONES: '+14155550100, +1 415 555 0101' };
    const r = loadDeploySettings(validEnv(given));
    expect(r.ok && r.settings.simulation).toEqual(given);
    expect(
      r.ok &&
        functionsEnvironment(r.settings, {
          outputs: { BucketName: 'b', Region: 'us-east-1' } as never,
          key: { accessKeyId: 'AKIA', secretAccessKey: 's' },
          verifyServiceSid: 'VA',
          sessionSecret: 'x',
        }),
    ).toMatchObject(given);
    const none = loadDeploySettings(validEnv());
    expect(none.ok && none.settings.simulation).toEqual({});
    expect(problemsOf(validEnv({ SIMULATION_ENABLED: 'yes' })).map((p) => p.variable)).toEqual(['SIMULATION_ENABLED']);
    const phones = problemsOf(validEnv({ SIMULATION_ALLOWED_PHONES: '+14155550100,4155550101' }));
    expect(phones.map((p) => p.variable)).toEqual(['SIMULATION_ALLOWED_PHONES']);
    expect(phones[0]?.problem).toBe('entry 2 is not an E.164 phone number');
  });

  it('treats the FHIR bearer token and client secret as secrets (masked in output)', () => {
    const values = secretValues(validEnv({ FHIR_BEARER_TOKEN: 'fhir-token-0123456789abcdef', FHIR_CLIENT_SECRET: 'client-secret-0123' }));
    expect(values).toEqual(expect.arrayContaining(['fhir-token-0123456789abcdef', 'client-secret-0123']));
  });

  it('needs only credentials and the customer code for status and destroy', () => {
    const r = loadTargetSettings({
      TWILIO_ACCOUNT_SID: validEnv().TWILIO_ACCOUNT_SID,
      TWILIO_API_KEY_SID: validEnv().TWILIO_API_KEY_SID,
      TWILIO_API_KEY_SECRET: validEnv().TWILIO_API_KEY_SECRET,
      CUSTOMER_CODE: 'acme',
      AWS_PROFILE: 'deployer',
    });
    expect(r).toMatchObject({ ok: true, settings: { stackName: 'Appointments-acme', region: 'us-east-1', aws: { profile: 'deployer' } } });
  });
});

describe('reading .env', () => {
  it('merges the file under the process environment, without touching process.env', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pam-env-'));
    const file = path.join(dir, '.env');
    writeFileSync(file, 'CUSTOMER_CODE=fromfile\nCUSTOMER_NAME="Owl Health"\nAWS_REGION=eu-west-1\n');
    const { env, fileFound } = readDeployEnv(file, { AWS_REGION: 'us-east-2' });
    expect(fileFound).toBe(true);
    expect(env).toEqual({ CUSTOMER_CODE: 'fromfile', CUSTOMER_NAME: 'Owl Health', AWS_REGION: 'us-east-2' });
    expect(process.env.CUSTOMER_CODE).toBeUndefined();
    expect(readDeployEnv(path.join(dir, 'missing'), {}).fileFound).toBe(false);
  });
});

describe('masking', () => {
  it('replaces every secret, longest first, and leaves short values alone', () => {
    const m = new Masker(['abcdefgh', 'abcdefgh-longer', 'short']);
    expect(m.mask('key=abcdefgh-longer other=abcdefgh short')).toBe('key=**** other=**** short');
  });
});
