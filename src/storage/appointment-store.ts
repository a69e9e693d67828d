import type { AppointmentState, Disposition } from '../domain/appointment';
import type { AppointmentEvent } from '../domain/event';
import type { DayFigures, Figure } from '../domain/figures';
import type { Listed } from '../domain/filing';

/** What a create-once write did: made the record, or found one there (which it left as it was). */
export type CreateOnce = 'created' | 'exists';

/** What a compare-and-set write did: replaced the version read, or found another version there. */
export type CompareAndSet = 'ok' | 'conflict';

/** A state read together with the version token needed to replace it atomically. */
export interface Versioned<T> {
  value: T;
  etag: string;
}

export interface HistoryRecord {
  event: AppointmentEvent;
  received_at: string;
  /** What applying the event did, filled in when the history record is written. */
  request_id?: string;
}

export interface DueEntry {
  appointment_id: string;
  due_at: string;
  schedule_version: number;
}

/**
 * How a phone's opt-out was asked for: a carrier keyword (STOP, UNSUBSCRIBE…) that Twilio's own
 * opt-out layer also acted on (`twilio-keyword`, Twilio then blocks the number itself), the same
 * keyword without Twilio's flag (`keyword`), or a revocation in the patient's own words
 * (`revocation`, "please stop texting me"). START and its kin are `keyword` too.
 */
export type OptOutHow = 'twilio-keyword' | 'keyword' | 'revocation';

export interface OptOutRecord {
  phone: string;
  opted_out: boolean;
  at: string;
  /** The inbound message that changed it. */
  message_sid?: string;
  /** Absent in records written before it was kept. */
  how?: OptOutHow;
}

export interface OptOutPage {
  /** In storage order (by the encoded number), only the phones currently opted out. */
  records: OptOutRecord[];
  /** Absent on the last page. */
  cursor?: string;
}

export interface OutboxEntry<T = unknown> {
  kind: OutboxKind;
  id: string;
  created_at: string;
  attempts: number;
  last_error?: string;
  next_attempt_at: string;
  payload: T;
}

/** Whether a conditional create made the record (with its ETag) or found one there; keyed on `kind` like the other outcomes. */
export type ClaimCreation = { kind: 'created'; etag: string } | { kind: 'exists' };

/** A sweep's claim on one reminder: only the sweep that created it may send the reminder. */
export interface ReminderClaim {
  appointment_id: string;
  schedule_version: number;
  n: number;
  event_id: string;
  /** 'sent' only in claims written by earlier versions: the reminder recorded in the state is what marks it sent. */
  status: 'claimed' | 'sent';
  claimed_at: string;
  /** A claim still 'claimed' after this is an unfinished one (its sweep crashed) and may be taken over. */
  lease_until: string;
  sweep_id: string;
  execution_sid?: string;
}

/** An entry of the due index as listed: the appointment and the slot it is filed under. */
export interface DueRef {
  appointment_id: string;
  /** The entry's slot (an hour, e.g. `2026-11-25T08`): pass it to `deleteDueEntry`, compare it with `slotOf`. */
  slot: string;
}

/*
 * The storage ports, one per concern. They live here, beside their adapters (as the FlowStarter
 * port lives in src/messaging/flow-starter.ts), and this is the only storage module domain code and
 * use cases may import: eslint.config.mjs rejects the key layout and the S3 adapter there. Each
 * consumer declares the ports it uses; `AppointmentStore` is their sum, for wiring.
 */

/**
 * Current appointment states. Writes are compare-and-set: they succeed only when the stored version
 * still has `expectedEtag` (or nothing is stored when it is null), and every write makes a new ETag.
 */
export interface AppointmentRecords extends AppointmentListing {
  getState(appointmentId: string): Promise<Versioned<AppointmentState> | null>;
  putState(state: AppointmentState, expectedEtag: string | null): Promise<CompareAndSet>;
  /** `putState` that answers the new version's ETag, or null when the expected version was not there. */
  writeState(state: AppointmentState, expectedEtag: string | null): Promise<string | null>;
  /**
   * A page of appointments (current states) in storage order; pass the returned cursor for the
   * next page. Reads only the state of each appointment, never its history.
   */
  listAppointments(limit: number, cursor?: string): Promise<AppointmentPage>;
}

export type ListingOrder = 'time' | 'change';

export type AttentionFlag = 'undeliverable' | 'patient-request';

