// Called by the Studio Flow (run-function) for every patient SMS: records confirm/cancel requests,
// forwards them to the EHR, keeps the opt-out ledger, and tells the flow what to answer.
import { E164_PATTERN } from '../../src/config/rules';
import { errorReply, jsonReply, newRequestId } from '../../src/http/reply';
import { sleep } from '../../src/runtime/clock';
import {
  failureReply,
  functionsRuntime,
  respond,
  unsignedReply,
  type FunctionCallback,
  type FunctionContext,
  type FunctionEvent,
} from '../../src/runtime/functions';
import { handleReply } from '../../src/use-cases/handle-reply';

/**
 * Studio gives a Function 10 s (the run-function widget then takes its fail branch and the patient
 * is told their reply failed). We answer within 8 s: the EHR gets what is left minus a margin for
 * the receipt write and the answer itself; the sweep retries the rest from the outbox.
 */
const REPLY_DEADLINE_MS = 8_000;
const ANSWER_MARGIN_MS = 1_000;

function param(event: FunctionEvent, key: string): string {
  const v = event[key];
  return typeof v === 'string' ? v : '';
}

export async function handler(context: FunctionContext, event: FunctionEvent, callback: FunctionCallback) {
  const requestId = newRequestId();
  const started = performance.now();
  try {
    const runtime = functionsRuntime(context);
    const unsigned = unsignedReply(runtime, context, event, requestId, 'reply');
    if (unsigned) return respond(callback, unsigned);
    const from = param(event, 'From');
    if (!E164_PATTERN.test(from)) {
      return respond(callback, errorReply('invalid-request', 'From: is not an E.164 phone number', requestId, { field: 'From' }));
    }
    const outcome = await handleReply(
      {
        record: runtime.record,
        notifier: runtime.notifier,
        homeCountry: runtime.config.DEFAULT_PHONE_COUNTRY,
        ehrTimeoutMs: () => REPLY_DEADLINE_MS - ANSWER_MARGIN_MS - (performance.now() - started),
        sleep,
      },
      {
        from,
        body: param(event, 'Body'),
        messageSid: param(event, 'MessageSid'),
        optOutType: param(event, 'OptOutType') || undefined,
        appointmentId: param(event, 'appointment_id') || undefined,
        flowSid: param(event, 'flow_sid') || undefined,
        executionSid: param(event, 'execution_sid') || undefined,
      },
    );
    respond(callback, jsonReply(200, outcome, requestId));
  } catch (err) {
    // Studio takes the fail branch whatever the status; the status tells the logs a bug from an outage.
    respond(callback, failureReply(err, requestId, 'reply failed'));
  }
}
