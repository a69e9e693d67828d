// POST /admin/user-add {id, name, phone, role, password}: a new staff user (admin only).
import { adminFunction, audit } from '../../src/admin/handler';
import { phoneCountry } from '../../src/admin/params';
import { addStaffUser } from '../../src/admin/staff-users';

export const handler = adminFunction('session', async (call) => {
  const deps = { users: call.admin.records, country: phoneCountry(call.admin.env), now: call.admin.wallClock };
  const { reply, userId } = await addStaffUser(deps, call.params, call.actor ?? { user_id: 'unknown', role: 'admin' }, call.requestId);
  if (userId) await audit(call, 'user.add', { user_id: userId, role: String(call.params.role) });
  return reply;
});
