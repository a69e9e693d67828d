// GET /admin/inbox: patient replies we did not understand, newest first, with the unread count.
import { inboxReply } from '../../src/admin/inbox';
import { adminFunction } from '../../src/admin/handler';
import { functionsRuntime } from '../../src/runtime/functions';

export const handler = adminFunction('session', async ({ context, requestId }) => inboxReply(functionsRuntime(context).store, requestId), {
  role: 'staff',
});
