// POST /ehr/events: the EHR integration engine's entry point (see README, "Event contract").
import { handleIntake, intakeRequestFromTwilioEvent } from '../../src/http/intake';
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
import { intakeDeps } from '../../src/runtime/intake-deps';

export async function handler(context: FunctionContext, event: FunctionEvent, callback: FunctionCallback) {
  const requestId = newRequestId();
  try {
    const runtime = functionsRuntime(context);
    const reply = await handleIntake(intakeRequestFromTwilioEvent(event), intakeDeps(runtime), requestId);
    respond(callback, reply);
  } catch (err) {
    if (err instanceof ConfigError) return respond(callback, configErrorReply(err, requestId));
    // Never callback(err): the runtime would answer with the error's message and stack trace.
    log('error', 'intake failed', { request_id: requestId, error: describeError(err) });
    respond(callback, errorReply('internal', 'the request failed; nothing was recorded, retry it; the Functions logs have this request id', requestId));
  }
}
