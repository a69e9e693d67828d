// GET /admin/settings: every configuration problem at once (variable, problem, fix); never a secret value.
import { checkSettings } from '../../src/config/admin-config';
import { adminFunction } from '../../src/admin/handler';
import { jsonReply } from '../../src/http/reply';

export const handler = adminFunction('session', async ({ admin, requestId }) => jsonReply(200, checkSettings(admin.env), requestId));
