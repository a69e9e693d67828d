import { DateTime } from 'luxon';
import { z } from 'zod';
import { DISPOSITIONS, type AppointmentState } from '../domain/appointment';
import { normalisePhone } from '../domain/phone';
import { lastChangeOf } from '../domain/filing';
import { log } from '../log';
import type { AppointmentRecords, ClinicInbox, ListingFilter, ListingOrder, PhoneDirectory } from '../storage/appointment-store';
import { nameMatches, normaliseWord, searchWords, stateMatches } from '../storage/listing-index';
import { rowsOf, type AppointmentRow, type ViewDeps } from './appointments';

/*
 * GET /admin/appointments: the front desk's list. Without a search it is one page of the listing
 * index (src/storage/listing-index.ts): a bounded ListObjectsV2 walk plus one state read per row.
 * A search (name, phone, appointment id) or the "inbox" attention filter starts from a small set
 * of candidates instead (name-word index, phone index, the id itself, open inbox items), at most
 * SEARCH_CANDIDATES, read, filtered and sorted here, paged by offset.
 */

export const SEARCH_CANDIDATES = 200;
export const DEFAULT_LIMIT = 25;

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export const AppointmentQuery = z.object({
  q: z.string().trim().max(100, { error: 'is longer than 100 characters' }).optional(),
  range: z.enum(['all', 'today', 'tomorrow', 'week'], { error: 'must be all, today, tomorrow or week' }).optional(),
  from: z.string().regex(DATE, { error: 'must be a date YYYY-MM-DD' }).optional(),
  to: z.string().regex(DATE, { error: 'must be a date YYYY-MM-DD' }).optional(),
  disposition: z
    .string()
    .transform((v) => v.split(',').filter((d) => d !== ''))
    .pipe(z.array(z.enum(DISPOSITIONS, { error: `must be one or more of ${DISPOSITIONS.join(', ')}, comma-separated` })))
    .optional(),
  location: z.string().max(500, { error: 'is longer than 500 characters' }).optional(),
  provider: z.string().max(128, { error: 'is longer than 128 characters' }).optional(),
  attention: z.enum(['undeliverable', 'patient-request', 'inbox'], { error: 'must be undeliverable, patient-request or inbox' }).optional(),
  sort: z.enum(['time', 'change'], { error: 'must be time or change' }).optional(),
  limit: z.coerce
    .number({ error: 'must be a whole number from 1 to 100' })
    .int({ error: 'must be a whole number from 1 to 100' })
    .min(1, { error: 'must be a whole number from 1 to 100' })
    .max(100, { error: 'must be a whole number from 1 to 100' })
    .optional(),
  cursor: z
    .string()
    .regex(/^(i\.[A-Za-z0-9_-]+|o\.\d{1,4})$/, { error: 'is not a cursor this list gave out' })
    .optional(),
  tz: z
    .string()
    .refine((v) => DateTime.local().setZone(v).isValid, { error: 'is not an IANA time zone such as America/New_York' })
    .optional(),
});
export type AppointmentQuery = z.infer<typeof AppointmentQuery>;

const FIELDS = Object.keys(AppointmentQuery.shape);

export type ParsedQuery = { ok: true; query: AppointmentQuery } | { ok: false; problems: { field: string; message: string }[] };

/** Reads the query string; empty parameters count as absent (a form sends them). */
export function parseAppointmentQuery(params: Record<string, unknown>): ParsedQuery {
  const input = Object.fromEntries(FIELDS.flatMap((k) => (typeof params[k] === 'string' && params[k] !== '' ? [[k, params[k]]] : [])));
  const parsed = AppointmentQuery.safeParse(input);
  if (!parsed.success)
    return { ok: false, problems: parsed.error.issues.map((i) => ({ field: String(i.path[0] ?? 'query'), message: i.message })) };
  const q = parsed.data;
  const problems: { field: string; message: string }[] = [];
  for (const f of ['from', 'to'] as const)
    if (q[f] && !DateTime.fromISO(q[f]).isValid) problems.push({ field: f, message: 'is not a calendar date' });
  if (q.from && q.to && q.to < q.from) problems.push({ field: 'to', message: 'is before from' });
  if (q.range && q.range !== 'all' && (q.from || q.to)) problems.push({ field: 'range', message: 'cannot be combined with from/to' });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, query: q };
}

