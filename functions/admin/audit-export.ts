// GET /admin/audit-export?from=&to=&cursor=: one CSV page of the audit log (admin only); the export is itself audited.
import { auditExportReply, parseAuditQuery } from '../../src/admin/audit';
import { adminFunction, audit } from '../../src/admin/handler';

export const handler = adminFunction('session', async (call) => {
  const query = parseAuditQuery(call.params, new Date(call.admin.wallClock()).toISOString(), call.requestId, 200);
  if (!query.ok) return query.reply;
  await audit(call, 'audit.export', { from: query.from, to: query.to, cursor: query.cursor });
  return auditExportReply(call.admin.records, query, call.requestId);
});
