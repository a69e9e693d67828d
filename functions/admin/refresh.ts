// POST /admin/refresh: a fresh session token while the page is open (the login time carries over).
import { adminFunction } from '../../src/admin/handler';
import { refreshSession } from '../../src/admin/login';

export const handler = adminFunction(
  'session',
  async ({ admin, claims, actor, requestId }) => refreshSession(admin, claims, requestId, actor),
  { role: 'staff' },
);
