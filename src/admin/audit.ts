import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { errorReply, jsonReply, type HttpReply } from '../http/reply';
import type { AuditEntry, AuditLog, StaffRole } from './staff-records';
import { csvLine } from './csv';
import type { AuditPage, CsvPage } from './api-types';

/**
 * The admin audit trail (HIPAA 45 CFR 164.312(b), audit controls): who did what, when, to which
 * record, from which client. It holds ids only; a message body, a patient's name or phone, a
 * password or a code never goes into an entry.
 */
export type AuditAction =
  | 'login.password'
  | 'login.code'
  | 'appointments.list'
  | 'appointment.view'
  | 'export'
  | 'settings.view'
  | 'settings.change'
  | 'inbox.done'
  | 'staff.reply'
  | 'user.add'
  | 'user.update'
  | 'audit.view'
  | 'audit.export'
  | 'access.denied';

export interface Actor {
  user_id: string;
  role: StaffRole;
}

export interface AuditClient {
  id?: string;
  ip?: string;
  user_agent?: string;
}

/** What an admin Function knows about the request that `recordAudit` needs. */
export interface AuditContext {
  audit: AuditLog;
  actor?: Actor;
  client: AuditClient;
  requestId: string;
  wallClock: () => number;
}

type Headers = Record<string, string | string[] | undefined>;

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Printable ASCII only and bounded, so a header cannot smuggle line breaks or megabytes into the log. */
function clip(v: string | undefined, max: number): string | undefined {
  if (!v) return undefined;
  const clean = v
    .replace(/[^\x20-\x7e]/g, '?')
    .trim()
    .slice(0, max);
  return clean === '' ? undefined : clean;
}

/**
 * The client as far as the request tells: the page's `X-Client-Id`, the first `X-Forwarded-For`
 * address when a proxy passed one (Twilio's deployed Functions do not), and the user agent.
 */
export function auditClient(headers: Headers, clientId: string | undefined): AuditClient {
  const forwarded = first(headers['x-forwarded-for'])?.split(',')[0];
  const ip = clip(forwarded, 64);
  const agent = clip(first(headers['user-agent']), 200);
  return { ...(clientId ? { id: clientId } : {}), ...(ip ? { ip } : {}), ...(agent ? { user_agent: agent } : {}) };
}

/**
 * An entry's id from random bytes. Hex, because the CSV export prefixes any cell that begins like a
 * formula (= + - @ tab CR) with an apostrophe: a base64url id could begin with `-`, and the exported
 * `entry_id` would then no longer match the stored one.
 */
export function auditIdOf(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** Target ids are bounded too: they come from requests. */
function targetOf(target: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(target).flatMap(([k, v]) => (v === undefined || v === '' ? [] : [[k, v.slice(0, 256)]])));
}

/**
 * Writes one audit entry. Other admin Functions call this for what they let a user see or change;
 * it throws when the entry cannot be written, so an action that must be audited fails rather than
 * happening unrecorded. `actor` overrides the context's (a login names the user it was for).
 */
