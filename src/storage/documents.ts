import { z } from 'zod';
import { AppointmentEvent } from '../domain/event';
import { AppError } from '../domain/errors';
import type {
  DeliveryReceipt,
  HistoryRecord,
  InboxItem,
  InboxReplyRef,
  OptOutRecord,
  OutboxEntry,
  RejectedEvent,
  ReminderClaim,
  StaffMessage,
} from './appointment-store';

/**
 * The schemas of the documents the store reads back from S3 (the state's is AppointmentState in
 * the domain). Each is declared against the port's type, so the compiler keeps the two in step; an
 * object that does not match is a damaged record, not a value to cast.
 */
export const HistoryRecordDocument: z.ZodType<HistoryRecord> = z.object({
  event: AppointmentEvent,
  received_at: z.string(),
  request_id: z.string().optional(),
});

export const OptOutDocument: z.ZodType<OptOutRecord> = z.object({
  phone: z.string(),
  opted_out: z.boolean(),
  at: z.string(),
  message_sid: z.string().optional(),
});

/** The outbox envelope; its payload is the sender's own (an EHR request, a flow start) and is checked where it is sent. */
export const OutboxDocument: z.ZodType<OutboxEntry> = z.object({
  kind: z.enum(['ehr', 'flow']),
  id: z.string(),
  created_at: z.string(),
  attempts: z.number().int().min(0),
  last_error: z.string().optional(),
  next_attempt_at: z.string(),
  payload: z.unknown(),
});

export const ReminderClaimDocument: z.ZodType<ReminderClaim> = z.object({
  appointment_id: z.string(),
  schedule_version: z.number().int(),
  n: z.number().int(),
  event_id: z.string(),
  status: z.enum(['claimed', 'sent']),
  claimed_at: z.string(),
  lease_until: z.string(),
  sweep_id: z.string(),
  execution_sid: z.string().optional(),
});

export const RejectedEventDocument: z.ZodType<RejectedEvent> = z.object({
  id: z.string(),
  at: z.string(),
  source: z.literal('studio-execution'),
  execution_sid: z.string().optional(),
  appointment_id: z.string().optional(),
  event_type: z.string().optional(),
  problems: z.array(z.object({ field: z.string(), message: z.string() })),
});

export const DeliveryReceiptDocument: z.ZodType<DeliveryReceipt> = z.object({
  message_sid: z.string(),
  status: z.string(),
  error_code: z.string().optional(),
  at: z.string(),
});

/** Fields added later (by newer code) are kept: an inbox item is rewritten whole when marked done. */
const InboxReplyRefDocument: z.ZodType<InboxReplyRef> = z.object({
  id: z.string(),
  at: z.string(),
  by: z.string(),
  status: z.enum(['sending', 'sent', 'failed']),
  execution_sid: z.string().optional(),
});

export const InboxItemDocument: z.ZodType<InboxItem> = z.looseObject({
  id: z.string(),
  message_sid: z.string(),
  phone: z.string(),
  appointment_id: z.string().optional(),
  body: z.string(),
  intent: z.enum(['unclear', 'unknown']),
  at: z.string(),
  done_at: z.string().optional(),
  replies: z.array(InboxReplyRefDocument).optional(),
});

export const StaffMessageDocument: z.ZodType<StaffMessage> = z.object({
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

export const MessageLinkDocument = z.object({ message_sid: z.string().optional(), appointment_id: z.string() });

/** Why a stored record could not be read; only the kind, for logs (never the content). */
export type DamageKind = 'not-json' | 'unexpected-shape';

/** A record that exists but is not what we wrote: not retryable, an operator has to look at it. */
export class DamagedRecordError extends AppError {
  constructor(
    readonly kind: DamageKind,
    readonly what: string,
  ) {
    super('damaged-record', `a stored ${what} is damaged (${kind}); nothing was changed, an operator has to repair or remove it`);
  }
}

export function parseDocument<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new DamagedRecordError('unexpected-shape', what);
  return parsed.data;
}
