import { z } from 'zod';
import type { InboxItem, InboxReplyRef, StaffMessage } from './appointment-store';

// The inbox documents are parsed when read, like the state: a damaged object is an error that
// names the field, not a value the page renders half-way.
const ReplyRef = z.object({
  id: z.string(),
  at: z.string(),
  by: z.string(),
  status: z.enum(['sending', 'sent', 'failed']),
  execution_sid: z.string().optional(),
});

export const InboxItemRecord: z.ZodType<InboxItem> = z.object({
  id: z.string(),
  message_sid: z.string(),
  phone: z.string(),
  appointment_id: z.string().optional(),
  body: z.string(),
  intent: z.enum(['unclear', 'unknown']),
  at: z.string(),
  done_at: z.string().optional(),
  replies: z.array(ReplyRef).optional(),
});

export const StaffMessageRecord: z.ZodType<StaffMessage> = z.object({
  id: z.string(),
  appointment_id: z.string(),
  inbox_item_id: z.string(),
  at: z.string(),
  by: z.string(),
  body: z.string(),
  status: z.enum(['sent', 'failed']),
  execution_sid: z.string().optional(),
  error: z.string().optional(),
});

/** The item with reply `replyId` settled and the item marked done (an earlier done time stays). */
export function settleReply(item: InboxItem, replyId: string, outcome: Pick<InboxReplyRef, 'status' | 'execution_sid'>, at: string): InboxItem {
  return {
    ...item,
    done_at: item.done_at ?? (outcome.status === 'sent' ? at : undefined),
    replies: (item.replies ?? []).map((r) =>
      r.id === replyId ? { ...r, status: outcome.status, ...(outcome.execution_sid ? { execution_sid: outcome.execution_sid } : {}) } : r,
    ),
  };
}
