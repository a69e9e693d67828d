import { z } from 'zod';
import { errorReply, jsonReply, type HttpReply } from '../http/reply';
import { log } from '../log';
import type { ClinicInbox } from '../storage/appointment-store';
import { sendStaffReply, type StaffReplyDeps } from '../use-cases/staff-reply';
import type { InboxAnswer } from './api-types';

/** How many inbox items the page shows; the unread count is over these. */
const INBOX_PAGE = 100;

/** The newest inbox items and how many of them nobody has marked done. */
export async function inboxReply(store: ClinicInbox, requestId: string): Promise<HttpReply> {
  const items = await store.listInbox(INBOX_PAGE);
  return jsonReply(200, { items, unread: items.filter((i) => !i.done_at).length } satisfies InboxAnswer, requestId);
}

const InboxDone = z.object({ id: z.string().min(1).max(200) });

/** Marks one inbox item handled; 404 for an id no item has. */
export async function inboxDoneReply(
  store: ClinicInbox,
  params: Record<string, unknown>,
  at: string,
  requestId: string,
): Promise<HttpReply> {
  const parsed = InboxDone.safeParse(params);
  if (!parsed.success) {
    return errorReply('invalid-request', 'id must be the id of an inbox item', requestId, {
      problems: [{ field: 'id', message: 'is required' }],
    });
  }
  const result = await store.markInboxDone(parsed.data.id, at);
  if (result === 'not-found') return errorReply('not-found', 'no inbox item has this id', requestId);
  log('info', 'inbox item marked done', { request_id: requestId, code: parsed.data.id });
  return jsonReply(200, { id: parsed.data.id, done: true }, requestId);
}

const StaffReply = z.object({
  id: z.string({ error: 'is required' }).min(1, { error: 'is required' }).max(200),
  reply_id: z
    .string({ error: 'is required' })
    .regex(/^[A-Za-z0-9_-]{8,64}$/, { error: 'must be 8 to 64 letters, digits, - or _ (a fresh id per send)' }),
  body: z.string({ error: 'is required' }).max(2000, { error: 'must be at most 2000 characters' }),
});

/**
 * Texts the patient of an inbox item (POST {id, reply_id, body}). 200 once sent (or when the same
 * reply_id was sent before), 409 for a patient who opted out, 502/503 when Studio refused it.
 */
export async function staffReplyReply(
  deps: StaffReplyDeps,
  params: Record<string, unknown>,
  by: string,
  requestId: string,
): Promise<HttpReply> {
  const parsed = StaffReply.safeParse(params);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message }));
    return errorReply(
      'invalid-request',
      `the reply is not valid: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`,
      requestId,
      { problems },
    );
  }
  const { id, reply_id, body } = parsed.data;
  const result = await sendStaffReply(deps, { inboxId: id, replyId: reply_id, body, by });
  switch (result.outcome) {
    case 'invalid':
      return errorReply('invalid-request', `${result.field} ${result.message}`, requestId, {
        problems: [{ field: result.field, message: result.message }],
      });
    case 'not-found':
      return errorReply('not-found', 'no inbox item has this id', requestId);
    case 'opted-out':
      return errorReply('conflict', 'this patient has opted out of texts; only their START allows texts again', requestId);
    case 'failed':
      return errorReply(result.retryable ? 'storage-unavailable' : 'upstream-error', `the text was not sent: ${result.error}`, requestId, {
        reply: result.reply,
      });
    case 'duplicate':
      return jsonReply(200, { id, reply: result.reply, duplicate: true }, requestId);
    case 'sent':
      return jsonReply(200, { id, reply: result.reply }, requestId);
  }
}
