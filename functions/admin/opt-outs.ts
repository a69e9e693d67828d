// GET /admin/opt-outs?q=&cursor=&limit=: the phones opted out of texts, when and how, searchable by a fragment of the number.
import { adminFunction } from '../../src/admin/handler';
import { optOutsReply } from '../../src/admin/opt-outs';
import { functionsRuntime } from '../../src/runtime/functions';

export const handler = adminFunction('session', async ({ context, params, requestId }) =>
  optOutsReply(functionsRuntime(context).store, params, requestId),
);
