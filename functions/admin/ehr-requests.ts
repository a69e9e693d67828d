// GET /admin/ehr-requests?phone=: the confirm/cancel requests sent to the EHR for a phone's appointments, with delivery status.
import { ehrRequestsForPhone } from '../../src/admin/conversation';
import { adminFunction } from '../../src/admin/handler';
import { phoneParam } from '../../src/admin/params';
import { jsonReply } from '../../src/http/reply';
import { functionsRuntime } from '../../src/runtime/functions';
import type { EhrRequestsAnswer } from '../../src/admin/api-types';

export const handler = adminFunction(
  'session',
  async ({ context, admin, params, requestId }) => {
    const phone = phoneParam(params, admin.env, requestId);
    if (!phone.ok) return phone.reply;
    const runtime = functionsRuntime(context);
    return jsonReply(
      200,
      { phone: phone.value, requests: await ehrRequestsForPhone(runtime.store, phone.value) } satisfies EhrRequestsAnswer,
      requestId,
    );
  },
  { role: 'staff' },
);
