import { createHash } from 'node:crypto';
import type { ChangeRef, OutboxKind } from './appointment-store';

/**
 * The S3 key layout. Ids from outside (appointment ids, phones) never become raw path segments:
 * they are base64url-encoded UTF-8, which is injective and uses only [A-Za-z0-9_-], so `../x`,
 * `a/b`, `%2F` and look-alike unicode can neither escape their folder nor collide.
 *
 *   appointments/<id>/state.json                          current state (conditional writes)
 *   appointments/<id>/history/<utc>_<event_id>.json       one record per event, never overwritten
 *   index/due/<YYYY-MM-DDTHH>/<id>                        when the sweep must next look at <id>
 *   index/phone/<phone>/<id>                              the appointments of a patient phone
 *   optouts/<phone>.json                                  per-phone opt-out ledger
 *   outbox/<kind>/<event_id>.json                         work to retry (EHR requests, flow starts)
 *   appointments/<id>/requests/<event_id>.json            receipts of requests delivered to the EHR
 *   claims/reminders/<id>/<version>-<n>.json              who is sending reminder n (exactly once)
 *   status/sweep.json                                     the last sweep's heartbeat and counts
 *   inbound/<message_sid>.json                            when an inbound SMS was first seen (replies are idempotent)
 *   rejected/<newest-first time>_<id>.json                events refused where the sender cannot see it
 *   appointments/<id>/deliveries/<message_sid>_<status>.json  Twilio's delivery receipts for its texts
 *   messages/<message_sid>.json                           which appointment an outbound text was about
 *   inbox/items/<newest-first time>_<message_sid>.json   replies not understood, for the clinic's staff
 *   appointments/<id>/staff/<time>_<id>.json              texts staff sent from the inbox (create-only)
 *   inbox/acks/<phone>/<YYYY-MM-DD>.json                 the day's holding reply to a phone (at most one)
 *   admin/users/<user id>.json                           a staff user of the admin page (conditional writes)
 *   audit/<YYYY-MM-DD>/<utc>-<random>.json               one admin audit entry, never overwritten
 *   stats/daily/<YYYY-MM-DD>/<shard>.json                 the dashboard's counters of one day, in up to 8 shards (conditional writes)
 *   stats/facts/<figure>/<fact_id>.json                   a fact counted once (conditional create), e.g. a text's delivery
 *   index/by-time/…, index/by-change/…, index/name/…     the admin listing (see listing-index.ts)
 *   index/changes/<id>/<revision>.<utc>.<phone tag>       a state change the indexes above have yet to be brought up to
 */
export function encodeSegment(value: string): string {
  // UTF-8 is one-to-one only on well-formed text: Buffer writes every lone surrogate as U+FFFD, so
  // "MRN-7\ud800" and "MRN-7\udbff" would share a key. The intake refuses such ids; this is the backstop.
  if (!value.isWellFormed()) throw new IllFormedKeyError();
  return Buffer.from(value, 'utf8').toString('base64url');
}

export function decodeSegment(segment: string): string {
  return Buffer.from(segment, 'base64url').toString('utf8');
}

export class IllFormedKeyError extends Error {
  constructor() {
    super('an id with an unpaired surrogate cannot become a storage key');
    this.name = 'IllFormedKeyError';
  }
}

export function appointmentPrefix(appointmentId: string): string {
  return `appointments/${encodeSegment(appointmentId)}/`;
}

export function stateKey(appointmentId: string): string {
  return `${appointmentPrefix(appointmentId)}state.json`;
}

export function historyPrefix(appointmentId: string): string {
  return `${appointmentPrefix(appointmentId)}history/`;
}

/** History keys sort by event time, then id; the same event always maps to the same key. */
export function historyKey(appointmentId: string, eventDatetimeUtc: string, eventId: string): string {
  const compact = eventDatetimeUtc.replace(/[-:.]/g, '');
  return `${historyPrefix(appointmentId)}${compact}_${eventId}.json`;
}

export const DUE_INDEX_PREFIX = 'index/due/';

/** Hour bucket of an instant, e.g. `2026-11-25T08`; lexicographic order equals time order. */
export function dueBucket(isoUtc: string): string {
  return isoUtc.slice(0, 13);
}

export function dueKey(isoUtc: string, appointmentId: string): string {
  return `${DUE_INDEX_PREFIX}${dueBucket(isoUtc)}/${encodeSegment(appointmentId)}`;
}

export const OPT_OUTS_PREFIX = 'optouts/';

export function optOutKey(phoneE164: string): string {
  return `${OPT_OUTS_PREFIX}${encodeSegment(phoneE164)}.json`;
}

/** The phone an `optouts/<phone>.json` key is for, or null for a key of another shape. */
export function optOutPhoneOf(key: string): string | null {
  const m = /^optouts\/([A-Za-z0-9_-]+)\.json$/.exec(key);
  return m ? decodeSegment(m[1] as string) : null;
}

