// POST /admin/user-update {id, disabled?, role?, password?}: disable, enable, change role or password (admin only); ends the user's sessions.
import { adminFunction, audit } from '../../src/admin/handler';
import { phoneCountry } from '../../src/admin/params';
import { updateStaffUser } from '../../src/admin/staff-users';

export const handler = adminFunction('session', async (call) => {
  const deps = { users: call.admin.records, country: phoneCountry(call.admin.env), now: call.admin.wallClock };
  const { reply, changes, userId } = await updateStaffUser(
    deps,
    call.params,
    call.actor ?? { user_id: 'unknown', role: 'admin' },
    call.requestId,
  );
  if (userId && changes) {
    await audit(call, 'user.update', {
      user_id: userId,
      ...(changes.disabled !== undefined ? { disabled: String(changes.disabled) } : {}),
      ...(changes.role ? { role: changes.role } : {}),
      ...(changes.password ? { password: 'changed' } : {}),
    });
  }
  return reply;
});
