import type { AuditEntry, AuditPage, StaffRecords, StaffUser } from '../admin/staff-records';
import type { CompareAndSet, CreateOnce, Versioned } from './appointment-store';

const copy = <T>(value: T): T => structuredClone(value);

/** Oldest first; two entries of one instant by id. */
function byTime(a: AuditEntry, b: AuditEntry): number {
  if (a.at !== b.at) return a.at < b.at ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** A page's cursor: the last entry returned, as an opaque token; anything else starts the range over. */
function cursorOf(entry: AuditEntry): string {
  return Buffer.from(JSON.stringify([entry.at, entry.id]), 'utf8').toString('base64url');
}

function resumeAfter(cursor: string | undefined): { at: string; id: string } | undefined {
  if (!cursor) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string' && typeof parsed[1] === 'string') {
      return { at: parsed[0], id: parsed[1] };
    }
  } catch {
    // Not one of ours: the listing starts at the range.
  }
  return undefined;
}

/**
 * Staff users and the audit trail in memory, written from the port's meaning (no key layout):
 * users by id with a version each, audit entries keyed by time and id.
 */
export class MemoryStaffRecords implements StaffRecords {
  private readonly users = new Map<string, { user: StaffUser; version: number }>();
  private readonly audit = new Map<string, AuditEntry>();
  private versions = 0;

  /** Lets other callers run between a call and its effect, as a network round trip would. */
  private async turn(): Promise<void> {
    await Promise.resolve();
  }

  private stamp(user: StaffUser): void {
    this.versions += 1;
    this.users.set(user.id, { user: copy(user), version: this.versions });
  }

  async getUser(userId: string): Promise<Versioned<StaffUser> | null> {
    await this.turn();
    const held = this.users.get(userId);
    return held ? { value: copy(held.user), etag: `"v${held.version}"` } : null;
  }

  async createUser(user: StaffUser): Promise<CreateOnce> {
    await this.turn();
    if (this.users.has(user.id)) return 'exists';
    this.stamp(user);
    return 'created';
  }

  async replaceUser(user: StaffUser, expectedEtag: string): Promise<CompareAndSet> {
    await this.turn();
    const held = this.users.get(user.id);
    if (!held || `"v${held.version}"` !== expectedEtag) return 'conflict';
    this.stamp(user);
    return 'ok';
  }

  async listUsers(limit: number): Promise<StaffUser[]> {
    await this.turn();
    return [...this.users.values()]
      .map((held) => copy(held.user))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, Math.max(0, limit));
  }

  async appendAudit(entry: AuditEntry): Promise<CreateOnce> {
    await this.turn();
    const key = JSON.stringify([entry.at, entry.id]);
    if (this.audit.has(key)) return 'exists';
    this.audit.set(key, copy(entry));
    return 'created';
  }

  async listAudit(range: { from: string; to: string }, limit: number, cursor?: string): Promise<AuditPage> {
    await this.turn();
    const size = Math.max(1, Math.min(limit, 999));
    const after = resumeAfter(cursor);
    const inRange = [...this.audit.values()]
      .filter((e) => e.at.slice(0, 10) >= range.from && e.at.slice(0, 10) <= range.to)
      .filter((e) => !after || byTime(e, { ...e, ...after }) > 0)
      .sort(byTime);
    const taken = inRange.slice(0, size);
    const last = taken.at(-1);
    return { entries: taken.map(copy), ...(inRange.length > size && last ? { cursor: cursorOf(last) } : {}) };
  }
}