export async function recordAudit(
  ctx: AuditContext,
  action: AuditAction,
  target: Record<string, string | undefined> = {},
  options: { outcome?: 'success' | 'failure'; actor?: { user_id: string; role: StaffRole | 'none' } } = {},
): Promise<AuditEntry> {
  const actor = options.actor ?? ctx.actor ?? { user_id: 'unknown', role: 'none' as const };
  const entry: AuditEntry = {
    id: auditIdOf(randomBytes(9)),
    at: new Date(ctx.wallClock()).toISOString(),
    actor: { user_id: actor.user_id.slice(0, 64), role: actor.role },
    action,
    outcome: options.outcome ?? 'success',
    target: targetOf(target),
    client: ctx.client,
    request_id: ctx.requestId,
  };
  await ctx.audit.appendAudit(entry);
  return entry;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const MAX_RANGE_DAYS = 93;

const AuditQuery = z.object({
  from: z.string().regex(DAY, { error: 'must be a date as YYYY-MM-DD' }).optional(),
  to: z.string().regex(DAY, { error: 'must be a date as YYYY-MM-DD' }).optional(),
  limit: z.coerce
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .min(1, { error: 'must be at least 1' })
    .max(500, { error: 'must be at most 500' })
    .optional(),
  cursor: z.string().max(200, { error: 'is too long' }).optional(),
});

function isRealDay(day: string): boolean {
  const t = Date.parse(`${day}T00:00:00Z`);
  return Number.isFinite(t) && new Date(t).toISOString().slice(0, 10) === day;
}

type Query = { ok: true; from: string; to: string; limit: number; cursor?: string } | { ok: false; reply: HttpReply };

/** `from` and `to` default to today (UTC); at most 93 days at once. */
export function parseAuditQuery(params: Record<string, unknown>, todayIso: string, requestId: string, defaultLimit = 100): Query {
  const blank = (v: unknown) => (v === '' ? undefined : v);
  const parsed = AuditQuery.safeParse({
    from: blank(params.from),
    to: blank(params.to),
    limit: blank(params.limit),
    cursor: blank(params.cursor),
  });
  const problems: { field: string; message: string }[] = parsed.success
    ? []
    : parsed.error.issues.map((i) => ({ field: String(i.path[0] ?? 'query'), message: i.message }));
  const today = todayIso.slice(0, 10);
  const from = parsed.success ? (parsed.data.from ?? parsed.data.to ?? today) : today;
  const to = parsed.success ? (parsed.data.to ?? today) : today;
  if (parsed.success) {
    if (!isRealDay(from)) problems.push({ field: 'from', message: 'is not a calendar date' });
    if (!isRealDay(to)) problems.push({ field: 'to', message: 'is not a calendar date' });
    if (problems.length === 0 && from > to) problems.push({ field: 'to', message: 'is before from' });
    if (problems.length === 0 && (Date.parse(to) - Date.parse(from)) / 86_400_000 >= MAX_RANGE_DAYS)
      problems.push({ field: 'to', message: `is more than ${MAX_RANGE_DAYS} days after from` });
  }
  if (problems.length > 0) {
    return {
      ok: false,
      reply: errorReply('invalid-request', problems.map((p) => `${p.field} ${p.message}`).join('; '), requestId, { problems }),
    };
  }
  const data = parsed.success ? parsed.data : {};
  return { ok: true, from, to, limit: data.limit ?? defaultLimit, ...(data.cursor ? { cursor: data.cursor } : {}) };
}

export const AUDIT_COLUMNS = [
  'at',
  'user_id',
  'role',
  'action',
  'outcome',
  'target',
  'client_id',
  'client_ip',
  'user_agent',
  'request_id',
  'entry_id',
] as const;

function auditCells(e: AuditEntry): string[] {
  const target = Object.entries(e.target)
    .map(([k, v]) => `${k}=${v}`)
    .join('; ');
  return [
    e.at,
    e.actor.user_id,
    e.actor.role,
    e.action,
    e.outcome,
    target,
    e.client.id ?? '',
    e.client.ip ?? '',
    e.client.user_agent ?? '',
    e.request_id,
    e.id,
  ];
}

/** A page of the audit log as JSON. */
export async function auditPageReply(log: AuditLog, query: Extract<Query, { ok: true }>, requestId: string): Promise<HttpReply> {
  const page = await log.listAudit({ from: query.from, to: query.to }, query.limit, query.cursor);
  return jsonReply(200, { from: query.from, to: query.to, ...page } satisfies AuditPage, requestId);
}

/** A page of the audit log as CSV, like /admin/export: the first page starts with the header line. */
export async function auditExportReply(log: AuditLog, query: Extract<Query, { ok: true }>, requestId: string): Promise<HttpReply> {
  const page = await log.listAudit({ from: query.from, to: query.to }, query.limit, query.cursor);
  let csv = query.cursor ? '' : csvLine([...AUDIT_COLUMNS]);
  for (const e of page.entries) csv += csvLine(auditCells(e));
  return jsonReply(200, { csv, rows: page.entries.length, ...(page.cursor ? { cursor: page.cursor } : {}) } satisfies CsvPage, requestId);
}