/** The UTC instants of a day range in `zone`: [from, to). `to` is the last day shown, inclusive. */
export function rangeInstants(query: AppointmentQuery, zone: string, now: Date): { from?: string; to?: string } {
  const today = DateTime.fromJSDate(now).setZone(zone).startOf('day');
  const span = (start: DateTime, days: number) => ({
    from: start.toUTC().toISO() as string,
    to: start.plus({ days }).toUTC().toISO() as string,
  });
  if (query.range === 'today') return span(today, 1);
  if (query.range === 'tomorrow') return span(today.plus({ days: 1 }), 1);
  if (query.range === 'week') return span(today, 7);
  const day = (d: string) => DateTime.fromISO(d, { zone }).startOf('day');
  return {
    ...(query.from ? { from: day(query.from).toUTC().toISO() as string } : {}),
    ...(query.to ? { to: day(query.to).plus({ days: 1 }).toUTC().toISO() as string } : {}),
  };
}

export interface ListDeps extends ViewDeps {
  store: ViewDeps['store'] & AppointmentRecords & PhoneDirectory & Pick<ClinicInbox, 'listInbox'>;
  /** The clinic's zone (EHR_DEFAULT_TIMEZONE) when configured. */
  clinicZone?: string;
  defaultCountry: Parameters<typeof normalisePhone>[1];
}

export interface AppointmentList {
  appointments: AppointmentRow[];
  cursor?: string;
  /** The zone the day ranges were read in, and where it came from. */
  zone: { name: string; source: 'clinic' | 'browser' | 'utc' };
  range?: { from?: string; to?: string };
  /** Index entries (or search candidates) looked at, and how many were stale. */
  scanned: number;
  stale: number;
  /** The search matched more than SEARCH_CANDIDATES: refine it. */
  truncated?: true;
  unreadable?: string[];
}

export async function listAppointments(deps: ListDeps, query: AppointmentQuery): Promise<AppointmentList> {
  const zone = deps.clinicZone
    ? { name: deps.clinicZone, source: 'clinic' as const }
    : query.tz
      ? { name: query.tz, source: 'browser' as const }
      : { name: 'UTC', source: 'utc' as const };
  const now = deps.now();
  const range = rangeInstants(query, zone.name, now);
  const filter: ListingFilter = {
    ...(query.disposition && query.disposition.length > 0 ? { dispositions: query.disposition } : {}),
    ...(query.location !== undefined ? { location: query.location } : {}),
    ...(query.provider !== undefined ? { provider_id: query.provider } : {}),
    ...range,
    ...(query.attention === 'undeliverable' || query.attention === 'patient-request' ? { attention: [query.attention] } : {}),
  };
  const order: ListingOrder = query.sort ?? 'time';
  const limit = query.limit ?? DEFAULT_LIMIT;
  const nowIso = now.toISOString();
  const base = { zone, ...(range.from || range.to ? { range } : {}) };
  const rows = (states: AppointmentState[], unreadable: string[]) => rowsOf(states, deps.policy, nowIso, unreadable);

  if (!query.q && query.attention !== 'inbox') {
    const cursor = query.cursor?.startsWith('i.') ? Buffer.from(query.cursor.slice(2), 'base64url').toString('utf8') : undefined;
    const page = await deps.store.listIndexed({ order, filter, limit, ...(cursor ? { cursor } : {}) });
    const unreadable = [...(page.unreadable ?? [])];
    const appointments = rows(page.appointments, unreadable);
    return {
      appointments,
      ...(page.cursor ? { cursor: `i.${Buffer.from(page.cursor, 'utf8').toString('base64url')}` } : {}),
      ...base,
      scanned: page.scanned,
      stale: page.stale,
      ...(unreadable.length > 0 ? { unreadable } : {}),
    };
  }

  const { ids, truncated } = await candidates(deps, query);
  const unreadable: string[] = [];
  const states = await readStates(deps, ids, unreadable);
  const words = query.q ? queryWords(query.q) : [];
  const matching = states.filter((s) => matchesSearch(s, query.q, words, deps.defaultCountry) && stateMatches(s, filter));
  const key = (s: AppointmentState) => (order === 'time' ? s.facts.appointment_datetime_utc : lastChangeOf(s));
  matching.sort(
    (a, b) =>
      (order === 'time' ? Date.parse(key(a)) - Date.parse(key(b)) : Date.parse(key(b)) - Date.parse(key(a))) ||
      a.facts.appointment_id.localeCompare(b.facts.appointment_id),
  );
  const offset = query.cursor?.startsWith('o.') ? Number(query.cursor.slice(2)) : 0;
  const page = matching.slice(offset, offset + limit);
  return {
    appointments: rows(page, unreadable),
    ...(offset + limit < matching.length ? { cursor: `o.${offset + limit}` } : {}),
    ...base,
    scanned: ids.length,
    stale: states.length - matching.length,
    ...(truncated ? { truncated: true as const } : {}),
    ...(unreadable.length > 0 ? { unreadable } : {}),
  };
}

