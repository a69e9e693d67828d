// POST /ehr/fhir: FHIR R4 Appointments, Bundles and subscription notifications (README, "Connecting a FHIR feed").
import type { OperationOutcome } from '@medplum/fhirtypes';
import { handleFhirIntake } from '../../src/http/fhir-intake';
import { intakeRequestFromTwilioEvent } from '../../src/http/intake';
import { newRequestId } from '../../src/http/reply';
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
import { fhirIntakeDeps } from '../../src/runtime/intake-deps';

export async function handler(context: FunctionContext, event: FunctionEvent, callback: FunctionCallback) {
  const requestId = newRequestId();
  try {
    const runtime = functionsRuntime(context);
    const reply = await handleFhirIntake(intakeRequestFromTwilioEvent(event), fhirIntakeDeps(runtime), requestId);
    respond(callback, reply);
  } catch (err) {
    if (err instanceof ConfigError) return respond(callback, configErrorReply(err, requestId));
    // Never callback(err): the runtime would answer with the error's message and stack trace.
    log('error', 'fhir intake failed', { request_id: requestId, error: describeError(err) });
    const outcome: OperationOutcome = {
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'exception', diagnostics: 'the request failed; nothing was recorded, retry it; the Functions logs have this request id' }],
    };
    respond(callback, { status: 500, headers: { 'Content-Type': 'application/fhir+json', 'X-Request-Id': requestId }, body: outcome });
  }
}
