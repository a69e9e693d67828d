// POST /ehr/hl7: HL7 v2 SIU messages from an integration engine (see README, "Connecting an HL7 v2 feed").
import { handleHl7Intake } from '../../src/http/hl7-intake';
import { intakeRequestFromTwilioEvent } from '../../src/http/intake';
import { errorReply, newRequestId } from '../../src/http/reply';
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
import { hl7IntakeDeps } from '../../src/runtime/intake-deps';

export async function handler(context: FunctionContext, event: FunctionEvent, callback: FunctionCallback) {
  const requestId = newRequestId();
  try {
    const runtime = functionsRuntime(context);
    const reply = await handleHl7Intake(intakeRequestFromTwilioEvent(event), hl7IntakeDeps(runtime), requestId);
    respond(callback, reply);
  } catch (err) {
    if (err instanceof ConfigError) return respond(callback, configErrorReply(err, requestId));
    // Never callback(err): the runtime would answer with the error's message and stack trace.
    log('error', 'hl7 intake failed', { request_id: requestId, error: describeError(err) });
    respond(callback, errorReply('internal', 'the request failed; nothing was recorded, resend it; the Functions logs have this request id', requestId));
  }
}
