// GET /admin/status: whether the Studio Flow, the number, Verify, the bucket and the reminder sweep are in place.
import { adminFunction } from '../../src/admin/handler';
import { deploymentStatus } from '../../src/admin/status';
import { jsonReply } from '../../src/http/reply';
import { now } from '../../src/runtime/clock';
import type { StatusReport } from '../../src/admin/api-types';

export const handler = adminFunction('session', async ({ admin, requestId }) =>
  jsonReply(
    200,
    (await deploymentStatus({
      config: admin.config,
      env: admin.env,
      twilio: admin.twilio,
      store: admin.store,
      now,
    })) satisfies StatusReport,
    requestId,
  ),
);
