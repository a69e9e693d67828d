// GET /admin/environment: what the page must know before anyone logs in (public; no secrets, no patient data).
import { errorReply, jsonReply, newRequestId } from '../../src/http/reply';
import { respond, type FunctionCallback, type FunctionContext, type FunctionEvent } from '../../src/runtime/functions';
import type { EnvironmentAnswer } from '../../src/admin/api-types';

export function handler(context: FunctionContext, _event: FunctionEvent, callback: FunctionCallback) {
  const requestId = newRequestId();
  try {
    // TWILIO_API_BASE_URL is set only by `npm start`, which serves the local phones and EHR next to the Functions.
    const local = typeof context.TWILIO_API_BASE_URL === 'string' && context.TWILIO_API_BASE_URL !== '';
    const name = typeof context.CUSTOMER_NAME === 'string' ? context.CUSTOMER_NAME : '';
    respond(callback, jsonReply(200, { local, customer_name: name } satisfies EnvironmentAnswer, requestId));
  } catch {
    respond(callback, errorReply('internal', 'the environment could not be read', requestId));
  }
}