function queryWords(q: string): string[] {
  return q.split(/[\s\-'’.,]+/u).filter((w) => w !== '');
}

function phoneOf(q: string, country: ListDeps['defaultCountry']): string | null {
  // Only something that looks dialled: seven digits or more, and nothing but phone punctuation.
  if (!/^[+\d\s().-]+$/.test(q) || (q.match(/\d/g) ?? []).length < 7) return null;
  const phone = normalisePhone(q, country);
  return phone.ok ? phone.value : null;
}

/** Ids worth reading for a search: the id itself, the phone's appointments, name-word matches (every word). */
async function candidates(deps: ListDeps, query: AppointmentQuery): Promise<{ ids: string[]; truncated: boolean }> {
  const found = new Set<string>();
  let truncated = false;
  if (query.q) {
    const q = query.q;
    found.add(q);
    const phone = phoneOf(q, deps.defaultCountry);
    if (phone) for (const id of await deps.store.listAppointmentIdsForPhone(phone)) found.add(id);
    const words = queryWords(q);
    if (words.length > 0 && !phone) {
      // Every word must match; the name index decides that from its keys (listing-index.ts).
      const byName = await deps.store.findByName(words.slice(0, 6), SEARCH_CANDIDATES);
      if (byName.truncated) truncated = true;
      for (const id of byName.ids) found.add(id);
    }
  }
  if (query.attention === 'inbox') {
    const open = (await deps.store.listInbox(SEARCH_CANDIDATES))
      .filter((i) => !i.done_at && i.appointment_id)
      .map((i) => i.appointment_id as string);
    const inbox = new Set(open);
    if (query.q) {
      for (const id of [...found]) if (!inbox.has(id)) found.delete(id);
    } else {
      for (const id of inbox) found.add(id);
    }
  }
  const ids = [...found];
  if (ids.length > SEARCH_CANDIDATES) truncated = true;
  return { ids: ids.slice(0, SEARCH_CANDIDATES), truncated };
}

async function readStates(deps: ListDeps, ids: string[], unreadable: string[]): Promise<AppointmentState[]> {
  const out = new Array<AppointmentState | null>(ids.length).fill(null);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < ids.length; i = next++) {
      try {
        out[i] = (await deps.store.getState(ids[i] as string))?.value ?? null;
      } catch (err) {
        unreadable.push(ids[i] as string);
        log('warn', 'appointment record unreadable, left out of the search', { appointment_id: ids[i], code: (err as Error).name });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, ids.length) }, worker));
  return out.filter((s): s is AppointmentState => s !== null);
}

/** The candidate really matches: its id is the query, its phone is the query's, or every query word starts a name word. */
function matchesSearch(state: AppointmentState, q: string | undefined, words: string[], country: ListDeps['defaultCountry']): boolean {
  if (!q) return true;
  const f = state.facts;
  if (f.appointment_id === q) return true;
  const phone = phoneOf(q, country);
  if (phone) return f.patient_phone === phone;
  return nameMatches(searchWords(`${f.patient_first_name} ${f.patient_last_name ?? ''}`), words.map(normaliseWord));
}
