import { AppointmentState } from '../domain/appointment';
import type { Listed } from '../domain/filing';
import type {
  ChangeRef,
  AppointmentPage,
  AppointmentStore,
  DeliveryReceipt,
  DueEntry,
  DueRef,
  HistoryRecord,
  InboxItem,
  InboxReplyRef,
  OptOutRecord,
  OutboxEntry,
  OutboxKind,
  RejectedEvent,
  ReminderClaim,
  StaffMessage,
  Versioned,
  OptOutPage,
  ClaimCreation,
  ListingPage,
  ListingQuery,
} from './appointment-store';
import { addReply, changeInboxItem, settleReply, type ObjectIo } from './inbox-records';
import { countFactsWith, type FigureIo } from './figure-counting';
import { InboxItemDocument, parseDocument, StaffMessageDocument } from './documents';
import type { DayFigures, Figure } from '../domain/figures';
import { matchesFragment, MAX_OPT_OUT_READS, optOutCursorKey, monthsOf, sumShards } from './figures-records';
import {
  dailyFiguresMonthPrefix,
  figuresDayOf,
  OPT_OUTS_PREFIX,
  optOutPhoneOf,
  APPOINTMENTS_PREFIX,
  appointmentIdOfPrefix,
  decodeSegment,
  deliveriesPrefix,
  deliveryKey,
  DUE_INDEX_PREFIX,
  dueBucket,
  dueKey,
  historyKey,
  historyPrefix,
  inboundKey,
  messageLinkKey,
  optOutKey,
  outboxKey,
  outboxPrefix,
  phoneIndexKey,
  phoneIndexPrefix,
  receiptKey,
  reminderClaimKey,
  REJECTED_PREFIX,
  rejectedKey,
  INBOX_ITEMS_PREFIX,
  inboxAckKey,
  inboxItemId,
  inboxItemKey,
  staffMessageKey,
  staffMessagesPrefix,
  stateKey,
  SWEEP_STATUS_KEY,
  CHANGES_PREFIX,
  changeKey,
  changeRefOf,
  phoneTag,
} from './keys';
import { findByNameKeys, keysToAdd, keysToDrop, readListing } from './listing-index';

interface StoredObject {
  /** The value as JSON, as S3 would hold it: every read parses a fresh copy, so nothing is shared. */
  body: string;
  etag: string;
}

