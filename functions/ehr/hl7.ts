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
import { sendMessagesForEvents } from '../../src/use-cases/send-messages';

export async function handler(context: FunctionContext, event: FunctionEvent, callback: FunctionCallback) {
  const requestId = newRequestId();
  try {
    const runtime = functionsRuntime(context);
    const reply = await handleHl7Intake(
      intakeRequestFromTwilioEvent(event),
      {
        apiKey: runtime.config.EHR_API_KEY,
        defaultCountry: runtime.config.DEFAULT_PHONE_COUNTRY,
        maxFutureHours: runtime.config.EHR_EVENT_MAX_FUTURE_HOURS,
        maxAppointmentDays: runtime.config.EHR_APPOINTMENT_MAX_FUTURE_DAYS,
        defaultZone: runtime.config.EHR_DEFAULT_TIMEZONE,
        facilityZones: runtime.config.EHR_FACILITY_TIMEZONES,
        record: runtime.record,
        sendMessages: (results, events) => sendMessagesForEvents({ flows: runtime.flows, store: runtime.store, now: runtime.record.now }, results, events),
      },
      requestId,
    );
    respond(callback, reply);
  } catch (err) {
    if (err instanceof ConfigError) return respond(callback, configErrorReply(err, requestId));
    // Never callback(err): the runtime would answer with the error's message and stack trace.
    log('error', 'hl7 intake failed', { request_id: requestId, error: describeError(err) });
    respond(callback, errorReply('internal', 'the request failed; nothing was recorded, resend it; the Functions logs have this request id', requestId));
  }
}
