/**
 * The structural E.164 rule, written once: a plus, a country code that does not start with 0, 7 to
 * 15 digits in all (ITU-T E.164 §6). It says nothing of numbering plans: whether a number is valid
 * for its country is libphonenumber's job (phone.ts), at the intake. No imports, so the config
 * rules and the CDK stack load it at synth time.
 */
export const E164_PATTERN = /^\+[1-9]\d{6,14}$/;

export function isE164(value: string): boolean {
  return E164_PATTERN.test(value);
}

/** Spaces, parentheses, dots and hyphens removed, as Twilio does before it reads a number. */
export function compactPhone(input: string): string {
  return input.trim().replace(/[\s().-]/g, '');
}
