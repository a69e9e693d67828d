// The Messaging Service's status callback: Twilio posts every status of every text the flow sends
// through the service (queued, sent, delivered, undelivered, failed with ErrorCode), signed with
// X-Twilio-Signature. Each status lands in the appointment's history; a number that cannot receive
// texts (30003/30005/30006) stops its reminders.
import { z } from 'zod';
import { E164_PATTERN } from '../../src/config/rules';
import { errorReply, jsonReply } from '../../src/http/reply';
import { functionHandler, unsignedReply } from '../../src/runtime/functions';
import { recordDelivery } from '../../src/use-cases/record-delivery';

/** Twilio's status callback parameters (docs: Messaging webhooks, "Outbound message status callback"). */
const StatusCallback = z.object({
  MessageSid: z.string().regex(/^(SM|MM)[0-9a-fA-F]{32}$/),
  MessageStatus: z.enum(['accepted', 'scheduled', 'queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'read', 'canceled']),
  To: z.string().regex(E164_PATTERN),
  ErrorCode: z
    .string()
    .regex(/^\d{1,6}$/)
    .optional(),
});

export const handler = functionHandler(
  'status callback failed',
  async (runtime, event, context, requestId) => {
    const unsigned = unsignedReply(runtime, context, event, requestId, 'status callback');
    if (unsigned) return unsigned;
    const parsed = StatusCallback.safeParse({ ...event, ErrorCode: event.ErrorCode === '' ? undefined : event.ErrorCode });
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message }));
      return errorReply('invalid-request', 'not a message status callback', requestId, { problems });
    }
    const p = parsed.data;
    const outcome = await recordDelivery(
      { store: runtime.store, policy: runtime.policy, now: runtime.record.now },
      { messageSid: p.MessageSid, status: p.MessageStatus, to: p.To, ...(p.ErrorCode ? { errorCode: p.ErrorCode } : {}) },
    );
    return jsonReply(200, outcome, requestId);
  },
  // Twilio does not retry status callbacks; a failure at least shows in the Console's error log (11200).
);
