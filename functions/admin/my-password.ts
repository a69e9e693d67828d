// POST /admin/my-password {current_password, new_password}: a staff user sets their own password; their sessions end.
import { adminFunction, audit } from '../../src/admin/handler';
import { phoneCountry } from '../../src/admin/params';
import { changeOwnPassword } from '../../src/admin/staff-users';

export const handler = adminFunction(
  'session',
  async (call) => {
    const actor = call.actor ?? { user_id: 'unknown', role: 'staff' as const };
    const deps = {
      users: call.admin.records,
      country: phoneCountry(call.admin.env),
      now: call.admin.wallClock,
      limiter: call.admin.limiter,
    };
    const { reply, changed } = await changeOwnPassword(deps, call.params, actor, call.requestId);
    await audit(
      call,
      'user.update',
      { user_id: actor.user_id, password: changed ? 'changed' : 'refused', by: 'self' },
      { outcome: changed ? 'success' : 'failure' },
    );
    return reply;
  },
  { role: 'staff' },
);
