// POST /admin/simulate-message {format: hl7v2 | fhir-r4, message}: a pasted message through the real /ehr/hl7 or /ehr/fhir intake.
import { adminFunction } from '../../src/admin/handler';
import { simulateMessage } from '../../src/admin/simulate-message';
import { functionsRuntime } from '../../src/runtime/functions';

export const handler = adminFunction('session', ({ context, params, requestId }) =>
  simulateMessage(functionsRuntime(context), params, requestId),
);