/** What the admin listing can filter on without reading any state (the index keys carry it). */
export interface ListingFilter {
  dispositions?: Disposition[];
  location?: string;
  provider_id?: string;
  /** Appointment time from (inclusive) and to (exclusive), ISO instants. */
  from?: string;
  to?: string;
  /** Any of these. */
  attention?: AttentionFlag[];
}

export interface ListingQuery {
  order: ListingOrder;
  filter: ListingFilter;
  /** Rows wanted (at most 100). */
  limit: number;
  /** From the previous page. */
  cursor?: string;
  /** Index entries looked at before a short page is answered with a cursor (bounds one request). */
  maxScan?: number;
}

export interface ListingPage {
  appointments: AppointmentState[];
  /** Absent when the listing reached its end. */
  cursor?: string;
  /** Index entries looked at; entries that did not match their state (stale) were skipped. */
  scanned: number;
  stale: number;
  unreadable?: string[];
}

/**
 * The admin listing indexes (src/storage/listing-index.ts): ordered by appointment time or last
 * change, filterable from the keys, plus a name word index for search. Every state write goes
 * through `putListing` before and `dropListing` after (see src/use-cases/update-state.ts).
 */
export interface AppointmentListing {
  /** Writes the index entries `next` has and `previous` had not (none when nothing listed changed). */
  putListing(next: Listed, previous: Listed | null | undefined): Promise<void>;
  /** Removes the entries `previous` had and `next` has not. */
  dropListing(previous: Listed, next: Listed): Promise<void>;
  /** A page in index order, each row's state read and checked against its entry (stale ones skipped). */
  listIndexed(query: ListingQuery): Promise<ListingPage>;
  /**
   * Ids of appointments whose name has a word starting with each of `words` (decided from the name
   * index alone; unverified, so check the state), at most `limit`; `truncated` when there were more.
   */
  findByName(words: string[], limit: number): Promise<{ ids: string[]; truncated: boolean }>;
}

/** The append-only record of every event received, per appointment. */
export interface EventHistory {
  /** Writes the record unless one already exists for the same event; says which happened. */
  appendHistory(record: HistoryRecord): Promise<CreateOnce>;
  /** In event time order, then event id. */
  listHistory(appointmentId: string): Promise<HistoryRecord[]>;
}

/** When the sweep must next look at an appointment, filed in hour slots. */
export interface DueIndex {
  /** One entry per appointment and slot: a second put in the same slot replaces the first. */
  putDueEntry(entry: DueEntry): Promise<void>;
  /** `dueAt` is any instant of the entry's slot, or the slot itself (`DueRef.slot`). */
  deleteDueEntry(dueAt: string, appointmentId: string): Promise<void>;
  /**
   * Entries in slots up to and including the slot of `untilIso`, by slot then appointment id. Read
   * from the index alone (no object reads): the sweep decides from the state what is actually due.
   */
  listDueEntries(untilIso: string, limit?: number): AsyncIterable<DueRef>;
  /** The slot an entry due at `isoUtc` is filed under: two instants share an entry when equal. */
  slotOf(isoUtc: string): string;
}

/** Which appointments belong to a patient phone. */
export interface PhoneDirectory {
  /** Remembers that `appointmentId` belongs to `phone` (entries are checked against the state when read). */
  putPhoneIndex(phone: string, appointmentId: string): Promise<void>;
  /**
   * From the directory and from the change markers not filed yet (a new appointment is found at
   * once); `filedOnly` skips the markers (one listing less, for a caller that has just filed them).
   */
  listAppointmentIdsForPhone(phone: string, options?: { filedOnly?: boolean }): Promise<string[]>;
}

/** A change marker as listed: which appointment, the revision announced, when, and its key. */
export interface ChangeRef {
  appointment_id: string;
  revision: number;
  at: string;
  key: string;
}

/**
 * State changes the derived indexes have yet to be brought up to (src/use-cases/file-changes.ts).
 * A writer that does not file its change itself marks it before writing the state, so a crash
 * in between leaves a marker, never an unfiled state.
 */
export interface ChangeLog {
  /** Announces that the appointment's state is being written at `revision`, for `phone`. */
  markChange(appointmentId: string, revision: number, atIso: string, phone: string): Promise<void>;
  /** Markers waiting, in key order (by appointment, then revision), at most `limit`; only those for `phone` when given. */
  listChanges(limit: number, phone?: string): Promise<ChangeRef[]>;
  dropChanges(refs: ChangeRef[]): Promise<void>;
}

