// GET /admin/export?table=appointments|history&cursor=&appointment_id=: one page of a CSV export.
import { exportPage } from '../../src/admin/csv';
import { adminFunction, audit, stringParam } from '../../src/admin/handler';
import { errorReply, jsonReply } from '../../src/http/reply';
import { functionsRuntime } from '../../src/runtime/functions';
import type { CsvPage } from '../../src/admin/api-types';

export const handler = adminFunction('session', async (call) => {
  const { context, params, requestId } = call;
  const table = stringParam(params, 'table');
  if (table !== 'appointments' && table !== 'history') {
    return errorReply('invalid-request', 'table must be appointments or history', requestId, {
      problems: [{ field: 'table', message: 'must be appointments or history' }],
    });
  }
  const runtime = functionsRuntime(context);
  const cursor = stringParam(params, 'cursor');
  const appointmentId = stringParam(params, 'appointment_id');
  const page = await exportPage({ store: runtime.store, policy: runtime.policy, now: runtime.record.now }, table, {
    ...(cursor ? { cursor } : {}),
    ...(appointmentId ? { appointmentId } : {}),
  });
  await audit(call, 'export', { table, appointment_id: appointmentId, cursor, rows: String(page.rows) });
  return jsonReply(200, page satisfies CsvPage, requestId);
});
