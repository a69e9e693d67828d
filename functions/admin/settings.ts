// GET /admin/settings: every configuration problem at once (variable, problem, fix); never a secret value.
import { checkSettings } from '../../src/config/admin-config';
import { adminFunction, audit } from '../../src/admin/handler';
import { jsonReply } from '../../src/http/reply';
import type { SettingsReport } from '../../src/admin/api-types';

export const handler = adminFunction('session', async (call) => {
  await audit(call, 'settings.view');
  return jsonReply(200, checkSettings(call.admin.env) satisfies SettingsReport, call.requestId);
});
