// POST /admin/simulate {event_type, appointment fields}: an EHR event through the real intake, or REMIND through the sweep.
import { adminFunction } from '../../src/admin/handler';
import { simulate } from '../../src/admin/simulate';
import { functionsRuntime } from '../../src/runtime/functions';

export const handler = adminFunction('session', ({ context, params, requestId }) => simulate(functionsRuntime(context), params, requestId));
