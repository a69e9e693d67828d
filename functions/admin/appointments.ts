// GET /admin/appointments?limit=&cursor=: a page of appointments with disposition and next planned reminder.
import { listAppointmentRows } from '../../src/admin/appointments';
import { adminFunction, audit, stringParam } from '../../src/admin/handler';
import { jsonReply } from '../../src/http/reply';
import { functionsRuntime } from '../../src/runtime/functions';

export const handler = adminFunction('session', async (call) => {
  const { context, params, requestId } = call;
  const runtime = functionsRuntime(context);
  const limit = Number(stringParam(params, 'limit') ?? params.limit ?? 50);
  const page = await listAppointmentRows(
    { store: runtime.store, policy: runtime.policy, now: runtime.record.now },
    Number.isInteger(limit) ? limit : 50,
    stringParam(params, 'cursor') || undefined,
  );
  await audit(call, 'appointments.list', { cursor: stringParam(params, 'cursor') });
  return jsonReply(200, page, requestId);
}, { role: 'staff' });