export const PHONE_INDEX_PREFIX = 'index/phone/';

export const CHANGES_PREFIX = 'index/changes/';

/** A digest of a phone for keys that must not carry the number itself. */
export function phoneTag(phoneE164: string): string {
  return createHash('sha256').update(phoneE164, 'utf8').digest('base64url').slice(0, 16);
}

/** `index/changes/<id>/<revision, 10 digits>.<compact utc>.<phone tag>`: sorts by appointment, then revision. */
export function changeKey(appointmentId: string, revision: number, atIso: string, phoneE164: string): string {
  const at = new Date(Date.parse(atIso)).toISOString().replace(/[-:.]/g, '');
  return `${CHANGES_PREFIX}${encodeSegment(appointmentId)}/${String(revision).padStart(10, '0')}.${at}.${phoneTag(phoneE164)}`;
}

/** A listed change key as the stores answer it; null for another layout's key, or (with `tag`) another phone's. */
export function changeRefOf(key: string, tag?: string): ChangeRef | null {
  const parsed = changeKeyParts(key);
  if (!parsed || (tag !== undefined && parsed.phone_tag !== tag)) return null;
  return { appointment_id: parsed.appointment_id, revision: parsed.revision, at: parsed.at, key };
}

/** The parts of a change key, or null for a key this layout cannot have made. */
export function changeKeyParts(key: string): { appointment_id: string; revision: number; at: string; phone_tag: string } | null {
  const m = /^([A-Za-z0-9_-]+)\/(\d{10})\.(\d{8})T(\d{2})(\d{2})(\d{2})(\d{3})Z\.([A-Za-z0-9_-]+)$/.exec(key.slice(CHANGES_PREFIX.length));
  if (!key.startsWith(CHANGES_PREFIX) || !m) return null;
  const d = m[3] as string;
  return {
    appointment_id: decodeSegment(m[1] as string),
    revision: Number(m[2]),
    at: `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z`,
    phone_tag: m[8] as string,
  };
}

export function phoneIndexPrefix(phoneE164: string): string {
  return `${PHONE_INDEX_PREFIX}${encodeSegment(phoneE164)}/`;
}

export function phoneIndexKey(phoneE164: string, appointmentId: string): string {
  return `${phoneIndexPrefix(phoneE164)}${encodeSegment(appointmentId)}`;
}

export function outboxPrefix(kind: OutboxKind): string {
  return `outbox/${kind}/`;
}

export function outboxKey(kind: OutboxKind, eventId: string): string {
  return `${outboxPrefix(kind)}${encodeSegment(eventId)}.json`;
}

export function receiptKey(appointmentId: string, eventId: string): string {
  return `${appointmentPrefix(appointmentId)}requests/${encodeSegment(eventId)}.json`;
}

export function reminderClaimKey(appointmentId: string, scheduleVersion: number, n: number): string {
  return `claims/reminders/${encodeSegment(appointmentId)}/${scheduleVersion}-${n}.json`;
}

export const SWEEP_STATUS_KEY = 'status/sweep.json';

/** First sighting of an inbound SMS (by MessageSid): a replayed webhook gets the same event time. */
export function inboundKey(messageSid: string): string {
  return `inbound/${encodeSegment(messageSid)}.json`;
}

export const APPOINTMENTS_PREFIX = 'appointments/';

/** The appointment id of an `appointments/<id>/` common prefix. */
export function appointmentIdOfPrefix(prefix: string): string {
  return decodeSegment(prefix.slice(APPOINTMENTS_PREFIX.length).replace(/\/$/, ''));
}

/**
 * Admin login attempt logs (rate limiting across every Functions container): one object per
 * kind and scope, e.g. `admin/attempts/password/total.json`, `admin/attempts/code/client-<id>.json`.
 */
export function attemptLogKey(kind: string, scope: string): string {
  return `admin/attempts/${encodeSegment(kind)}/${encodeSegment(scope)}.json`;
}

export const REJECTED_PREFIX = 'rejected/';

/** Newest first in listing order: the time is written as the milliseconds left until year 2286. */
export function rejectedKey(atIso: string, id: string): string {
  const left = String(9_999_999_999_999 - Date.parse(atIso)).padStart(13, '0');
  return `${REJECTED_PREFIX}${left}_${encodeSegment(id)}.json`;
}

export function deliveriesPrefix(appointmentId: string): string {
  return `${appointmentPrefix(appointmentId)}deliveries/`;
}

/** One receipt per message and status, so a callback Twilio repeats lands on the same key. */
export function deliveryKey(appointmentId: string, messageSid: string, status: string): string {
  return `${deliveriesPrefix(appointmentId)}${encodeSegment(messageSid)}_${encodeSegment(status)}.json`;
}

