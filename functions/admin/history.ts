// GET /admin/history?appointment_id=: one appointment's state, reminder plan and every recorded event.
import { appointmentHistory } from '../../src/admin/appointments';
import { adminFunction, audit, stringParam } from '../../src/admin/handler';
import { errorReply, jsonReply } from '../../src/http/reply';
import { functionsRuntime } from '../../src/runtime/functions';

export const handler = adminFunction('session', async (call) => {
  const { context, params, requestId } = call;
  const id = stringParam(params, 'appointment_id');
  if (!id) return errorReply('invalid-request', 'appointment_id is required', requestId, { problems: [{ field: 'appointment_id', message: 'is required' }] });
  const runtime = functionsRuntime(context);
  const found = await appointmentHistory({ store: runtime.store, policy: runtime.policy, now: runtime.record.now }, id);
  await audit(call, 'appointment.view', { appointment_id: id }, { outcome: found ? 'success' : 'failure' });
  return found ? jsonReply(200, found, requestId) : errorReply('not-found', 'no appointment with this id', requestId);
}, { role: 'staff' });
