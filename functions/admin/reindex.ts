// POST /admin/reindex {cursor?}: files one page (200) of stored appointments in the admin list's
// index, for appointments stored before it existed; repeat with the answer's cursor until it has none.
import { adminFunction, stringParam } from '../../src/admin/handler';
import { errorReply, jsonReply } from '../../src/http/reply';
import { functionsRuntime } from '../../src/runtime/functions';
import { reindexListing } from '../../src/use-cases/reindex-listing';

export const handler = adminFunction('session', async ({ context, params, requestId }) => {
  const cursor = stringParam(params, 'cursor');
  if (cursor !== undefined && !/^[A-Za-z0-9_-]*$/.test(cursor)) {
    return errorReply('invalid-request', 'cursor is not one this Function gave out', requestId, {
      problems: [{ field: 'cursor', message: 'is not one this Function gave out' }],
    });
  }
  const done = await reindexListing(functionsRuntime(context).store, 200, cursor || undefined);
  return jsonReply(200, done, requestId);
});
