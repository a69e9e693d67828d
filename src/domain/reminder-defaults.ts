/**
 * The reminder settings' defaults, written once: the policy (reminder-plan.ts), the config's HHMM
 * variables (config/rules.ts), the deploy and the CDK stack all read them from here. No imports, so
 * the stack can load it at synth time without the domain's dependencies.
 */
export const DEFAULT_REMINDER_POLICY = {
  /** REMINDER_FIRST_TIMING 4800: 48 hours before. */
  firstLeadMinutes: 48 * 60,
  /** REMINDER_SECOND_TIMING 2400: 24 hours before. */
  secondLeadMinutes: 24 * 60,
  /** 08:00–21:00 in the patient's zone, the hours the TCPA allows (47 U.S.C. § 227, 8 a.m. to 9 p.m.). */
  outreachStartMinutes: 8 * 60,
  outreachFinishMinutes: 21 * 60,
  /** The reference app promises at most 2 reminders a day. */
  maxRemindersPerLocalDay: 2,
  /** REMINDER_MIN_GAP_HOURS 12. */
  minGapMinutes: 12 * 60,
} as const satisfies Record<string, number>;

/** Minutes as the reference app's HHMM spelling (hours may pass 24 for lead times: 2880 → "4800"). */
export function minutesAsHhmm(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `${String(h).padStart(2, '0')}${String(m).padStart(2, '0')}`;
}
