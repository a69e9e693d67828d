// POST /admin/verify-code {code} with the challenge token: step 2 of the admin login; returns the session token.
import { adminFunction, audit } from '../../src/admin/handler';
import { finishLogin } from '../../src/admin/login';

export const handler = adminFunction('challenge', (call) =>
  finishLogin(
    {
      ...call.admin,
      onAudit: (e) =>
        audit(call, 'login.code', {}, { outcome: e.outcome, actor: { user_id: e.user_id, role: e.role } }).then(() => undefined),
    },
    { code: call.params.code },
    { client: call.client, device: call.device, requestId: call.requestId },
    call.claims,
  ),
);
