import { createHash } from 'node:crypto';
import type { AppointmentState } from '../domain/appointment';
import { listedOf, type Listed } from '../domain/filing';
import { isRemindable } from '../domain/statuses';
import type { ListingFilter, ListingOrder, ListingPage, ListingQuery } from './appointment-store';
import { decodeSegment, encodeSegment } from './keys';

/*
 * The admin listing indexes. S3 has no query, so the order and the filterable fields live in the
 * key itself: a page is one ListObjectsV2 (StartAfter = the cursor) filtered on the key, plus one
 * GET of the state per row shown. No object body is ever read to decide whether a row matches.
 *
 *   index/by-time/<appointment utc>.<tail>              appointments by appointment time, oldest first
 *   index/by-change/<newest-first last change>.<tail>   appointments by their last change, newest first
 *   index/name/<hex of a name word>/<hex of the whole name>/<id>   one entry per word of the name
 *
 *   <tail> = <id>.<appointment utc>.<last change>.<disposition class>.<flags>.<location tag>.<provider tag>
 *
 * The disposition class is the disposition, except that QUEUED, REMINDED-1 and REMINDED-2 share
 * one (`WAITING`): a reminder going out then changes no key, so it costs the sweep no index
 * request, and a filter on one of the three reads the class's states and keeps the exact ones.
 *
 * Times are compacted (`20261201T093000000Z`), ids are base64url like every other key, so '.'
 * separates fields unambiguously. Flags: `u` undeliverable, `r` the patient asked to confirm or
 * cancel, `n` neither. Location and provider are tagged by a short digest (a location may be 500
 * characters; S3 keys stop at 1024 bytes); a tag match is confirmed on the state read anyway.
 *
 * Name words are hex, not base64url: hex keeps prefixes (the hex of "an" begins the hex of "ana"),
 * so a ListObjectsV2 with Prefix is a prefix search, and it is one-to-one like base64url.
 *
 * An entry is written before its state and the replaced entry removed after it, so a crash leaves
 * at worst an entry that does not match its state. Readers recompute the keys from the state they
 * read and drop entries that differ: such an entry is stale, never shown.
 */

export const BY_TIME_PREFIX = 'index/by-time/';
export const BY_CHANGE_PREFIX = 'index/by-change/';
export const NAME_INDEX_PREFIX = 'index/name/';

const FAR_FUTURE_MS = 9_999_999_999_999;

/** `2026-12-01T09:30:00Z` → `20261201T093000000Z`; sorts as the instants do. */
export function compactInstant(iso: string): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return '00000000T000000000Z';
  return new Date(ms).toISOString().replace(/[-:.]/g, '');
}

function newestFirst(iso: string): string {
  const ms = Date.parse(iso);
  return String(FAR_FUTURE_MS - (Number.isFinite(ms) ? ms : 0)).padStart(13, '0');
}

/** A short digest of a location or provider id, '0' for none: what the key carries for filtering. */
export function tagOf(value: string | undefined): string {
  if (value === undefined || value === '') return '0';
  return createHash('sha256').update(value, 'utf8').digest('base64url').slice(0, 11);
}

export interface ListingEntry {
  key: string;
  appointment_id: string;
  appointment_at: string;
  last_change: string;
  disposition: string;
  undeliverable: boolean;
  patient_request: boolean;
  location_tag: string;
  provider_tag: string;
}

/** What a key carries of a disposition (see above): `WAITING` for the ones an unanswered reminder moves between. */
export function dispositionClass(disposition: string): string {
  return isRemindable(disposition) ? 'WAITING' : disposition;
}

function tailOf(l: Listed): string {
  const flags = `${l.undeliverable ? 'u' : ''}${l.patient_request ? 'r' : ''}` || 'n';
  return [
    encodeSegment(l.id),
    compactInstant(l.at),
    compactInstant(l.changed),
    dispositionClass(l.disposition),
    flags,
    tagOf(l.location),
    tagOf(l.provider),
  ].join('.');
}

