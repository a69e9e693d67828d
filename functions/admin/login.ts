// POST /admin/login {password}: step 1 of the admin login; texts a code to ADMINISTRATOR_PHONE (Twilio Verify).
import { adminFunction } from '../../src/admin/handler';
import { startLogin } from '../../src/admin/login';

export const handler = adminFunction('none', ({ admin, params, client, device, requestId }) =>
  startLogin(admin, { password: params.password }, { client, device, requestId }),
);
