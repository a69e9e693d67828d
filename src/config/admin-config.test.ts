import { describe, expect, it } from 'vitest';
import { FUNCTIONS_ENV } from '../../test/fixtures/env';
import { checkSettings, loadAdminConfig } from './admin-config';

const VALID = FUNCTIONS_ENV;

describe('admin settings check', () => {
  it('is green for a complete configuration', () => {
    const report = checkSettings(VALID);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('reports every problem at once, each with a fix', () => {
    const report = checkSettings({
      ...VALID,
      APPLICATION_PASSWORD: 'short',
      ADMINISTRATOR_PHONE: '555',
      VERIFY_SERVICE_SID: undefined,
      REMINDER_SECOND_TIMING: '24h',
    });
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.variable).sort()).toEqual([
      'ADMINISTRATOR_PHONE',
      'APPLICATION_PASSWORD',
      'REMINDER_SECOND_TIMING',
      'VERIFY_SERVICE_SID',
    ]);
    for (const p of report.problems) expect(p.fix).not.toBe('');
  });

  it('refuses a session secret that is the Twilio auth token', () => {
    const loaded = loadAdminConfig({ ...VALID, SESSION_SECRET: 'a'.repeat(32), AUTH_TOKEN: 'a'.repeat(32) });
    expect(loaded.ok).toBe(false);
    if (!loaded.ok)
      expect(loaded.problems[0]).toMatchObject({ variable: 'SESSION_SECRET', problem: expect.stringContaining('AUTH_TOKEN') });
  });

  it('never reports the value of a secret', () => {
    const report = checkSettings({ ...VALID, EHR_API_KEY: 'tooShortKey9' });
    const text = JSON.stringify(report);
    for (const secret of ['tooShortKey9', VALID.AUTH_TOKEN, VALID.SESSION_SECRET, VALID.APPLICATION_PASSWORD, VALID.IE_SIGNING_SECRET]) {
      expect(text).not.toContain(secret);
    }
    expect(report.variables.find((v) => v.variable === 'S3_BUCKET')?.value).toBe('appointments-test');
  });
});
