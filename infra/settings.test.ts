import { describe, expect, it } from 'vitest';
import { readDeploySettings, type Env } from './settings';

const read = (context: Record<string, unknown>, env: Env = {}) => readDeploySettings((k) => context[k], env);

describe('readDeploySettings', () => {
  it('defaults to the customer code "local" and names the stack after it', () => {
    const s = read({});
    expect(s.stackName).toBe('Appointments-local');
    expect(s.props).toMatchObject({ customerCode: 'local', deleteDataOnDestroy: false, reminders: {} });
    expect(s.props.sweepSchedule).toBeUndefined();
  });

  it('takes CUSTOMER_CODE from the environment and lets context override it', () => {
    expect(read({}, { CUSTOMER_CODE: 'acme' }).stackName).toBe('Appointments-acme');
    expect(read({ customerCode: 'beta' }, { CUSTOMER_CODE: 'acme' }).stackName).toBe('Appointments-beta');
  });

  it('treats empty environment values as unset, as the config module does', () => {
    expect(read({}, { CUSTOMER_CODE: '  ', REMINDER_FIRST_TIMING: '' }).props).toMatchObject({ customerCode: 'local', reminders: {} });
  });

  it('passes reminder settings, Twilio ids, schedule, timeout and memory through', () => {
    const s = read(
      { sweepSchedule: 'rate(5 minutes)' },
      {
        REMINDER_FIRST_TIMING: '7200',
        REMINDER_OUTREACH_START: '0800',
        TWILIO_FLOW_SID: 'FW0123',
        TWILIO_PHONE_NUMBER: '+14155550100',
        SWEEP_TIMEOUT_SECONDS: '120',
        SWEEP_MEMORY_MB: '512',
        LOG_LEVEL: 'debug',
        ALARM_EMAIL: 'ops@clinic.example',
      },
    );
    expect(s.props.reminders).toEqual({ firstTiming: '7200', outreachStart: '0800' });
    expect(s.props.sweepSchedule?.expressionString).toBe('rate(5 minutes)');
    expect(s.props.sweepTimeout?.toSeconds()).toBe(120);
    expect(s.props.sweepMemorySize).toBe(512);
    expect(s.props).toMatchObject({
      twilioFlowSid: 'FW0123',
      twilioPhoneNumber: '+14155550100',
      alarmEmail: 'ops@clinic.example',
      sweepEnvironment: { LOG_LEVEL: 'debug' },
    });
  });

  it('makes the bucket deletable only through the deleteData context flag, never from the environment', () => {
    expect(read({ deleteData: 'true' }).props.deleteDataOnDestroy).toBe(true);
    expect(read({ deleteData: true }).props.deleteDataOnDestroy).toBe(true);
    expect(read({}, { deleteData: 'true', DELETE_DATA: 'true' }).props.deleteDataOnDestroy).toBe(false);
  });

  it('takes the Functions key slots from context only, as the deploy passes them', () => {
    expect(read({ functionsKeys: 'a,b' }).props.functionsKeySlots).toEqual(['a', 'b']);
    expect(read({}, { functionsKeys: 'b', FUNCTIONS_KEYS: 'b' }).props.functionsKeySlots).toBeUndefined();
    expect(() => read({ functionsKeys: 'a,c' })).toThrow(/functionsKeys "a,c"/);
  });

  it('reports every unreadable value at once', () => {
    expect(() => read({ sweepSchedule: 'every 5 minutes' }, { SWEEP_TIMEOUT_SECONDS: '5m', SWEEP_MEMORY_MB: 'lots' })).toThrow(
      /SWEEP_SCHEDULE[\s\S]*SWEEP_TIMEOUT_SECONDS[\s\S]*SWEEP_MEMORY_MB/,
    );
  });

  it('turns the raw-body receiver on with RAW_RECEIVER=true and hands it the non-secret intake settings only', () => {
    expect(read({}).props.rawReceiver).toBeUndefined();
    const s = read(
      { RAW_RECEIVER: 'true', EHR_FACILITY_TIMEZONES: { NORTH: 'America/Chicago' } },
      {
        EHR_DEFAULT_TIMEZONE: 'America/New_York',
        FHIR_BASE_URL: 'https://ehr.example.org/fhir',
        FHIR_CLIENT_SECRET: 'never-in-the-environment',
        EHR_API_KEY: 'k'.repeat(32),
      },
    );
    expect(s.props.rawReceiver).toBe(true);
    expect(s.props.receiverEnvironment).toEqual({
      EHR_DEFAULT_TIMEZONE: 'America/New_York',
      EHR_FACILITY_TIMEZONES: '{"NORTH":"America/Chicago"}',
      FHIR_BASE_URL: 'https://ehr.example.org/fhir',
    });
    expect(read({ RAW_RECEIVER: 'false' }, { EHR_DEFAULT_TIMEZONE: 'America/New_York' }).props).not.toHaveProperty('receiverEnvironment');
    expect(() => read({ RAW_RECEIVER: 'yes' })).toThrow(/RAW_RECEIVER .* "yes" must be true or false/);
  });
});
