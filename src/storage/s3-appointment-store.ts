import { DeleteObjectCommand, DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { AppointmentState } from '../domain/appointment';
import type { Listed } from '../domain/filing';
import type { DayFigures, Figure } from '../domain/figures';
import { log } from '../log';
import { isConditionFailure, JSON_TYPE, s3Status, S3Objects } from './s3-objects';
import type {
  AppointmentPage,
  AppointmentStore,
  ChangeRef,
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
import { matchesFragment, MAX_OPT_OUT_READS, optOutCursorKey, monthsOf, sumShards } from './figures-records';
import {
  DamagedRecordError,
  DeliveryReceiptDocument,
  HistoryRecordDocument,
  InboxItemDocument,
  StaffMessageDocument,
  MessageLinkDocument,
  OptOutDocument,
  OutboxDocument,
  parseDocument,
  RejectedEventDocument,
  ReminderClaimDocument,
} from './documents';
import {
  dailyFiguresMonthPrefix,
  figuresDayOf,
  OPT_OUTS_PREFIX,
  optOutPhoneOf,
  APPOINTMENTS_PREFIX,
  appointmentIdOfPrefix,
  decodeSegment,
  DUE_INDEX_PREFIX,
  dueBucket,
  dueKey,
  historyKey,
  historyPrefix,
  inboundKey,
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
  stateKey,
  SWEEP_STATUS_KEY,
  deliveriesPrefix,
  deliveryKey,
  messageLinkKey,
  staffMessageKey,
  staffMessagesPrefix,
  CHANGES_PREFIX,
  changeKey,
  changeRefOf,
  phoneTag,
} from './keys';
import { findByNameKeys, keysToAdd, keysToDrop, readListing } from './listing-index';

/**
 * A record that exists but cannot be read: the server answered 500 for that object (the embedded
 * one does for a damaged file), or its content is not the JSON / shape we wrote. Storage being
 * unreachable is not one of these; that fails the whole call.
 */
export function isReadFailure(err: unknown): boolean {
  if (err instanceof DamagedRecordError) return true;
  if (err instanceof SyntaxError) return true;
  if ((err as { name?: string } | null | undefined)?.name === 'ZodError') return true;
  const code = s3Status(err);
  return code !== undefined && code >= 500 && code !== 503;
}

/** Why a record could not be read, for logs: never the error message (JSON.parse quotes the content). */
function readFailureCode(err: unknown): string {
  if (err instanceof DamagedRecordError) return err.kind;
  if (err instanceof SyntaxError) return 'not-json';
  if ((err as { name?: string } | null | undefined)?.name === 'ZodError') return 'unexpected-shape';
  return `s3-${s3Status(err) ?? 'error'}`;
}

/** Change markers looked at by one listing at most (ten pages): a backlog beyond it waits for the next filer run. */
export const MAX_CHANGES_SCANNED = 10_000;

export class S3AppointmentStore implements AppointmentStore {
  private readonly objects: S3Objects;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {
    this.objects = new S3Objects(s3, bucket);
  }

  async getState(appointmentId: string): Promise<Versioned<AppointmentState> | null> {
    try {
      const got = await this.objects.getJson(stateKey(appointmentId));
      if (!got) return null;
      return { value: parseDocument(AppointmentState, got.value, 'appointment state'), etag: got.etag };
    } catch (err) {
      if (err instanceof DamagedRecordError)
        log('error', 'appointment state unreadable', { appointment_id: appointmentId, code: err.kind });
      throw err;
    }
  }

  async putState(state: AppointmentState, expectedEtag: string | null): Promise<'ok' | 'conflict'> {
    return (await this.writeState(state, expectedEtag)) === null ? 'conflict' : 'ok';
  }

  async writeState(state: AppointmentState, expectedEtag: string | null): Promise<string | null> {
    try {
      const out = await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: stateKey(state.facts.appointment_id),
          Body: JSON.stringify(state),
          ContentType: JSON_TYPE,
          ...(expectedEtag === null ? { IfNoneMatch: '*' } : { IfMatch: expectedEtag }),
        }),
      );
      return out.ETag ?? '';
    } catch (err) {
      if (isConditionFailure(err)) return null;
      throw err;
    }
  }

  async appendHistory(record: HistoryRecord): Promise<'created' | 'exists'> {
    const { event } = record;
    const key = historyKey(event.appointment_id, event.event_datetime_utc, event.event_id);
    return (await this.objects.putNew(key, record)).created ? 'created' : 'exists';
  }

  async listHistory(appointmentId: string): Promise<HistoryRecord[]> {
    const keys: string[] = [];
    for await (const key of this.objects.listKeys(historyPrefix(appointmentId))) keys.push(key);
    const records: HistoryRecord[] = [];
    for (const key of keys) {
      // One unreadable record must not hide the rest of the history (the admin views read it).
      try {
        const got = await this.objects.getJson(key);
        if (got) records.push(parseDocument(HistoryRecordDocument, got.value, 'history'));
      } catch (err) {
        if (!isReadFailure(err)) throw err;
        log('warn', 'history record unreadable, left out', { appointment_id: appointmentId, code: readFailureCode(err) });
      }
    }
    return records;
  }

  async putDueEntry(entry: DueEntry): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: dueKey(entry.due_at, entry.appointment_id),
        Body: JSON.stringify(entry),
        ContentType: JSON_TYPE,
      }),
    );
  }

  async deleteDueEntry(dueAt: string, appointmentId: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: dueKey(dueAt, appointmentId) }));
  }

  async *listDueEntries(untilIso: string, limit = Number.POSITIVE_INFINITY): AsyncIterable<DueRef> {
    // Keys sort by hour bucket, so the listing can stop at the first bucket after `untilIso`:
    // the cost is the number of entries due, not the number of appointments stored.
    const stopAfter = `${DUE_INDEX_PREFIX}${dueBucket(untilIso)}/\uffff`;
    let yielded = 0;
    for await (const key of this.objects.listKeys(DUE_INDEX_PREFIX)) {
      if (key > stopAfter || yielded >= limit) return;
      const [slot, encoded] = key.slice(DUE_INDEX_PREFIX.length).split('/');
      if (!slot || !encoded) continue;
      yielded += 1;
      yield { appointment_id: decodeSegment(encoded), slot };
    }
  }

  slotOf(isoUtc: string): string {
    return dueBucket(isoUtc);
  }

  async putPhoneIndex(phone: string, appointmentId: string): Promise<void> {
    await this.objects.putJson(phoneIndexKey(phone, appointmentId), { appointment_id: appointmentId });
  }

  async listAppointmentIdsForPhone(phone: string, options: { filedOnly?: boolean } = {}): Promise<string[]> {
    const prefix = phoneIndexPrefix(phone);
    const ids = new Set<string>();
    const [, changes] = await Promise.all([
      (async () => {
        for await (const key of this.objects.listKeys(prefix)) ids.add(decodeSegment(key.slice(prefix.length)));
      })(),
      options.filedOnly ? [] : this.listChanges(MAX_CHANGES_SCANNED, phone),
    ]);
    for (const c of changes) ids.add(c.appointment_id);
    return [...ids];
  }

  async markChange(appointmentId: string, revision: number, atIso: string, phone: string): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: changeKey(appointmentId, revision, atIso, phone),
        Body: '{}',
        ContentType: JSON_TYPE,
      }),
    );
  }

  async listChanges(limit: number, phone?: string): Promise<ChangeRef[]> {
    const tag = phone === undefined ? undefined : phoneTag(phone);
    const refs: ChangeRef[] = [];
    let scanned = 0;
    for await (const key of this.objects.listKeys(CHANGES_PREFIX)) {
      if (refs.length >= limit || scanned >= MAX_CHANGES_SCANNED) break;
      scanned += 1;
      const ref = changeRefOf(key, tag);
      if (ref) refs.push(ref);
    }
    return refs;
  }

  async dropChanges(refs: ChangeRef[]): Promise<void> {
    for (let i = 0; i < refs.length; i += 1000) {
      const batch = refs.slice(i, i + 1000);
      const out = await this.s3.send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((r) => ({ Key: r.key })), Quiet: true } }),
      );
      if ((out.Errors ?? []).length > 0) throw new Error(`${out.Errors?.length} change markers could not be deleted`);
    }
  }

  async getOptOut(phone: string): Promise<OptOutRecord | null> {
    const got = await this.objects.getJson(optOutKey(phone));
    return got ? parseDocument(OptOutDocument, got.value, 'opt-out') : null;
  }

  async putOptOut(record: OptOutRecord): Promise<void> {
    await this.objects.putJson(optOutKey(record.phone), record);
  }

  async listOptOuts(options: { limit: number; cursor?: string; fragment?: string }): Promise<OptOutPage> {
    const limit = Math.max(1, Math.min(options.limit, 200));
    const after = optOutCursorKey(options.cursor);
    const records: OptOutRecord[] = [];
    let reads = 0;
    let last: string | undefined;
    // The number is in the key, so the fragment is matched on listings alone; only matches are read.
    for await (const key of this.objects.listKeys(OPT_OUTS_PREFIX, after)) {
      const phone = optOutPhoneOf(key);
      if (!phone || !matchesFragment(phone, options.fragment)) continue;
      if (records.length >= limit || reads >= MAX_OPT_OUT_READS) return { records, ...(last ? { cursor: last } : {}) };
      reads += 1;
      last = key.slice(OPT_OUTS_PREFIX.length, -'.json'.length);
      const got = await this.objects.getJson(key);
      const record = got?.value as OptOutRecord | undefined;
      if (record?.opted_out) records.push(record);
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
    create: async (key, value) => (await this.objects.putNew(key, value)).created,
    read: (key) => this.objects.getJson(key),
    replace: async (key, value, etag) =>
      (await this.objects.putConditional(key, value, etag === null ? { IfNoneMatch: '*' } : { IfMatch: etag })) === 'ok',
    remove: async (key) => {
      await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    },
  };

  async readFigures(days: string[]): Promise<DayFigures[]> {
    // One listing per month finds the shards that exist (usually one a day); only those are read.
    const wanted = new Set(days);
    const keys: { day: string; key: string }[] = [];
    for (const month of monthsOf(days)) {
      for await (const key of this.objects.listKeys(dailyFiguresMonthPrefix(month))) {
        const day = figuresDayOf(key);
        if (day && wanted.has(day)) keys.push({ day, key });
      }
    }
    const shards = new Array<{ day: string; stored: unknown }>(keys.length);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < keys.length; i = next++) {
        const k = keys[i] as { day: string; key: string };
        shards[i] = { day: k.day, stored: (await this.objects.getJson(k.key))?.value };
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, keys.length) }, worker));
    return sumShards(days, shards);
  }

  async putOutbox<T>(entry: OutboxEntry<T>): Promise<void> {
    await this.objects.putJson(outboxKey(entry.kind, entry.id), entry);
  }

  async deleteOutbox(kind: OutboxKind, id: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: outboxKey(kind, id) }));
  }

  async listOutbox<T>(kind: OutboxKind, limit = 1000): Promise<OutboxEntry<T>[]> {
    const entries: OutboxEntry<T>[] = [];
    for await (const key of this.objects.listKeys(outboxPrefix(kind))) {
      if (entries.length >= limit) break;
      const got = await this.objects.getJson(key);
      // The envelope is checked here; the payload's type is the one its sender wrote under this kind.
      if (got) entries.push(parseDocument(OutboxDocument, got.value, 'outbox') as OutboxEntry<T>);
    }
    return entries;
  }

  async putReceipt(appointmentId: string, eventId: string, receipt: unknown): Promise<'created' | 'exists'> {
    return (await this.objects.putNew(receiptKey(appointmentId, eventId), receipt)).created ? 'created' : 'exists';
  }

  async getReceipt(appointmentId: string, eventId: string): Promise<unknown> {
    return (await this.objects.getJson(receiptKey(appointmentId, eventId)))?.value ?? null;
  }

  async createClaim(claim: ReminderClaim): Promise<ClaimCreation> {
    const put = await this.objects.putNew(reminderClaimKey(claim.appointment_id, claim.schedule_version, claim.n), claim);
    return put.created ? { kind: 'created', etag: put.etag } : { kind: 'exists' };
  }

  async getClaim(appointmentId: string, scheduleVersion: number, n: number): Promise<Versioned<ReminderClaim> | null> {
    const got = await this.objects.getJson(reminderClaimKey(appointmentId, scheduleVersion, n));
    return got ? { value: parseDocument(ReminderClaimDocument, got.value, 'reminder claim'), etag: got.etag } : null;
  }

  async replaceClaim(claim: ReminderClaim, etag: string): Promise<'ok' | 'conflict'> {
    return this.objects.putConditional(reminderClaimKey(claim.appointment_id, claim.schedule_version, claim.n), claim, { IfMatch: etag });
  }

  async deleteClaim(appointmentId: string, scheduleVersion: number, n: number): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: reminderClaimKey(appointmentId, scheduleVersion, n) }));
  }

  async putRejected(record: RejectedEvent): Promise<void> {
    await this.objects.putJson(rejectedKey(record.at, record.id), record);
  }

  async listRejected(limit: number): Promise<RejectedEvent[]> {
    const records: RejectedEvent[] = [];
    for await (const key of this.objects.listKeys(REJECTED_PREFIX)) {
      if (records.length >= limit) break;
      const got = await this.objects.getJson(key);
      if (got) records.push(parseDocument(RejectedEventDocument, got.value, 'rejected event'));
    }
    return records;
  }

  async putInboxItem(item: Omit<InboxItem, 'id' | 'done_at'>): Promise<'created' | 'exists'> {
    const id = inboxItemId(item.at, item.message_sid);
    return (await this.objects.putNew(`${INBOX_ITEMS_PREFIX}${id}.json`, { ...item, id })).created ? 'created' : 'exists';
  }

  async listInbox(limit: number): Promise<InboxItem[]> {
    const items: InboxItem[] = [];
    for await (const key of this.objects.listKeys(INBOX_ITEMS_PREFIX)) {
      if (items.length >= limit) break;
      const got = await this.objects.getJson(key);
      if (got) items.push(parseDocument(InboxItemDocument, got.value, 'inbox'));
    }
    return items;
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
    return (await this.objects.putNew(inboxAckKey(phone, day), { phone, day })).created;
  }

  async getInboxItem(id: string): Promise<InboxItem | null> {
    const key = inboxItemKey(id);
    const got = key ? await this.objects.getJson(key) : null;
    return got ? parseDocument(InboxItemDocument, got.value, 'inbox') : null;
  }

  private readonly inboxIo: ObjectIo = {
    read: (key) => this.objects.getJson(key),
    replace: async (key, value, etag) => (await this.objects.putConditional(key, value, { IfMatch: etag })) === 'ok',
  };

  async addInboxReply(id: string, reply: InboxReplyRef): Promise<'added' | 'not-found' | InboxReplyRef> {
    return changeInboxItem<'added' | 'not-found' | InboxReplyRef>(this.inboxIo, id, (item) => addReply(item, reply), 'not-found');
  }

  async settleInboxReply(id: string, replyId: string, outcome: Pick<InboxReplyRef, 'status' | 'execution_sid'>, at: string): Promise<void> {
    await changeInboxItem(this.inboxIo, id, (item) => ({ next: settleReply(item, replyId, outcome, at), result: undefined }), undefined);
  }

  async putStaffMessage(message: StaffMessage): Promise<'created' | 'exists'> {
    return (await this.objects.putNew(staffMessageKey(message.appointment_id, message.at, message.id), message)).created
      ? 'created'
      : 'exists';
  }

  async listStaffMessages(appointmentId: string): Promise<StaffMessage[]> {
    const messages: StaffMessage[] = [];
    for await (const key of this.objects.listKeys(staffMessagesPrefix(appointmentId))) {
      const got = await this.objects.getJson(key);
      if (got) messages.push(parseDocument(StaffMessageDocument, got.value, 'staff text'));
    }
    return messages;
  }

  async putSweepStatus(status: unknown): Promise<void> {
    await this.objects.putJson(SWEEP_STATUS_KEY, status);
  }

  async getSweepStatus(): Promise<unknown> {
    return (await this.objects.getJson(SWEEP_STATUS_KEY))?.value ?? null;
  }

  /** Writes the object only if the key is free (If-None-Match: *). */
  async linkMessage(messageSid: string, appointmentId: string): Promise<string> {
    if ((await this.objects.putNew(messageLinkKey(messageSid), { message_sid: messageSid, appointment_id: appointmentId })).created)
      return appointmentId;
    return (await this.findMessageLink(messageSid)) ?? appointmentId;
  }

  async findMessageLink(messageSid: string): Promise<string | null> {
    const got = await this.objects.getJson(messageLinkKey(messageSid));
    return got ? parseDocument(MessageLinkDocument, got.value, 'message link').appointment_id : null;
  }

  async putDeliveryReceipt(appointmentId: string, receipt: DeliveryReceipt): Promise<'created' | 'exists'> {
    return (await this.objects.putNew(deliveryKey(appointmentId, receipt.message_sid, receipt.status), receipt)).created
      ? 'created'
      : 'exists';
  }

  async listDeliveryReceipts(appointmentId: string): Promise<DeliveryReceipt[]> {
    const receipts: DeliveryReceipt[] = [];
    for await (const key of this.objects.listKeys(deliveriesPrefix(appointmentId))) {
      const got = await this.objects.getJson(key);
      if (got) receipts.push(parseDocument(DeliveryReceiptDocument, got.value, 'delivery receipt'));
    }
    return receipts.sort((a, b) => a.at.localeCompare(b.at));
  }

  async firstSeen(messageSid: string, at: string): Promise<string> {
    const key = inboundKey(messageSid);
    if ((await this.objects.putNew(key, { message_sid: messageSid, at })).created) return at;
    const got = await this.objects.getJson(key);
    const seen = (got?.value as { at?: unknown } | undefined)?.at;
    return typeof seen === 'string' ? seen : at;
  }

  async listAppointments(limit: number, cursor?: string): Promise<AppointmentPage> {
    // With a delimiter S3 returns one common prefix per appointment folder, so a page costs one
    // listing plus one read per appointment however long each history is. The cursor is the last
    // folder returned; listing resumes after everything inside it ('~' sorts after every character
    // of the keys in a folder, and before none of another folder's). The page size is also enforced
    // here, as S3-compatible servers do not all apply MaxKeys to common prefixes.
    const size = Math.max(1, Math.min(limit, 1000));
    const after = cursor && /^[A-Za-z0-9_-]+$/.test(cursor) ? `${APPOINTMENTS_PREFIX}${cursor}/~` : undefined;
    const page = await this.s3.send(
      new ListObjectsV2Command({
        Bucket: this.bucket,
        Prefix: APPOINTMENTS_PREFIX,
        Delimiter: '/',
        MaxKeys: size,
        ...(after ? { StartAfter: after } : {}),
      }),
    );
    const prefixes = (page.CommonPrefixes ?? []).flatMap((p) => (p.Prefix ? [p.Prefix] : [])).sort();
    const taken = prefixes.slice(0, size);
    const ids = taken.map(appointmentIdOfPrefix);
    const states = new Array<AppointmentState | undefined>(ids.length);
    const unreadable: string[] = [];
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < ids.length; i = next++) {
        const id = ids[i] as string;
        // Per-record isolation: a damaged record is reported by id, the rest of the page still shows.
        try {
          states[i] = (await this.getState(id))?.value;
        } catch (err) {
          if (!isReadFailure(err)) throw err;
          unreadable.push(id);
          log('warn', 'appointment record unreadable, left out of the listing', { appointment_id: id, code: readFailureCode(err) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, ids.length) }, worker));
    const last = taken.at(-1);
    const more = prefixes.length > size || page.IsTruncated === true;
    return {
      appointments: states.filter((s): s is AppointmentState => s !== undefined),
      ...(more && last ? { cursor: last.slice(APPOINTMENTS_PREFIX.length).replace(/\/$/, '') } : {}),
      ...(unreadable.length > 0 ? { unreadable: unreadable.sort() } : {}),
    };
  }

  async putListing(next: Listed, previous: Listed | null | undefined): Promise<void> {
    // Empty objects: everything a reader needs is in the key.
    await Promise.all(
      keysToAdd(next, previous).map((Key) =>
        this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: '{}', ContentType: JSON_TYPE })),
      ),
    );
  }

  async dropListing(previous: Listed, next: Listed): Promise<void> {
    const keys = keysToDrop(previous, next);
    if (keys.length === 0) return;
    if (keys.length === 1) {
      await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: keys[0] }));
      return;
    }
    // One request for both orders' entries (and any name words the new name dropped).
    const out = await this.s3.send(
      new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }),
    );
    if ((out.Errors ?? []).length > 0) throw new Error(`${out.Errors?.length} listing entries could not be deleted`);
  }

  async listIndexed(query: ListingQuery): Promise<ListingPage> {
    return readListing(query, {
      list: (prefix, startAfter, max) => this.objects.listAfter(prefix, startAfter, max),
      getState: async (id) => {
        try {
          return (await this.getState(id))?.value ?? null;
        } catch (err) {
          if (!isReadFailure(err)) throw err;
          log('warn', 'appointment record unreadable, left out of the listing', { appointment_id: id, code: readFailureCode(err) });
          return 'unreadable';
        }
      },
    });
  }

  async findByName(words: string[], limit: number): Promise<{ ids: string[]; truncated: boolean }> {
    return findByNameKeys(words, limit, (prefix, startAfter, max) => this.objects.listAfter(prefix, startAfter, max));
  }
}