export function listingKey(l: Listed, order: ListingOrder): string {
  return order === 'time'
    ? `${BY_TIME_PREFIX}${compactInstant(l.at)}.${tailOf(l)}`
    : `${BY_CHANGE_PREFIX}${newestFirst(l.changed)}.${tailOf(l)}`;
}

export function listingPrefix(order: ListingOrder): string {
  return order === 'time' ? BY_TIME_PREFIX : BY_CHANGE_PREFIX;
}

/** Where a listing starts: the cursor, else (by time) just before `from`. */
export function listingStartAfter(order: ListingOrder, from: string | undefined, cursor: string | undefined): string | undefined {
  if (cursor !== undefined && cursor.startsWith(listingPrefix(order))) return cursor;
  if (order === 'time' && from !== undefined) return `${BY_TIME_PREFIX}${compactInstant(from)}`;
  return undefined;
}

/** True once a by-time listing has passed `to` (exclusive): nothing after can match. */
export function listingPastEnd(order: ListingOrder, key: string, to: string | undefined): boolean {
  return order === 'time' && to !== undefined && key >= `${BY_TIME_PREFIX}${compactInstant(to)}`;
}

/** Reads an entry key, or null for one this layout cannot have made. */
export function parseListingKey(key: string): ListingEntry | null {
  const prefix = key.startsWith(BY_TIME_PREFIX) ? BY_TIME_PREFIX : key.startsWith(BY_CHANGE_PREFIX) ? BY_CHANGE_PREFIX : null;
  if (!prefix) return null;
  const parts = key.slice(prefix.length).split('.');
  if (parts.length !== 8) return null;
  const [, id, at, changed, disposition, flags, location, provider] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  return {
    key,
    appointment_id: decodeSegment(id),
    appointment_at: expandInstant(at),
    last_change: expandInstant(changed),
    disposition,
    undeliverable: flags.includes('u'),
    patient_request: flags.includes('r'),
    location_tag: location,
    provider_tag: provider,
  };
}

