// POST /admin/inbox-reply {id, reply_id, body}: a member of staff texts the patient back.
import { staffReplyReply } from '../../src/admin/inbox';
import { adminFunction, audit, stringParam } from '../../src/admin/handler';
import { functionsRuntime } from '../../src/runtime/functions';

export const handler = adminFunction(
  'session',
  async (call) => {
    const runtime = functionsRuntime(call.context);
    const deps = { store: runtime.store, sender: runtime.staffTexts, now: runtime.record.now };
    const reply = await staffReplyReply(deps, call.params, call.actor?.user_id ?? 'admin', call.requestId);
    // Ids only: the text itself stays in the appointment's record, never in the audit log.
    await audit(
      call,
      'staff.reply',
      { inbox_item_id: stringParam(call.params, 'id'), reply_id: stringParam(call.params, 'reply_id') },
      { outcome: reply.status === 200 ? 'success' : 'failure' },
    );
    return reply;
  },
  { role: 'staff' },
);
