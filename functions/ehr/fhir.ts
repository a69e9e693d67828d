// POST /ehr/fhir: FHIR R4 Appointments, Bundles and subscription notifications (README, "Connecting a FHIR feed").
import type { OperationOutcome } from '@medplum/fhirtypes';
import { handleFhirIntake } from '../../src/http/fhir-intake';
import { intakeRequestFromTwilioEvent } from '../../src/http/intake';
import { functionHandler } from '../../src/runtime/functions';
import { fhirIntakeDeps } from '../../src/runtime/intake-deps';

export const handler = functionHandler(
  'fhir intake failed',
  (runtime, event, _context, requestId) => handleFhirIntake(intakeRequestFromTwilioEvent(event), fhirIntakeDeps(runtime), requestId),
  (requestId) => {
    const outcome: OperationOutcome = {
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'exception', diagnostics: 'the request failed; nothing was recorded, retry it; the Functions logs have this request id' }],
    };
    return { status: 500, headers: { 'Content-Type': 'application/fhir+json', 'X-Request-Id': requestId }, body: outcome };
  },
);
