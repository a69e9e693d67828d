// Called by the Studio Flow (run-function) for an execution our Functions did not start: an
// integration engine posting its events to the flow, as the reference app's engines do. Records
// the event like /ehr/events and tells the flow whether, and what, to text.
import { DEFAULT_APPOINTMENT_MAX_FUTURE_DAYS } from '../../src/http/intake';
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
import { recordStudioEvent } from '../../src/use-cases/studio-event';

export async function handler(context: FunctionContext, event: FunctionEvent, callback: FunctionCallback) {
  const requestId = newRequestId();
  try {
    const runtime = functionsRuntime(context);
    const signed = isStudioCallSigned(runtime.config.AUTH_TOKEN, context, event);
    if (!signed) {
      log('warn', 'studio event rejected: bad signature', { request_id: requestId, status: 403 });
      return respond(callback, errorReply('forbidden', 'missing or invalid X-Twilio-Signature', requestId));
    }
    const text = (key: string) => (typeof event[key] === 'string' ? (event[key] as string) : '');
    const answer = await recordStudioEvent(
      {
        record: runtime.record,
        rejected: runtime.store,
        homeCountry: runtime.config.DEFAULT_PHONE_COUNTRY,
        maxFutureHours: runtime.config.EHR_EVENT_MAX_FUTURE_HOURS,
        maxAppointmentDays: runtime.config.EHR_APPOINTMENT_MAX_FUTURE_DAYS ?? DEFAULT_APPOINTMENT_MAX_FUTURE_DAYS,
      },
      event,
      { to: text('To'), executionSid: text('execution_sid') },
    );
    respond(callback, jsonReply(200, answer, requestId));
  } catch (err) {
    if (err instanceof ConfigError) return respond(callback, configErrorReply(err, requestId));
    log('error', 'studio event failed', { request_id: requestId, error: describeError(err) });
    // Studio takes the fail branch and texts nothing; the engine's event is not recorded.
    respond(callback, errorReply('storage-unavailable', 'the event could not be recorded; nothing was texted', requestId));
  }
}
