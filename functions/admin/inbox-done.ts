// POST /admin/inbox-done {id}: a member of staff has answered this inbox item.
import { inboxDoneReply } from '../../src/admin/inbox';
import { adminFunction, audit, stringParam } from '../../src/admin/handler';
import { functionsRuntime } from '../../src/runtime/functions';

export const handler = adminFunction(
  'session',
  async (call) => {
    const runtime = functionsRuntime(call.context);
    const reply = await inboxDoneReply(runtime.store, call.params, runtime.record.now().toISOString(), call.requestId);
    await audit(
      call,
      'inbox.done',
      { inbox_item_id: stringParam(call.params, 'id') },
      { outcome: reply.status === 200 ? 'success' : 'failure' },
    );
    return reply;
  },
  { role: 'staff' },
);
