// POST /admin/verify-code {code} with the challenge token: step 2 of the admin login; returns the session token.
import { adminFunction } from '../../src/admin/handler';
import { finishLogin } from '../../src/admin/login';

export const handler = adminFunction('challenge', ({ admin, params, client, device, requestId }) =>
  finishLogin(admin, { code: params.code }, { client, device, requestId }),
);
