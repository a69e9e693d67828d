// Called by the Studio Flow (run-function) for an execution our Functions did not start: an
// integration engine posting its events to the flow, as the reference app's engines do. Records
// the event like /ehr/events and tells the flow whether, and what, to text.
import { jsonReply } from '../../src/http/reply';
import { functionHandler, unsignedReply } from '../../src/runtime/functions';
import { recordStudioEvent } from '../../src/use-cases/studio-event';

export const handler = functionHandler(
  'studio event failed',
  async (runtime, event, context, requestId) => {
    const unsigned = unsignedReply(runtime, context, event, requestId, 'studio event');
    if (unsigned) return unsigned;
    const text = (key: string) => (typeof event[key] === 'string' ? event[key] : '');
    const answer = await recordStudioEvent(
      {
        record: runtime.record,
        rejected: runtime.store,
        homeCountry: runtime.config.DEFAULT_PHONE_COUNTRY,
        maxFutureHours: runtime.config.EHR_EVENT_MAX_FUTURE_HOURS,
        maxAppointmentDays: runtime.config.EHR_APPOINTMENT_MAX_FUTURE_DAYS,
      },
      event,
      { to: text('To'), executionSid: text('execution_sid') },
    );
    return jsonReply(200, answer, requestId);
  },
  // On any failure Studio takes the fail branch and texts nothing; the engine's event is not recorded.
);
