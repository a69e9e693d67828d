// GET /admin/audit?from=&to=&limit=&cursor=: a page of the audit log, oldest first (admin only); reading it is audited too.
import { auditPageReply, parseAuditQuery } from '../../src/admin/audit';
import { adminFunction, audit } from '../../src/admin/handler';

export const handler = adminFunction('session', async (call) => {
  const query = parseAuditQuery(call.params, new Date(call.admin.wallClock()).toISOString(), call.requestId);
  if (!query.ok) return query.reply;
  await audit(call, 'audit.view', { from: query.from, to: query.to, cursor: query.cursor });
  return auditPageReply(call.admin.records, query, call.requestId);
});
