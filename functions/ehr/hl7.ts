// POST /ehr/hl7: HL7 v2 SIU messages from an integration engine (see README, "Connecting an HL7 v2 feed").
import { handleHl7Intake } from '../../src/http/hl7-intake';
import { intakeRequestFromTwilioEvent } from '../../src/http/intake';
import { functionHandler } from '../../src/runtime/functions';
import { hl7IntakeDeps } from '../../src/runtime/intake-deps';

export const handler = functionHandler('hl7 intake failed', (runtime, event, _context, requestId) =>
  handleHl7Intake(intakeRequestFromTwilioEvent(event), hl7IntakeDeps(runtime), requestId),
);
