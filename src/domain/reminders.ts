import { wantsReminders, type AppointmentState } from './appointment';

/** Lead times and outreach window in minutes (the seed's HHMM variables, converted). */
export interface ReminderPolicy {
  firstLeadMinutes: number;
  /** 0 turns the second reminder off. */
  secondLeadMinutes: number;
  outreachStartMinutes: number;
  outreachFinishMinutes: number;
}

const MINUTE = 60_000;

/**
 * When the sweep must next look at an appointment: the earliest reminder not yet sent, or the
 * appointment time (to mark it EXPIRED). Undefined when nothing is left to do. The outreach
 * window is applied by the sweep when it looks; this only has to be early enough.
 */
export function nextCheckAt(state: AppointmentState, policy: ReminderPolicy, nowIso: string): string | undefined {
  const start = Date.parse(state.facts.appointment_datetime_utc);
  const active = ['QUEUED', 'REMINDED-1', 'REMINDED-2'].includes(state.status);
  if (!active) return undefined;
  const expiry = new Date(start).toISOString();
  if (!wantsReminders(state)) return expiry;
  const leads = [
    { n: 1, minutes: policy.firstLeadMinutes },
    { n: 2, minutes: policy.secondLeadMinutes },
  ].filter((l) => l.minutes > 0 && !state.reminders_sent.some((r) => r.n === l.n));
  const candidates = leads.map((l) => start - l.minutes * MINUTE).filter((t) => t < start);
  if (candidates.length === 0) return expiry;
  const earliest = Math.max(Math.min(...candidates), Math.min(Date.parse(nowIso), start));
  return new Date(earliest).toISOString();
}