/** Byte order of the UTF-8 keys, which is how S3 lists them. */
function byKey(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export interface MemoryStoreOptions {
  /**
   * Keys another writer writes to just before each compare-and-set write to them lands, so that
   * write always loses: how tests force contention on a retry loop without a canned error.
   */
  contended?: (key: string) => boolean;
}

/**
 * All the storage ports in one process, with the S3 adapter's semantics: conditional writes are
 * compare-and-set on an ETag that changes with every write, creates of history records, receipts,
 * claims and sightings succeed once, and listings come in the S3 adapter's order. Objects are filed
 * under the keys of src/storage/keys.ts so that order is the same by construction (S3 lists keys in
 * byte order). For unit tests of the use cases, and the contract suite's reference.
 */
export class MemoryAppointmentStore implements AppointmentStore {
  private readonly objects = new Map<string, StoredObject>();
  private writes = 0;

  constructor(private readonly options: MemoryStoreOptions = {}) {}

  async getState(appointmentId: string): Promise<Versioned<AppointmentState> | null> {
    const got = await this.read(stateKey(appointmentId));
    return got ? { value: AppointmentState.parse(got.value), etag: got.etag } : null;
  }

  async putState(state: AppointmentState, expectedEtag: string | null): Promise<'ok' | 'conflict'> {
    return (await this.writeState(state, expectedEtag)) === null ? 'conflict' : 'ok';
  }

  async writeState(state: AppointmentState, expectedEtag: string | null): Promise<string | null> {
    await this.turn();
    const key = stateKey(state.facts.appointment_id);
    this.rival(key, state);
    const stored = this.objects.get(key);
    // S3 answers If-Match on a missing object with 404 NoSuchKey, which the S3 adapter throws.
    if (expectedEtag !== null && !stored) throw new Error(`no state for ${state.facts.appointment_id} to replace`);
    if (expectedEtag === null ? stored : stored?.etag !== expectedEtag) return null;
    return this.write(key, state);
  }

  async appendHistory(record: HistoryRecord): Promise<'created' | 'exists'> {
    const { event } = record;
    return (await this.create(historyKey(event.appointment_id, event.event_datetime_utc, event.event_id), record)) ? 'created' : 'exists';
  }

  async listHistory(appointmentId: string): Promise<HistoryRecord[]> {
    return (await this.list(historyPrefix(appointmentId))).map(([, o]) => JSON.parse(o.body) as HistoryRecord);
  }

  async putDueEntry(entry: DueEntry): Promise<void> {
    await this.put(dueKey(entry.due_at, entry.appointment_id), entry);
  }

  async deleteDueEntry(dueAt: string, appointmentId: string): Promise<void> {
    await this.remove(dueKey(dueAt, appointmentId));
  }

  async *listDueEntries(untilIso: string, limit = Number.POSITIVE_INFINITY): AsyncIterable<DueRef> {
    const lastSlot = dueBucket(untilIso);
    let yielded = 0;
    for (const [key] of await this.list(DUE_INDEX_PREFIX)) {
      const [slot, encoded] = key.slice(DUE_INDEX_PREFIX.length).split('/');
      if (!slot || !encoded) continue;
      if (slot > lastSlot || yielded >= limit) return;
      yielded += 1;
      yield { appointment_id: decodeSegment(encoded), slot };
    }
  }

  slotOf(isoUtc: string): string {
    return dueBucket(isoUtc);
  }

  async putPhoneIndex(phone: string, appointmentId: string): Promise<void> {
    await this.put(phoneIndexKey(phone, appointmentId), { appointment_id: appointmentId });
  }

  async listAppointmentIdsForPhone(phone: string, options: { filedOnly?: boolean } = {}): Promise<string[]> {
    const prefix = phoneIndexPrefix(phone);
    const ids = new Set((await this.list(prefix)).map(([key]) => decodeSegment(key.slice(prefix.length))));
    if (!options.filedOnly) for (const c of await this.listChanges(Number.POSITIVE_INFINITY, phone)) ids.add(c.appointment_id);
    return [...ids];
  }

  async markChange(appointmentId: string, revision: number, atIso: string, phone: string): Promise<void> {
    await this.put(changeKey(appointmentId, revision, atIso, phone), {});
  }

  async listChanges(limit: number, phone?: string): Promise<ChangeRef[]> {
    const tag = phone === undefined ? undefined : phoneTag(phone);
    const refs: ChangeRef[] = [];
    for (const [key] of await this.list(CHANGES_PREFIX)) {
      if (refs.length >= limit) break;
      const ref = changeRefOf(key, tag);
      if (ref) refs.push(ref);
    }
    return refs;
  }

  async dropChanges(refs: ChangeRef[]): Promise<void> {
    for (const r of refs) await this.remove(r.key);
  }

  async getOptOut(phone: string): Promise<OptOutRecord | null> {
    return ((await this.read(optOutKey(phone)))?.value as OptOutRecord | undefined) ?? null;
  }

  async putOptOut(record: OptOutRecord): Promise<void> {
    await this.put(optOutKey(record.phone), record);
  }

  async listOptOuts(options: { limit: number; cursor?: string; fragment?: string }): Promise<OptOutPage> {
    const limit = Math.max(1, Math.min(options.limit, 200));
    const after = optOutCursorKey(options.cursor);
    const records: OptOutRecord[] = [];
    let reads = 0;
    let last: string | undefined;
    for (const [key, o] of await this.list(OPT_OUTS_PREFIX)) {
      if (after && byKey(key, after) <= 0) continue;
      const phone = optOutPhoneOf(key);
      if (!phone || !matchesFragment(phone, options.fragment)) continue;
      if (records.length >= limit || reads >= MAX_OPT_OUT_READS) return { records, ...(last ? { cursor: last } : {}) };
      reads += 1;
      last = key.slice(OPT_OUTS_PREFIX.length, -'.json'.length);
      const record = JSON.parse(o.body) as OptOutRecord;
      if (record.opted_out) records.push(record);
    }
    return { records };
  }

  async countFact(figures: Figure | readonly Figure[], factId: string, day: string): Promise<'counted' | 'exists'> {
    return (await countFactsWith(this.figureIo, [{ figures, id: factId, day }])) === 1 ? 'counted' : 'exists';
  }

  async countFacts(facts: { figures: readonly Figure[]; id: string; day: string }[]): Promise<number> {
    return countFactsWith(this.figureIo, facts);
  }

  private readonly figureIo: FigureIo = {
    create: async (key, value) => (await this.create(key, value)) !== null,
    read: (key) => this.read(key),
    replace: async (key, value, etag) => {
      await this.turn();
      this.rival(key, value);
      const stored = this.objects.get(key);
      if (etag === null ? stored : stored?.etag !== etag) return false;
      this.write(key, value);
      return true;
    },
    remove: (key) => this.remove(key),
  };

  async readFigures(days: string[]): Promise<DayFigures[]> {
    const wanted = new Set(days);
    const shards: { day: string; stored: unknown }[] = [];
    for (const month of monthsOf(days)) {
      for (const [key, o] of await this.list(dailyFiguresMonthPrefix(month))) {
        const day = figuresDayOf(key);
        if (day && wanted.has(day)) shards.push({ day, stored: JSON.parse(o.body) as unknown });
      }
    }
    return sumShards(days, shards);
  }

  async putOutbox<T>(entry: OutboxEntry<T>): Promise<void> {
    await this.put(outboxKey(entry.kind, entry.id), entry);
  }

  async deleteOutbox(kind: OutboxKind, id: string): Promise<void> {
    await this.remove(outboxKey(kind, id));
  }

  async listOutbox<T>(kind: OutboxKind, limit = 1000): Promise<OutboxEntry<T>[]> {
    return (await this.list(outboxPrefix(kind))).slice(0, limit).map(([, o]) => JSON.parse(o.body) as OutboxEntry<T>);
  }

  async putReceipt(appointmentId: string, eventId: string, receipt: unknown): Promise<'created' | 'exists'> {
    return (await this.create(receiptKey(appointmentId, eventId), receipt)) ? 'created' : 'exists';
  }

  async getReceipt(appointmentId: string, eventId: string): Promise<unknown> {
    return (await this.read(receiptKey(appointmentId, eventId)))?.value ?? null;
  }

  async createClaim(claim: ReminderClaim): Promise<ClaimCreation> {
    const etag = await this.create(reminderClaimKey(claim.appointment_id, claim.schedule_version, claim.n), claim);
    return etag === null ? { kind: 'exists' } : { kind: 'created', etag };
  }

  async getClaim(appointmentId: string, scheduleVersion: number, n: number): Promise<Versioned<ReminderClaim> | null> {
    const got = await this.read(reminderClaimKey(appointmentId, scheduleVersion, n));
    return got ? { value: got.value as ReminderClaim, etag: got.etag } : null;
  }

  async replaceClaim(claim: ReminderClaim, etag: string): Promise<'ok' | 'conflict'> {
    await this.turn();
    const key = reminderClaimKey(claim.appointment_id, claim.schedule_version, claim.n);
    if (this.objects.get(key)?.etag !== etag) return 'conflict';
    this.write(key, claim);
    return 'ok';
  }

  async deleteClaim(appointmentId: string, scheduleVersion: number, n: number): Promise<void> {
    await this.remove(reminderClaimKey(appointmentId, scheduleVersion, n));
  }

  async firstSeen(messageSid: string, at: string): Promise<string> {
    const key = inboundKey(messageSid);
    if ((await this.create(key, { message_sid: messageSid, at })) !== null) return at;
    const seen = ((await this.read(key))?.value as { at?: unknown } | undefined)?.at;
    return typeof seen === 'string' ? seen : at;
  }

  async linkMessage(messageSid: string, appointmentId: string): Promise<string> {
    const key = messageLinkKey(messageSid);
    if ((await this.create(key, { message_sid: messageSid, appointment_id: appointmentId })) !== null) return appointmentId;
    return (await this.findMessageLink(messageSid)) ?? appointmentId;
  }

  async findMessageLink(messageSid: string): Promise<string | null> {
    const id = ((await this.read(messageLinkKey(messageSid)))?.value as { appointment_id?: unknown } | undefined)?.appointment_id;
    return typeof id === 'string' ? id : null;
  }

  async putDeliveryReceipt(appointmentId: string, receipt: DeliveryReceipt): Promise<'created' | 'exists'> {
    return (await this.create(deliveryKey(appointmentId, receipt.message_sid, receipt.status), receipt)) ? 'created' : 'exists';
  }

  async listDeliveryReceipts(appointmentId: string): Promise<DeliveryReceipt[]> {
    const receipts = (await this.list(deliveriesPrefix(appointmentId))).map(([, o]) => JSON.parse(o.body) as DeliveryReceipt);
    return receipts.sort((a, b) => a.at.localeCompare(b.at));
  }

  async putRejected(record: RejectedEvent): Promise<void> {
    await this.put(rejectedKey(record.at, record.id), record);
  }

  async listRejected(limit: number): Promise<RejectedEvent[]> {
    return (await this.list(REJECTED_PREFIX)).slice(0, Math.max(0, limit)).map(([, o]) => JSON.parse(o.body) as RejectedEvent);
  }

  async putInboxItem(item: Omit<InboxItem, 'id' | 'done_at'>): Promise<'created' | 'exists'> {
    const id = inboxItemId(item.at, item.message_sid);
    return (await this.create(`${INBOX_ITEMS_PREFIX}${id}.json`, { ...item, id })) ? 'created' : 'exists';
  }

  async listInbox(limit: number): Promise<InboxItem[]> {
    return (await this.list(INBOX_ITEMS_PREFIX)).slice(0, Math.max(0, limit)).map(([, o]) => JSON.parse(o.body) as InboxItem);
  }

  async markInboxDone(id: string, at: string): Promise<'ok' | 'not-found'> {
    // Compare-and-set, retried: a reply added at the same moment is kept, and the first done time stays.
    return changeInboxItem<'ok' | 'not-found'>(
      this.inboxIo,
      id,
      (item) => (item.done_at ? { result: 'ok' } : { next: { ...item, done_at: at }, result: 'ok' }),
      'not-found',
    );
  }

  async claimInboxAck(phone: string, day: string): Promise<boolean> {
    return (await this.create(inboxAckKey(phone, day), { phone, day })) !== null;
  }

  async getInboxItem(id: string): Promise<InboxItem | null> {
    const key = inboxItemKey(id);
    const got = key ? await this.read(key) : null;
    return got ? parseDocument(InboxItemDocument, got.value, 'inbox') : null;
  }

  private readonly inboxIo: ObjectIo = {
    read: (key) => this.read(key),
    replace: (key, value, etag) => this.replace(key, value, etag),
  };

  async addInboxReply(id: string, reply: InboxReplyRef): Promise<'added' | 'not-found' | InboxReplyRef> {
    return changeInboxItem<'added' | 'not-found' | InboxReplyRef>(this.inboxIo, id, (item) => addReply(item, reply), 'not-found');
  }

  async settleInboxReply(id: string, replyId: string, outcome: Pick<InboxReplyRef, 'status' | 'execution_sid'>, at: string): Promise<void> {
    await changeInboxItem(this.inboxIo, id, (item) => ({ next: settleReply(item, replyId, outcome, at), result: undefined }), undefined);
  }

  async putStaffMessage(message: StaffMessage): Promise<'created' | 'exists'> {
    return (await this.create(staffMessageKey(message.appointment_id, message.at, message.id), message)) ? 'created' : 'exists';
  }

  async listStaffMessages(appointmentId: string): Promise<StaffMessage[]> {
    return (await this.list(staffMessagesPrefix(appointmentId))).map(([, o]) =>
      parseDocument(StaffMessageDocument, JSON.parse(o.body), 'staff text'),
    );
  }

  async putSweepStatus(status: unknown): Promise<void> {
    await this.put(SWEEP_STATUS_KEY, status);
  }

  async getSweepStatus(): Promise<unknown> {
    return (await this.read(SWEEP_STATUS_KEY))?.value ?? null;
  }

  async listAppointments(limit: number, cursor?: string): Promise<AppointmentPage> {
    // As the S3 adapter lists `appointments/` by folder: a folder (state, history or receipts)
    // counts towards the page even when it holds no state yet, and a malformed cursor starts over.
    const size = Math.max(1, Math.min(limit, 1000));
    const after = cursor && /^[A-Za-z0-9_-]+$/.test(cursor) ? `${APPOINTMENTS_PREFIX}${cursor}/~` : undefined;
    const folders = new Set<string>();
    for (const [key] of await this.list(APPOINTMENTS_PREFIX)) {
      if (after !== undefined && byKey(key, after) <= 0) continue;
      const end = key.indexOf('/', APPOINTMENTS_PREFIX.length);
      if (end > 0) folders.add(key.slice(0, end + 1));
    }
    const sorted = [...folders].sort(byKey);
    const taken = sorted.slice(0, size);
    const appointments: AppointmentState[] = [];
    for (const prefix of taken) {
      const state = await this.getState(appointmentIdOfPrefix(prefix));
      if (state) appointments.push(state.value);
    }
    const last = taken.at(-1);
    return {
      appointments,
      ...(sorted.length > size && last ? { cursor: last.slice(APPOINTMENTS_PREFIX.length).replace(/\/$/, '') } : {}),
    };
  }

  async putListing(next: Listed, previous: Listed | null | undefined): Promise<void> {
    for (const key of keysToAdd(next, previous)) await this.put(key, {});
  }

  async dropListing(previous: Listed, next: Listed): Promise<void> {
    for (const key of keysToDrop(previous, next)) await this.remove(key);
  }

  async listIndexed(query: ListingQuery): Promise<ListingPage> {
    return readListing(query, {
      list: (prefix, startAfter, max) => this.listAfter(prefix, startAfter, max),
      getState: async (id) => (await this.getState(id))?.value ?? null,
    });
  }

  async findByName(words: string[], limit: number): Promise<{ ids: string[]; truncated: boolean }> {
    return findByNameKeys(words, limit, (prefix, startAfter, max) => this.listAfter(prefix, startAfter, max));
  }

  private async listAfter(prefix: string, startAfter: string | undefined, max: number): Promise<{ keys: string[]; more: boolean }> {
    const keys = (await this.list(prefix)).map(([key]) => key).filter((key) => startAfter === undefined || byKey(key, startAfter) > 0);
    return { keys: keys.slice(0, max), more: keys.length > max };
  }

  /** Lets other callers run between a caller's request and its effect, as a network round trip would. */
  private async turn(): Promise<void> {
    await Promise.resolve();
  }

  /** Another writer's write landing first on a contended key: the object as it is under a new ETag, or `value` if there is none. */
  private rival(key: string, value: unknown): void {
    if (!this.options.contended?.(key)) return;
    const stored = this.objects.get(key);
    this.write(key, stored ? (JSON.parse(stored.body) as unknown) : value);
  }

  /** Stores a copy under a new ETag (unique across the store, so a replaced version never matches again). */
  private write(key: string, value: unknown): string {
    this.writes += 1;
    const etag = `"m-${this.writes}"`;
    this.objects.set(key, { body: JSON.stringify(value), etag });
    return etag;
  }

  private async put(key: string, value: unknown): Promise<void> {
    await this.turn();
    this.write(key, value);
  }

  /** Writes only if the object still has `etag` (S3's If-Match); false when another write came first. */
  private async replace(key: string, value: unknown, etag: string): Promise<boolean> {
    await this.turn();
    this.rival(key, value);
    if (this.objects.get(key)?.etag !== etag) return false;
    this.write(key, value);
    return true;
  }

  /** Writes only if the key is free (S3's If-None-Match: *); answers the new ETag, or null when it existed. */
  private async create(key: string, value: unknown): Promise<string | null> {
    await this.turn();
    return this.objects.has(key) ? null : this.write(key, value);
  }

  private async remove(key: string): Promise<void> {
    await this.turn();
    this.objects.delete(key);
  }

  private async read(key: string): Promise<{ value: unknown; etag: string } | null> {
    await this.turn();
    const stored = this.objects.get(key);
    return stored ? { value: JSON.parse(stored.body) as unknown, etag: stored.etag } : null;
  }

  /** The keys under `prefix` and their objects, in S3's listing order. */
  private async list(prefix: string): Promise<[string, StoredObject][]> {
    await this.turn();
    return [...this.objects].filter(([key]) => key.startsWith(prefix)).sort(([a], [b]) => byKey(a, b));
  }
}
