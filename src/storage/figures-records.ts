import { FIGURES, zeroCounts, type DayFigures, type Figure } from '../domain/figures';

/**
 * What the memory and S3 adapters share about the figures and the opt-out listing: the shape of a
 * day's counter record, and how the listing pages. Kept apart so both stores write the same bytes.
 */

/** Compare-and-set rounds for one increment; many more than concurrent writers of one day's record ever need. */
export const FIGURE_CAS_ATTEMPTS = 40;

/** Opt-out records read for one page at most (phones opted back in are skipped), so a page stays bounded. */
export const MAX_OPT_OUT_READS = 500;

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

/** The record after counting one more `figure`. */
export function addCount(stored: unknown, day: string, figure: Figure): DayFigures {
  const current = dayFiguresOf(day, stored);
  return { day, counts: { ...current.counts, [figure]: current.counts[figure] + 1 } };
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
