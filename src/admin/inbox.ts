import { z } from 'zod';
import { errorReply, jsonReply, type HttpReply } from '../http/reply';
import { log } from '../log';
import type { ClinicInbox } from '../storage/appointment-store';

/** How many inbox items the page shows; the unread count is over these. */
const INBOX_PAGE = 100;

/** The newest inbox items and how many of them nobody has marked done. */
export async function inboxReply(store: ClinicInbox, requestId: string): Promise<HttpReply> {
  const items = await store.listInbox(INBOX_PAGE);
  return jsonReply(200, { items, unread: items.filter((i) => !i.done_at).length }, requestId);
}

const InboxDone = z.object({ id: z.string().min(1).max(200) });

/** Marks one inbox item handled; 404 for an id no item has. */
export async function inboxDoneReply(store: ClinicInbox, params: Record<string, unknown>, at: string, requestId: string): Promise<HttpReply> {
  const parsed = InboxDone.safeParse(params);
  if (!parsed.success) {
    return errorReply('invalid-request', 'id must be the id of an inbox item', requestId, { problems: [{ field: 'id', message: 'is required' }] });
  }
  const result = await store.markInboxDone(parsed.data.id, at);
  if (result === 'not-found') return errorReply('not-found', 'no inbox item has this id', requestId);
  log('info', 'inbox item marked done', { request_id: requestId, code: parsed.data.id });
  return jsonReply(200, { id: parsed.data.id, done: true }, requestId);
}
