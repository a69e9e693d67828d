// POST /admin/login {username?, password}: step 1 of the admin login; texts a code to the user's phone
// (ADMINISTRATOR_PHONE for the built-in administrator, username blank or "admin") with Twilio Verify.
import { adminFunction, audit } from '../../src/admin/handler';
import { startLogin } from '../../src/admin/login';

export const handler = adminFunction('none', (call) =>
  startLogin(
    {
      ...call.admin,
      onAudit: (e) =>
        audit(call, 'login.password', {}, { outcome: e.outcome, actor: { user_id: e.user_id, role: e.role } }).then(() => undefined),
    },
    { password: call.params.password, username: call.params.username },
    { client: call.client, device: call.device, requestId: call.requestId },
  ),
);