function expandInstant(c: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z$/.exec(c);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z` : '';
}

/** Whether an entry can match the filter, judged from its key alone. */
export function entryMatches(entry: ListingEntry, filter: ListingFilter): boolean {
  if (filter.dispositions && filter.dispositions.length > 0 && !filter.dispositions.some((d) => dispositionClass(d) === entry.disposition))
    return false;
  if (filter.location !== undefined && entry.location_tag !== tagOf(filter.location)) return false;
  if (filter.provider_id !== undefined && entry.provider_tag !== tagOf(filter.provider_id)) return false;
  if (filter.from !== undefined && entry.appointment_at < new Date(Date.parse(filter.from)).toISOString()) return false;
  if (filter.to !== undefined && entry.appointment_at >= new Date(Date.parse(filter.to)).toISOString()) return false;
  const attention = filter.attention ?? [];
  if (attention.length > 0 && !attention.some((a) => (a === 'undeliverable' ? entry.undeliverable : entry.patient_request))) return false;
  return true;
}

/** The same test on the state itself, exact (no digests): what a row shown must satisfy. */
export function stateMatches(state: AppointmentState, filter: ListingFilter): boolean {
  const f = state.facts;
  if (filter.dispositions && filter.dispositions.length > 0 && !filter.dispositions.includes(state.disposition)) return false;
  if (filter.location !== undefined && (f.appointment_location ?? '') !== filter.location) return false;
  if (filter.provider_id !== undefined && (f.provider_id ?? '') !== filter.provider_id) return false;
  const at = Date.parse(f.appointment_datetime_utc);
  if (filter.from !== undefined && at < Date.parse(filter.from)) return false;
  if (filter.to !== undefined && at >= Date.parse(filter.to)) return false;
  const attention = filter.attention ?? [];
  if (attention.length > 0 && !attention.some((a) => (a === 'undeliverable' ? !!state.undeliverable : !!state.patient_request)))
    return false;
  return true;
}

/** Lower case, accents and other marks removed, NFKC: how names are compared when searching. */
export function normaliseWord(word: string): string {
  return word.normalize('NFKD').replace(/\p{M}/gu, '').normalize('NFKC').toLocaleLowerCase('en-US');
}

/** The searchable words of a patient's name (first and last), normalised, without repeats. */
export function nameWords(l: Listed): string[] {
  return [...new Set(searchWords(`${l.first_name} ${l.last_name ?? ''}`))];
}

export function hexOf(text: string): string {
  return Buffer.from(text, 'utf8').toString('hex');
}

export function nameIndexPrefix(wordPrefix: string): string {
  return `${NAME_INDEX_PREFIX}${hexOf(normaliseWord(wordPrefix))}`;
}

/** At most this many bytes of the name ride in each name key (S3 keys stop at 1024 bytes). */
const NAME_IN_KEY_BYTES = 160;

/**
 * `index/name/<hex word>/<hex of the whole normalised name>/<id>`: the whole name in the key lets a
 * search of several words be decided from one word's listing, without reading any state.
 */
export function nameIndexKey(word: string, words: string[], appointmentId: string): string {
  const whole = Buffer.from(words.join(' '), 'utf8').subarray(0, NAME_IN_KEY_BYTES).toString('hex');
  return `${NAME_INDEX_PREFIX}${hexOf(word)}/${whole}/${encodeSegment(appointmentId)}`;
}

/** The id and name words of a name index key, or null for one this layout cannot have made. */
export function parseNameKey(key: string): { appointment_id: string; words: string[] } | null {
  const parts = key.slice(NAME_INDEX_PREFIX.length).split('/');
  if (parts.length !== 3 || !parts[2]) return null;
  return {
    appointment_id: decodeSegment(parts[2]),
    words: Buffer.from(parts[1] ?? '', 'hex')
      .toString('utf8')
      .split(' '),
  };
}

/** The normalised words of a search, without empty ones. */
export function searchWords(q: string): string[] {
  return q
    .split(/[\s\-'’.,]+/u)
    .map(normaliseWord)
    .filter((w) => w !== '');
}

/** Every query word starts one of the name's words. */
export function nameMatches(nameWordsOf: string[], query: string[]): boolean {
  return query.length > 0 && query.every((q) => nameWordsOf.some((n) => n.startsWith(q)));
}

export const MAX_NAME_SCAN = 5000;

/**
 * Appointments whose name has every word of `query` as a word prefix, from the listing of the
 * longest word's keys alone (the most selective, usually), at most MAX_NAME_SCAN keys. Unverified
 * against the state: the caller reads and checks it.
 */
export async function findByNameKeys(
  query: string[],
  limit: number,
  list: (prefix: string, startAfter: string | undefined, max: number) => Promise<{ keys: string[]; more: boolean }>,
): Promise<{ ids: string[]; truncated: boolean }> {
  const words = query.map(normaliseWord).filter((w) => w !== '');
  const longest = [...words].sort((a, b) => b.length - a.length)[0];
  if (!longest) return { ids: [], truncated: false };
  const prefix = nameIndexPrefix(longest);
  const ids = new Set<string>();
  let after: string | undefined;
  let scanned = 0;
  for (;;) {
    const got = await list(prefix, after, 1000);
    for (const key of got.keys) {
      scanned += 1;
      const entry = parseNameKey(key);
      if (!entry || !nameMatches(entry.words, words)) continue;
      ids.add(entry.appointment_id);
      if (ids.size > limit) return { ids: [...ids].slice(0, limit), truncated: true };
    }
    if (!got.more || got.keys.length === 0) return { ids: [...ids], truncated: false };
    if (scanned >= MAX_NAME_SCAN) return { ids: [...ids], truncated: true };
    after = got.keys[got.keys.length - 1];
  }
}

/** Every listing key of a state: the two orders and one per name word. */
export function allListingKeys(l: Listed): string[] {
  const words = nameWords(l);
  return [listingKey(l, 'time'), listingKey(l, 'change'), ...words.map((w) => nameIndexKey(w, words, l.id))];
}

/** Keys `next` needs that `previous` did not have (written before the state). */
export function keysToAdd(next: Listed, previous: Listed | null | undefined): string[] {
  const had = new Set(previous ? allListingKeys(previous) : []);
  return allListingKeys(next).filter((k) => !had.has(k));
}

/** Keys `previous` had that `next` does not (removed after the state is written). */
export function keysToDrop(previous: Listed, next: Listed): string[] {
  const keep = new Set(allListingKeys(next));
  return allListingKeys(previous).filter((k) => !keep.has(k));
}

export const MAX_LISTING_PAGE = 100;
const DEFAULT_MAX_SCAN = 5000;
const LIST_BATCH = 1000;

/** How a store lists keys and reads states, for `readListing`. */
export interface ListingIo {
  /** Keys under `prefix` after `startAfter`, in S3's order, at most `max`; `more` when the listing did not reach the end. */
  list(prefix: string, startAfter: string | undefined, max: number): Promise<{ keys: string[]; more: boolean }>;
  /** The state, null when there is none, 'unreadable' when it exists but cannot be read. */
  getState(appointmentId: string): Promise<AppointmentState | null | 'unreadable'>;
}

/**
 * One page of the listing, the same for every store: walk the index from the cursor, keep the
 * entries whose key matches the filter, read those states (8 at a time) and keep the ones whose
 * keys, recomputed, are the entry (the rest are stale). Stops at `limit` rows, at the end of the
 * range, or after `maxScan` entries (then a short page with a cursor: a request stays bounded
 * however rare the filter's matches are).
 */
export async function readListing(query: ListingQuery, io: ListingIo): Promise<ListingPage> {
  const { order, filter } = query;
  const limit = Math.max(1, Math.min(Math.trunc(query.limit) || 1, MAX_LISTING_PAGE));
  const maxScan = Math.max(limit, query.maxScan ?? DEFAULT_MAX_SCAN);
  const prefix = listingPrefix(order);
  let after = listingStartAfter(order, filter.from, query.cursor);
  let buffer: string[] = [];
  let next = 0;
  let exhausted = false;
  let done = false;
  let lastConsumed: string | undefined;
  let scanned = 0;
  let stale = 0;
  const rows: AppointmentState[] = [];
  const unreadable: string[] = [];
  while (rows.length < limit && !done && scanned < maxScan) {
    const candidates: ListingEntry[] = [];
    while (candidates.length < limit - rows.length && scanned < maxScan) {
      if (next >= buffer.length) {
        if (exhausted) {
          done = true;
          break;
        }
        const got = await io.list(prefix, after, LIST_BATCH);
        buffer = got.keys;
        next = 0;
        exhausted = !got.more;
        if (buffer.length === 0) {
          done = true;
          break;
        }
        after = buffer[buffer.length - 1];
      }
      const key = buffer[next++] as string;
      scanned += 1;
      if (listingPastEnd(order, key, filter.to)) {
        done = true;
        break;
      }
      lastConsumed = key;
      const entry = parseListingKey(key);
      if (entry && entryMatches(entry, filter)) candidates.push(entry);
    }
    if (next >= buffer.length && exhausted) done = true;
    const states = await mapBounded(candidates, 8, (c) => io.getState(c.appointment_id));
    candidates.forEach((c, i) => {
      const state = states[i];
      if (state === 'unreadable') unreadable.push(c.appointment_id);
      else if (!state || listingKey(listedOf(state), order) !== c.key || !stateMatches(state, filter)) stale += 1;
      else rows.push(state);
    });
  }
  return {
    appointments: rows,
    ...(!done && lastConsumed !== undefined ? { cursor: lastConsumed } : {}),
    scanned,
    stale,
    ...(unreadable.length > 0 ? { unreadable } : {}),
  };
}

async function mapBounded<T, R>(items: T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let i = 0;
  const worker = async () => {
    for (let at = i++; at < items.length; at = i++) out[at] = await fn(items[at] as T);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return out;
}
