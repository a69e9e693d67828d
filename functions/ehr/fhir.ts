// POST /ehr/fhir: FHIR R4 Appointments, Bundles and subscription notifications (README, "Connecting a FHIR feed").
import type { OperationOutcome } from '@medplum/fhirtypes';
import { handleFhirIntake } from '../../src/http/fhir-intake';
import { intakeRequestFromTwilioEvent } from '../../src/http/intake';
import { functionHandler } from '../../src/runtime/functions';
import { fhirIntakeDeps } from '../../src/runtime/intake-deps';

export const handler = functionHandler(
  'fhir intake failed',
  (runtime, event, _context, requestId) => handleFhirIntake(intakeRequestFromTwilioEvent(event), fhirIntakeDeps(runtime), requestId),
  (reply, error) => {
    const outcome: OperationOutcome = {
      resourceType: 'OperationOutcome',
      issue: [
        {
          severity: 'error',
          code: error.retryable ? 'transient' : 'exception',
          diagnostics:
            error.code === 'internal'
              ? `the request failed; nothing was recorded; the Functions logs have request id ${reply.headers?.['X-Request-Id'] ?? ''}`
              : error.message,
        },
      ],
    };
    return { ...reply, headers: { ...reply.headers, 'Content-Type': 'application/fhir+json' }, body: outcome };
  },
);
