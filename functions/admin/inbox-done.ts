// POST /admin/inbox-done {id}: a member of staff has answered this inbox item.
import { inboxDoneReply } from '../../src/admin/inbox';
import { adminFunction } from '../../src/admin/handler';
import { functionsRuntime } from '../../src/runtime/functions';

export const handler = adminFunction('session', async ({ context, params, requestId }) => {
  const runtime = functionsRuntime(context);
  return inboxDoneReply(runtime.store, params, runtime.record.now().toISOString(), requestId);
});
