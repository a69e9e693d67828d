import type { InboxItem, InboxReplyRef } from './appointment-store';

/** The item with reply `replyId` settled and the item marked done when it was sent (an earlier done time stays). */
export function settleReply(item: InboxItem, replyId: string, outcome: Pick<InboxReplyRef, 'status' | 'execution_sid'>, at: string): InboxItem {
  return {
    ...item,
    done_at: item.done_at ?? (outcome.status === 'sent' ? at : undefined),
    replies: (item.replies ?? []).map((r) =>
      r.id === replyId ? { ...r, status: outcome.status, ...(outcome.execution_sid ? { execution_sid: outcome.execution_sid } : {}) } : r,
    ),
  };
}
