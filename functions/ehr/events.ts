// POST /ehr/events: the EHR integration engine's entry point (see README, "Event contract").
import { handleIntake, intakeRequestFromTwilioEvent } from '../../src/http/intake';
import { newRequestId } from '../../src/http/reply';
import {
  ConfigError,
  configErrorReply,
  functionsRuntime,
  respond,
  type FunctionCallback,
  type FunctionContext,
  type FunctionEvent,
} from '../../src/runtime/functions';

export async function handler(context: FunctionContext, event: FunctionEvent, callback: FunctionCallback) {
  const requestId = newRequestId();
  try {
    const runtime = functionsRuntime(context);
    const reply = await handleIntake(
      intakeRequestFromTwilioEvent(event),
      {
        apiKey: runtime.config.EHR_API_KEY,
        defaultCountry: runtime.config.DEFAULT_PHONE_COUNTRY,
        record: { store: runtime.store, policy: runtime.policy, now: () => new Date() },
      },
      requestId,
    );
    respond(callback, reply);
  } catch (err) {
    if (err instanceof ConfigError) respond(callback, configErrorReply(err, requestId));
    else callback(err);
  }
}
