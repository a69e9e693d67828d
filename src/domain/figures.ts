import { DateTime } from 'luxon';
import type { NoticeKind } from './notice';
import { parseAppointmentZone } from './time';

/**
 * The dashboard's daily figures. Each is a count of facts, and each fact is counted once, on the
 * day it happened where the appointment is (its own time zone; UTC for a fact with no
 * appointment), by the code path that records it.
 */
export const FIGURES = [
  /** Appointment texts and reminders the flow was started for. */
  'sent',
  /** Of those, the ones whose text asks the patient to reply 1 to confirm (booked, rescheduled, reminder). */
  'confirmation_asks',
  /** Twilio said delivered (every text whose status Twilio reports: those sent through the Messaging Service). */
  'delivered',
  /** Twilio said failed or undelivered (one per text, whichever came first). */
  'failed',
  /** Patients who asked to confirm by text (recorded and sent to the EHR). */
  'confirmed_by_text',
  /** Patients who asked to cancel by text. */
  'canceled_by_text',
  /** NOSHOWED events from the EHR. */
  'no_shows',
  /** Phones that opted out (a STOP word or a revocation in other words), counted when the ledger changes. */
  'opt_outs',
] as const;
export type Figure = (typeof FIGURES)[number];

export type FigureCounts = Record<Figure, number>;

export interface DayFigures {
  /** `YYYY-MM-DD`. */
  day: string;
  counts: FigureCounts;
}

export function zeroCounts(): FigureCounts {
  return Object.fromEntries(FIGURES.map((f) => [f, 0])) as FigureCounts;
}

/** Whether the text of each kind asks for a confirmation (studio/flow.json: "Reply 1 to confirm"). */
export const ASKING_KINDS = {
  BOOKED: true,
  RESCHEDULED: true,
  MODIFIED: false,
  CONFIRMED: false,
  CANCELED: false,
  NOSHOWED: false,
  REMIND: true,
} as const satisfies Record<NoticeKind | 'REMIND', boolean>;

export function asksForConfirmation(kind: NoticeKind | 'REMIND'): boolean {
  return ASKING_KINDS[kind];
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The calendar day of `isoUtc` in `zone` (an appointment's IANA zone or ±HHMM), UTC when absent or unknown. */
export function figureDay(isoUtc: string, zone?: string): string {
  const parsed = zone ? parseAppointmentZone(zone) : undefined;
  const at = DateTime.fromISO(isoUtc, { zone: parsed?.ok ? parsed.value.zone : 'utc' });
  return at.isValid ? at.toISODate() : isoUtc.slice(0, 10);
}

/** Every day from `from` to `to`, both included, oldest first. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  let d = DateTime.fromISO(from, { zone: 'utc' });
  const end = DateTime.fromISO(to, { zone: 'utc' });
  // Bounded by the caller's period check; the cap keeps a bad call from looping for long.
  for (let i = 0; i < MAX_PERIOD_DAYS && d <= end; i += 1, d = d.plus({ days: 1 })) days.push(d.toISODate() as string);
  return days;
}

/** The longest period the dashboard reads at once: one read per day, so this bounds a page load. */
export const MAX_PERIOD_DAYS = 92;

export type PeriodProblem = { field: 'from' | 'to'; message: string };

/** Checks a period the page asks for: real days, `from` not after `to`, at most MAX_PERIOD_DAYS. */
export function checkPeriod(from: string, to: string): PeriodProblem | undefined {
  for (const [field, v] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (!DAY.test(v) || !DateTime.fromISO(v, { zone: 'utc' }).isValid) return { field, message: 'must be a date as YYYY-MM-DD' };
  }
  if (from > to) return { field: 'from', message: 'must not be after to' };
  const days = DateTime.fromISO(to, { zone: 'utc' }).diff(DateTime.fromISO(from, { zone: 'utc' }), 'days').days + 1;
  if (days > MAX_PERIOD_DAYS) return { field: 'from', message: `the period must be at most ${MAX_PERIOD_DAYS} days` };
  return undefined;
}

/** Sums the days of a period. */
export function totalCounts(days: DayFigures[]): FigureCounts {
  const total = zeroCounts();
  for (const d of days) for (const f of FIGURES) total[f] += d.counts[f];
  return total;
}

/**
 * Confirmation rate: patients who asked to confirm by text, over the texts that asked them to
 * (booked, rescheduled, reminders). Null when no text asked. Both counts are of the same period,
 * so a reply the day after its reminder can put a single day over 100 %; totals over a week are
 * what to read.
 */
export function confirmationRate(c: FigureCounts): number | null {
  return c.confirmation_asks === 0 ? null : c.confirmed_by_text / c.confirmation_asks;
}
