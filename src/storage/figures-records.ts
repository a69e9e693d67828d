import { FIGURES, zeroCounts, type DayFigures, type Figure } from '../domain/figures';

/**
 * What the memory and S3 adapters share about the figures and the opt-out listing: the shape of a
 * day's counter record, and how the listing pages. Kept apart so both stores write the same bytes.
 */

/** Compare-and-set rounds for one increment; many more than concurrent writers of one day's record ever need. */
export const FIGURE_CAS_ATTEMPTS = 40;

/** Opt-out records read for one page at most (phones opted back in are skipped), so a page stays bounded. */
export const MAX_OPT_OUT_READS = 500;

/**
 * The shard of an attempt: first the one the fact id hashes to, so concurrent writers start
 * spread over the shards instead of all meeting on one, then any (a writer that met a conflict).
 */
export function shardFor(factId: string, attempt: number, shards: number): number {
  if (attempt > 0) return Math.floor(Math.random() * shards);
  let h = 0;
  for (let i = 0; i < factId.length; i += 1) h = (h * 31 + factId.charCodeAt(i)) >>> 0;
  return h % shards;
}

/** Sums the shards read for each day, in the order of `days`; a day without shards is zeros. */
export function sumShards(days: string[], shards: { day: string; stored: unknown }[]): DayFigures[] {
  const byDay = new Map(days.map((d) => [d, dayFiguresOf(d, undefined)]));
  for (const s of shards) {
    const total = byDay.get(s.day);
    if (!total) continue;
    const part = dayFiguresOf(s.day, s.stored);
    for (const f of FIGURES) total.counts[f] += part.counts[f];
  }
  return days.map((d) => byDay.get(d) as DayFigures);
}

/** The months (`YYYY-MM`) the days fall in, each once. */
export function monthsOf(days: string[]): string[] {
  return [...new Set(days.map((d) => d.slice(0, 7)))];
}

/** A day's counters as stored: unknown or damaged content reads as zeros rather than failing the page. */
export function dayFiguresOf(day: string, stored: unknown): DayFigures {
  const counts = zeroCounts();
  const raw = (stored as { counts?: Record<string, unknown> } | undefined)?.counts;
  if (raw && typeof raw === 'object') {
    for (const f of FIGURES) {
      const v = raw[f];
      if (typeof v === 'number' && Number.isInteger(v) && v >= 0) counts[f] = v;
    }
  }
  return { day, counts };
}

/** The record after counting one more of each of `figures`. */
export function addCount(stored: unknown, day: string, figures: readonly Figure[]): DayFigures {
  const counts = { ...dayFiguresOf(day, stored).counts };
  for (const f of figures) counts[f] += 1;
  return { day, counts };
}

/** The figures of a fact as a list, and the marker segment they name (`sent+confirmation_asks`). */
export function factFigures(figures: Figure | readonly Figure[]): { list: readonly Figure[]; name: string } {
  const list = typeof figures === 'string' ? [figures] : figures;
  if (list.length === 0) throw new Error('a fact is counted under at least one figure');
  return { list, name: list.join('+') };
}

/** Whether `phone` (E.164) contains the digits of `fragment`; every phone for an empty fragment. */
export function matchesFragment(phone: string, fragment: string | undefined): boolean {
  const digits = (fragment ?? '').replace(/\D/g, '');
  return digits === '' || phone.replace(/\D/g, '').includes(digits);
}

/** The key a listing resumes after, from a cursor the listing returned (an encoded phone); undefined for none or a malformed one. */
export function optOutCursorKey(cursor: string | undefined): string | undefined {
  return cursor && /^[A-Za-z0-9_-]+$/.test(cursor) ? `optouts/${cursor}.json` : undefined;
}
