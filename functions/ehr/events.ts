// POST /ehr/events: the EHR integration engine's entry point (see README, "Event contract").
import { handleIntake, intakeRequestFromTwilioEvent } from '../../src/http/intake';
import { functionHandler } from '../../src/runtime/functions';
import { intakeDeps } from '../../src/runtime/intake-deps';

export const handler = functionHandler('intake failed', (runtime, event, _context, requestId) =>
  handleIntake(intakeRequestFromTwilioEvent(event), intakeDeps(runtime), requestId),
);