/** The per-phone opt-out ledger. */
export interface OptOutLedger {
  getOptOut(phone: string): Promise<OptOutRecord | null>;
  putOptOut(record: OptOutRecord): Promise<void>;
  /**
   * A page of the phones currently opted out whose number contains `fragment` (digits and `+`
   * compared; empty for all). Filtering is on the key, so only the page's records are read.
   */
  listOptOuts(options: { limit: number; cursor?: string; fragment?: string }): Promise<OptOutPage>;
}

/**
 * Counters per day for the dashboard, so a page load reads one small record per day instead of
 * every appointment. `countFact` is idempotent per figure and fact id: the fact's marker is
 * created once (conditional create), and only the call that creates it increments the day's
 * counter (compare-and-set, retried). A fact counted twice (a redelivered webhook, a retried
 * event) therefore counts once, and concurrent counts of different facts lose nothing.
 */
export interface DailyFigures {
  /**
   * Counts the fact under each of `figures` (one write for all of them; a fact is always counted
   * under the same figures, which with its id name its marker): `counted` when this call counted
   * it, `exists` when it had been counted before.
   */
  countFact(figures: Figure | readonly Figure[], factId: string, day: string): Promise<'counted' | 'exists'>;
  /** `countFact` for many facts: one compare-and-set per day instead of one per fact. Answers how many it counted. */
  countFacts(facts: { figures: readonly Figure[]; id: string; day: string }[]): Promise<number>;
  /** The counters of each day, oldest first; a day with nothing counted has zeros. */
  readFigures(days: string[]): Promise<DayFigures[]>;
}

/** Work to retry later (EHR requests, flow starts of older versions), one entry per kind and id. */
export interface RetryOutbox {
  putOutbox<T>(entry: OutboxEntry<T>): Promise<void>;
  deleteOutbox(kind: OutboxKind, id: string): Promise<void>;
  /** In storage order (the same from call to call, not by time), at most `limit` (default 1000). */
  listOutbox<T>(kind: OutboxKind, limit?: number): Promise<OutboxEntry<T>[]>;
}

/** Receipts of requests the EHR accepted, so none is delivered twice. */
export interface EhrReceipts {
  /** Writes a receipt unless one exists; says which. */
  putReceipt(appointmentId: string, eventId: string, receipt: unknown): Promise<CreateOnce>;
  getReceipt(appointmentId: string, eventId: string): Promise<unknown>;
}

/** Who is sending reminder n of a schedule version: the exactly-once guard of the sweep. */
export interface ReminderClaims {
  /** Creates the claim unless one exists (conditional write); returns its ETag when created. */
  createClaim(claim: ReminderClaim): Promise<ClaimCreation>;
  getClaim(appointmentId: string, scheduleVersion: number, n: number): Promise<Versioned<ReminderClaim> | null>;
  /** Replaces the claim only if it is still the version read. */
  replaceClaim(claim: ReminderClaim, etag: string): Promise<CompareAndSet>;
  deleteClaim(appointmentId: string, scheduleVersion: number, n: number): Promise<void>;
}

/** Inbound SMS seen before, by MessageSid: a replayed webhook maps to the same events. */
export interface InboundSightings {
  /**
   * When the inbound message was first seen: records `at` unless a sighting exists (conditional
   * create), and answers the recorded time either way.
   */
  firstSeen(messageSid: string, at: string): Promise<string>;
}

/** The last sweep's heartbeat and counts (the admin page reads it). */
export interface SweepHeartbeat {
  putSweepStatus(status: unknown): Promise<void>;
  getSweepStatus(): Promise<unknown>;
}

/**
 * An event refused where the sender cannot see the refusal: an engine that starts a Studio
 * execution gets Twilio's 201 whatever we decide. Kept (ids and reasons only, no patient data) so
 * the admin page shows it.
 */
export interface RejectedEvent {
  id: string;
  at: string;
  source: 'studio-execution';
  execution_sid?: string;
  appointment_id?: string;
  event_type?: string;
  problems: { field: string; message: string }[];
}

/** Rejected events, newest first. */
export interface RejectedEvents {
  putRejected(record: RejectedEvent): Promise<void>;
  listRejected(limit: number): Promise<RejectedEvent[]>;
}

/** One status Twilio reported for an outbound text about the appointment (a status callback). */
export interface DeliveryReceipt {
  message_sid: string;
  /** queued, sent, delivered, undelivered, failed … as Twilio's MessageStatus says. */
  status: string;
  /** Twilio's error code on undelivered / failed, e.g. 30006. */
  error_code?: string;
  /** When the callback was received. */
  at: string;
}

