import { DateTime, type Zone } from 'luxon';
import type { ReminderPolicy } from './reminder-plan';
import { parseAppointmentZone } from './time';

/**
 * The outreach window in the patient's wall-clock time: whether an instant falls inside it, when
 * it next opens, and local calendar days. DST gaps and overlaps are handled here so the planner
 * can think in instants. Pure.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY_MINUTES = 24 * 60;

export interface OutreachWindow {
  zone: Zone;
  start: number;
  finish: number;
}

export function windowOf(policy: ReminderPolicy, zone: Zone): OutreachWindow {
  // 2400 as a start means midnight, the same instant as 0000.
  const start = policy.outreachStartMinutes >= DAY_MINUTES ? policy.outreachStartMinutes - DAY_MINUTES : policy.outreachStartMinutes;
  return { zone, start, finish: Math.min(policy.outreachFinishMinutes, DAY_MINUTES) };
}

function localMinute(ms: number, zone: Zone): number {
  const t = DateTime.fromMillis(ms, { zone });
  return t.hour * 60 + t.minute + (t.second * 1000 + t.millisecond) / MINUTE;
}

export function inWindow(ms: number, w: OutreachWindow): boolean {
  const m = localMinute(ms, w.zone);
  if (w.start < w.finish) return m >= w.start && m < w.finish;
  if (w.start > w.finish) return m >= w.start || m < w.finish;
  return false;
}

/** The local calendar date of an instant, as a UTC midnight (for plain calendar arithmetic). */
function localDateOf(ms: number, zone: Zone): number {
  const t = DateTime.fromMillis(ms, { zone });
  return Date.UTC(t.year, t.month - 1, t.day);
}

/**
 * The instants at which the wall clock of `zone` first reads `minute` on the local date `date`:
 * one normally, two in a fall-back overlap. In a spring-forward gap it is the end of the gap,
 * the first instant whose wall time is at or after `minute` (luxon would add the gap instead).
 */
function wallInstants(date: number, minute: number, zone: Zone): number[] {
  const wall = date + minute * MINUTE;
  const offsets = new Set<number>();
  for (const h of [-36, -12, 0, 12, 36]) offsets.add(zone.offset(wall + h * HOUR));
  const exact = [...offsets].map((o) => wall - o * MINUTE).filter((t) => zone.offset(t) * MINUTE === wall - t);
  if (exact.length > 0) return exact.sort((a, b) => a - b);
  const sorted = [...offsets].sort((a, b) => a - b);
  let lo = wall - (sorted.at(-1) ?? 0) * MINUTE;
  let hi = wall - (sorted[0] ?? 0) * MINUTE;
  // Inside the gap "wall time has reached `minute`" flips once from false to true.
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (mid + zone.offset(mid) * MINUTE >= wall) hi = mid;
    else lo = mid;
  }
  return [hi];
}

/** The first instant after `ms` at which the window opens; undefined if it never does. */
export function nextOpening(ms: number, w: OutreachWindow): number | undefined {
  const today = localDateOf(ms, w.zone);
  for (let d = 0; d <= 2; d += 1) {
    for (const t of wallInstants(today + d * 24 * HOUR, w.start, w.zone)) {
      if (t > ms && inWindow(t, w)) return t;
    }
  }
  return undefined;
}

export function firstInWindow(ms: number, w: OutreachWindow): number | undefined {
  return inWindow(ms, w) ? ms : nextOpening(ms, w);
}

export function startOfNextLocalDay(ms: number, zone: Zone): number {
  const [first] = wallInstants(localDateOf(ms, zone) + 24 * HOUR, 0, zone);
  return first ?? ms + 24 * HOUR;
}

/** The patient's local calendar day (YYYY-MM-DD) of an instant, for counting the daily cap. */
export function reminderLocalDay(appointmentTimezone: string, atIso: string): string | undefined {
  const zone = parseAppointmentZone(appointmentTimezone);
  const ms = Date.parse(atIso);
  if (!zone.ok || Number.isNaN(ms)) return undefined;
  return DateTime.fromMillis(ms, { zone: zone.value.zone }).toISODate() ?? undefined;
}
