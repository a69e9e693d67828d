// GET /admin/messages?phone=: the phone's conversation from Twilio's message log (both directions).
import { conversation } from '../../src/admin/conversation';
import { adminFunction } from '../../src/admin/handler';
import { phoneParam } from '../../src/admin/params';
import { jsonReply } from '../../src/http/reply';
import type { MessagesAnswer } from '../../src/admin/api-types';

export const handler = adminFunction(
  'session',
  async ({ admin, params, requestId }) => {
    const phone = phoneParam(params, admin.env, requestId);
    if (!phone.ok) return phone.reply;
    return jsonReply(
      200,
      { phone: phone.value, messages: await conversation(admin.twilio, phone.value) } satisfies MessagesAnswer,
      requestId,
    );
  },
  { role: 'staff' },
);