/** Delivery receipts per appointment, and which appointment each text (MessageSid) was about. */
export interface DeliveryReceipts {
  /**
   * Files `messageSid` under `appointmentId` unless it is filed already (conditional create) and
   * answers the appointment it is filed under, so every callback of one text lands in one place.
   */
  linkMessage(messageSid: string, appointmentId: string): Promise<string>;
  findMessageLink(messageSid: string): Promise<string | null>;
  /** One receipt per message and status: a repeated callback finds it there. */
  putDeliveryReceipt(appointmentId: string, receipt: DeliveryReceipt): Promise<CreateOnce>;
  /** Oldest first. */
  listDeliveryReceipts(appointmentId: string): Promise<DeliveryReceipt[]>;
}

/**
 * A patient SMS we did not understand ('unknown') or would not guess ('unclear'), kept for the
 * clinic's staff to answer. The only record that holds a message's text: never logged.
 */
export interface InboxItem {
  /** Given by the store (newest first in listing order); pass it to `markInboxDone`. */
  id: string;
  message_sid: string;
  phone: string;
  /** The patient's nearest upcoming appointment when they have one. */
  appointment_id?: string;
  body: string;
  intent: 'unclear' | 'unknown';
  /** When the message was first seen (InboundSightings), so a replay maps to the same item. */
  at: string;
  done_at?: string;
  /** What staff texted back from the admin page, oldest first (ids and status, no text). */
  replies?: InboxReplyRef[];
}

/** One staff reply as the inbox item remembers it; the text is in the appointment's StaffMessage. */
export interface InboxReplyRef {
  /** The page's idempotency key for the send: a retried request finds its reply here. */
  id: string;
  at: string;
  /** The staff user who sent it. */
  by: string;
  /** `sending` until Studio accepted the execution (or refused it: `failed`). */
  status: 'sending' | 'sent' | 'failed';
  execution_sid?: string;
}

/** A text staff sent a patient from the admin page, kept in the appointment's history. */
export interface StaffMessage {
  id: string;
  appointment_id: string;
  inbox_item_id: string;
  at: string;
  by: string;
  body: string;
  status: 'sent' | 'failed';
  execution_sid?: string;
  /** Why Studio refused it, when `failed` (status and code only). */
  error?: string;
}

/** Replies for a person to answer, newest first, and the once-a-day holding reply per phone. */
export interface ClinicInbox {
  /** Creates the item unless one exists for the same message and first-seen time; says which. */
  putInboxItem(item: Omit<InboxItem, 'id' | 'done_at'>): Promise<CreateOnce>;
  /** Newest first, at most `limit`. */
  listInbox(limit: number): Promise<InboxItem[]>;
  /** Marks the item handled (a second call keeps the first time); 'not-found' for an id no item has. */
  markInboxDone(id: string, at: string): Promise<'ok' | 'not-found'>;
  /** True for the first claim of `phone` on `day` (conditional create), false afterwards. */
  claimInboxAck(phone: string, day: string): Promise<boolean>;
  getInboxItem(id: string): Promise<InboxItem | null>;
  /**
   * Adds a reply to the item (compare-and-set) unless one with the same id is there already:
   * 'added', or the reply found under that id, or 'not-found'.
   */
  addInboxReply(id: string, reply: InboxReplyRef): Promise<'added' | 'not-found' | InboxReplyRef>;
  /** Settles a reply's status and marks the item done (keeping an earlier done time). */
  settleInboxReply(id: string, replyId: string, outcome: Pick<InboxReplyRef, 'status' | 'execution_sid'>, at: string): Promise<void>;
}

/** Texts staff sent about an appointment, beside its event history (create-only, like history). */
export interface StaffMessages {
  putStaffMessage(message: StaffMessage): Promise<CreateOnce>;
  /** Oldest first. */
  listStaffMessages(appointmentId: string): Promise<StaffMessage[]>;
}

export type OutboxKind = 'ehr' | 'flow';

export type AppointmentStore = AppointmentRecords &
  EventHistory &
  DueIndex &
  PhoneDirectory &
  OptOutLedger &
  RetryOutbox &
  EhrReceipts &
  ReminderClaims &
  InboundSightings &
  SweepHeartbeat &
  RejectedEvents &
  DeliveryReceipts &
  ClinicInbox &
  StaffMessages &
  DailyFigures &
  ChangeLog;

export interface AppointmentPage {
  appointments: AppointmentState[];
  /** Absent on the last page. */
  cursor?: string;
  /** Appointments on this page whose record could not be read (left out of `appointments`). */
  unreadable?: string[];
}
