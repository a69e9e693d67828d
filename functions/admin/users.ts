// GET /admin/users: the staff users (admin only), without password hashes, phones masked.
import { adminFunction } from '../../src/admin/handler';
import { listStaffUsersReply } from '../../src/admin/staff-users';

export const handler = adminFunction('session', async ({ admin, requestId }) => listStaffUsersReply(admin.records, requestId));
