// POST /admin/inbox-reply {id, reply_id, body}: a member of staff texts the patient back.
import { staffReplyReply } from '../../src/admin/inbox';
import { adminFunction } from '../../src/admin/handler';
import { functionsRuntime } from '../../src/runtime/functions';

export const handler = adminFunction('session', async ({ context, params, requestId }) => {
  const runtime = functionsRuntime(context);
  const deps = { store: runtime.store, sender: runtime.staffTexts, now: runtime.record.now };
  return staffReplyReply(deps, params, 'admin', requestId);
});
