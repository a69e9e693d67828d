// The Messaging Service's status callback: Twilio posts every status of every text the flow sends
// through the service (queued, sent, delivered, undelivered, failed with ErrorCode), signed with
// X-Twilio-Signature. Each status lands in the appointment's history; a number that cannot receive
// texts (30003/30005/30006) stops its reminders.
import { z } from 'zod';
import { errorReply, jsonReply, newRequestId } from '../../src/http/reply';
import { isStudioCallSigned } from '../../src/http/twilio-signature';
import { describeError, log } from '../../src/log';
import {
  ConfigError,
  configErrorReply,
  functionsRuntime,
  respond,
  type FunctionCallback,
  type FunctionContext,
  type FunctionEvent,
} from '../../src/runtime/functions';
import { recordDelivery } from '../../src/use-cases/record-delivery';

/** Twilio's status callback parameters (docs: Messaging webhooks, "Outbound message status callback"). */
const StatusCallback = z.object({
  MessageSid: z.string().regex(/^(SM|MM)[0-9a-fA-F]{32}$/),
  MessageStatus: z.enum(['accepted', 'scheduled', 'queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'read', 'canceled']),
  To: z.string().regex(/^\+[1-9]\d{6,14}$/),
  ErrorCode: z.string().regex(/^\d{1,6}$/).optional(),
});

export async function handler(context: FunctionContext, event: FunctionEvent, callback: FunctionCallback) {
  const requestId = newRequestId();
  try {
    const runtime = functionsRuntime(context);
    if (!isStudioCallSigned(runtime.config.AUTH_TOKEN, context, event)) {
      log('warn', 'status callback rejected: bad signature', { request_id: requestId, status: 403 });
      return respond(callback, errorReply('forbidden', 'missing or invalid X-Twilio-Signature', requestId));
    }
    const parsed = StatusCallback.safeParse({ ...event, ErrorCode: event.ErrorCode === '' ? undefined : event.ErrorCode });
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message }));
      return respond(callback, errorReply('invalid-request', 'not a message status callback', requestId, { problems }));
    }
    const p = parsed.data;
    const outcome = await recordDelivery(
      { store: runtime.store, now: runtime.record.now },
      { messageSid: p.MessageSid, status: p.MessageStatus, to: p.To, ...(p.ErrorCode ? { errorCode: p.ErrorCode } : {}) },
    );
    respond(callback, jsonReply(200, outcome, requestId));
  } catch (err) {
    if (err instanceof ConfigError) return respond(callback, configErrorReply(err, requestId));
    log('error', 'status callback failed', { request_id: requestId, error: describeError(err) });
    // Twilio does not retry status callbacks; a 503 at least shows in the Console's error log (11200).
    respond(callback, errorReply('storage-unavailable', 'the delivery status could not be recorded', requestId));
  }
}
