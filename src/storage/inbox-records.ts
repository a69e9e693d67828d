import { BusyError } from '../domain/errors';
import type { InboxItem, InboxReplyRef } from './appointment-store';
import { InboxItemDocument, parseDocument } from './documents';
import { inboxItemKey } from './keys';

/** The item with reply `replyId` settled and the item marked done when it was sent (an earlier done time stays). */
export function settleReply(
  item: InboxItem,
  replyId: string,
  outcome: Pick<InboxReplyRef, 'status' | 'execution_sid'>,
  at: string,
): InboxItem {
  return {
    ...item,
    done_at: item.done_at ?? (outcome.status === 'sent' ? at : undefined),
    replies: (item.replies ?? []).map((r) =>
      r.id === replyId ? { ...r, status: outcome.status, ...(outcome.execution_sid ? { execution_sid: outcome.execution_sid } : {}) } : r,
    ),
  };
}

/** How an adapter reads and conditionally replaces one object (S3's GET and PUT with If-Match, or the memory store's). */
export interface ObjectIo {
  read(key: string): Promise<{ value: unknown; etag: string } | null>;
  /** False when the object no longer has `etag` (another write came first). */
  replace(key: string, value: unknown, etag: string): Promise<boolean>;
}

/** Compare-and-set rounds on one inbox item before giving up (staff rarely write one item at once). */
const INBOX_CAS_ATTEMPTS = 10;

/**
 * One compare-and-set change of an inbox item, retried when another write came first: `change`
 * sees the item as stored and answers the result, with the item to write (or none to leave it).
 * `missing` is the answer for an id no item has.
 */
export async function changeInboxItem<R>(
  io: ObjectIo,
  id: string,
  change: (item: InboxItem) => { next?: InboxItem; result: R },
  missing: R,
): Promise<R> {
  const key = inboxItemKey(id);
  if (!key) return missing;
  for (let attempt = 0; attempt < INBOX_CAS_ATTEMPTS; attempt += 1) {
    const got = await io.read(key);
    if (!got) return missing;
    const { next, result } = change(parseDocument(InboxItemDocument, got.value, 'inbox'));
    if (!next || (await io.replace(key, next, got.etag))) return result;
  }
  throw new BusyError('the inbox item', INBOX_CAS_ATTEMPTS);
}

/** The reply added to the item unless one with its id is there (then that one is the answer). */
export function addReply(item: InboxItem, reply: InboxReplyRef): { next?: InboxItem; result: 'added' | InboxReplyRef } {
  const found = item.replies?.find((r) => r.id === reply.id);
  return found ? { result: found } : { next: { ...item, replies: [...(item.replies ?? []), reply] }, result: 'added' };
}