export function staffMessagesPrefix(appointmentId: string): string {
  return `${appointmentPrefix(appointmentId)}staff/`;
}

/** Oldest first in listing order: the send time, then the page's id for the send. */
export function staffMessageKey(appointmentId: string, atIso: string, id: string): string {
  return `${staffMessagesPrefix(appointmentId)}${atIso.replace(/[-:.]/g, '')}_${encodeSegment(id)}.json`;
}

export function messageLinkKey(messageSid: string): string {
  return `messages/${encodeSegment(messageSid)}.json`;
}

export const INBOX_ITEMS_PREFIX = 'inbox/items/';

/** The id of an inbox item: its key's file name, newest first like `rejectedKey`. */
export function inboxItemId(atIso: string, messageSid: string): string {
  const left = String(9_999_999_999_999 - Date.parse(atIso)).padStart(13, '0');
  return `${left}_${encodeSegment(messageSid)}`;
}

/** The key of an inbox item by id, or null for an id `inboxItemId` cannot have made (ids come from the admin page). */
export function inboxItemKey(id: string): string | null {
  return /^\d{13}_[A-Za-z0-9_-]+$/.test(id) ? `${INBOX_ITEMS_PREFIX}${id}.json` : null;
}

/** One holding reply per phone and day (the day as the caller counts it, `YYYY-MM-DD`). */
export function inboxAckKey(phoneE164: string, day: string): string {
  return `inbox/acks/${encodeSegment(phoneE164)}/${encodeSegment(day)}.json`;
}

export const STAFF_USERS_PREFIX = 'admin/users/';

/** A staff user's record; the id is the login name, encoded like every other outside id. */
export function staffUserKey(userId: string): string {
  return `${STAFF_USERS_PREFIX}${encodeSegment(userId)}.json`;
}

export const AUDIT_PREFIX = 'audit/';

/**
 * One audit entry per key, created once (If-None-Match: *), never replaced. The day folder lets a
 * date range be listed without reading other days; within it the ISO time then a random suffix
 * sort entries by time and keep two entries of the same millisecond apart.
 */
export function auditKey(atIso: string, suffix: string): string {
  return `${AUDIT_PREFIX}${atIso.slice(0, 10)}/${atIso}-${suffix}.json`;
}

/** The first key of a day (`YYYY-MM-DD`) and the key every entry of that day sorts before. */
export function auditDayBounds(day: string): { first: string; after: string } {
  return { first: `${AUDIT_PREFIX}${day}/`, after: `${AUDIT_PREFIX}${day}/~` };
}

/**
 * Where a listing of audit days `from`..`to` starts and stops, resuming after `cursor` (the key of
 * the last entry returned, without the prefix) when it is one `auditKey` can have made.
 */
export function auditListing(range: { from: string; to: string }, cursor?: string): { startAfter: string; before: string } {
  const first = auditDayBounds(range.from).first;
  const resume = cursor && /^\d{4}-\d{2}-\d{2}\/[0-9T:.Z+-]+-[A-Za-z0-9_-]+\.json$/.test(cursor) ? `${AUDIT_PREFIX}${cursor}` : '';
  return { startAfter: resume > first ? resume : first, before: auditDayBounds(range.to).after };
}

export function auditCursorOf(key: string): string {
  return key.slice(AUDIT_PREFIX.length);
}

/** Shards of a day's counters: a write that meets a conflict moves to another, so a busy sweep does not queue on one object. */
export const FIGURE_SHARDS = 8;

/** One shard of a day's counters (`YYYY-MM-DD`, checked by the caller). */
export function dailyFiguresKey(day: string, shard = 0): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || !Number.isInteger(shard) || shard < 0 || shard >= FIGURE_SHARDS)
    throw new Error('a figures day must be YYYY-MM-DD and a shard 0-7');
  return `${DAILY_FIGURES_PREFIX}${day}/${shard}.json`;
}

export const DAILY_FIGURES_PREFIX = 'stats/daily/';

/** The prefix that lists every shard of every day of a month (`YYYY-MM`): one listing per month of a period. */
export function dailyFiguresMonthPrefix(month: string): string {
  return `${DAILY_FIGURES_PREFIX}${month}-`;
}

/** The day of a shard key, or null for a key of another shape. */
export function figuresDayOf(key: string): string | null {
  const m = /^stats\/daily\/(\d{4}-\d{2}-\d{2})\/[0-7]\.json$/.exec(key);
  return m ? (m[1] as string) : null;
}

/** The marker of one counted fact; the day is not part of it, so a fact seen again another day is still the same fact. */
export function figureFactKey(figure: string, factId: string): string {
  return `stats/facts/${encodeSegment(figure)}/${encodeSegment(factId)}.json`;
}
