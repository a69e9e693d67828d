// GET /admin/figures?from=YYYY-MM-DD&to=YYYY-MM-DD: the dashboard's daily figures and totals for a period (last 7 days by default).
import { figuresReply } from '../../src/admin/figures';
import { adminFunction } from '../../src/admin/handler';
import { functionsRuntime } from '../../src/runtime/functions';
import { fileForReader } from '../../src/use-cases/file-changes';

export const handler = adminFunction('session', async ({ context, params, requestId }) => {
  const runtime = functionsRuntime(context);
  await fileForReader({ store: runtime.store, policy: runtime.policy, now: runtime.record.now });
  return figuresReply(runtime.store, params, runtime.record.now(), requestId);
});
