import { describe, expect, it } from 'vitest';
import { parseTwilioSecret } from '../runtime/sweep';
import { CustomerCode, hhmmMinutes, MAX_CLOCK_MINUTES, MAX_LEAD_MINUTES } from './rules';

describe('the shared configuration rules', () => {
  it.each([
    ['4800', MAX_LEAD_MINUTES, 2880],
    ['0000', MAX_CLOCK_MINUTES, 0],
    ['2400', MAX_CLOCK_MINUTES, 1440],
    ['2401', MAX_CLOCK_MINUTES, undefined],
    ['0860', MAX_CLOCK_MINUTES, undefined],
    ['7201', MAX_LEAD_MINUTES, 4321],
    ['720', MAX_LEAD_MINUTES, undefined],
    ['48h', MAX_LEAD_MINUTES, undefined],
  ])('reads HHMM %j (at most %i minutes) as %j', (text, max, minutes) => {
    expect(hhmmMinutes(text, max)).toBe(minutes);
  });

  it.each(['acme', 'owlhealth2', 'a'.repeat(20)])('takes the customer code %j', (code) => {
    expect(CustomerCode.safeParse(code).success).toBe(true);
  });

  it.each(['', 'Acme', 'acme-clinic', 'acme clinic', 'a'.repeat(21), 'acme_1'])('refuses the customer code %j', (code) => {
    expect(CustomerCode.safeParse(code).success).toBe(false);
  });
});

describe('the Twilio secret as the sweep reads it', () => {
  const written = {
    account_sid: `AC${'1'.repeat(32)}`,
    api_key_sid: `SK${'2'.repeat(32)}`,
    api_key_secret: 's'.repeat(32),
    ie_signing_secret: 'i'.repeat(32),
  };

  it('reads what the deploy writes', () => {
    expect(parseTwilioSecret(JSON.stringify(written))).toEqual(written);
  });

  it('names the bad fields, never their values', () => {
    const err = (() => {
      try {
        parseTwilioSecret(JSON.stringify({ ...written, api_key_sid: 'SK-not-a-sid', api_key_secret: 'short-secret' }));
      } catch (e) {
        return e as Error & { code?: string };
      }
      return undefined;
    })();
    expect(err?.code).toBe('misconfigured');
    expect(err?.message).toMatch(/api_key_sid, api_key_secret/);
    expect(err?.message).not.toMatch(/SK-not-a-sid|short-secret/);
  });

  it('refuses a secret that is not JSON', () => {
    expect(() => parseTwilioSecret('account_sid=AC1')).toThrow(/not JSON/);
  });
});
