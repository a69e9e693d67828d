// GET /admin/rejected-events: events refused where the sender could not see it (executions an
// engine started on the Studio flow), newest first: ids and reasons only.
import { adminFunction } from '../../src/admin/handler';
import { jsonReply } from '../../src/http/reply';
import { functionsRuntime } from '../../src/runtime/functions';
import type { RejectedEventsAnswer } from '../../src/admin/api-types';

export const handler = adminFunction('session', async ({ context, requestId }) => {
  const runtime = functionsRuntime(context);
  return jsonReply(200, { rejected: await runtime.store.listRejected(100) } satisfies RejectedEventsAnswer, requestId);
});
