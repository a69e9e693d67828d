import type { CompareAndSet, CreateOnce, Versioned } from '../storage/appointment-store';

/*
 * The admin page's own records: staff users and the audit trail. They are not appointment data,
 * so they have their own small port (S3 and memory adapters in src/storage/) instead of riding on
 * the appointment store.
 */

/** What a user of the admin page may do: `admin` settings, users, export, audit; `staff` appointments, inbox, replies. */
export type StaffRole = 'admin' | 'staff';

/** A memory-hard password hash with the parameters it was made with, so they can be raised later. */
export interface PasswordHash {
  algorithm: 'scrypt';
  N: number;
  r: number;
  p: number;
  keylen: number;
  /** base64url */
  salt: string;
  /** base64url */
  hash: string;
}

/** A person who logs in to the admin page with a password of their own and a code texted to their phone. */
export interface StaffUser {
  /** The login name: lowercase letters, digits, `.`, `_`, `-`. */
  id: string;
  name: string;
  /** E.164; login codes are texted here. */
  phone: string;
  role: StaffRole;
  password: PasswordHash;
  disabled: boolean;
  /**
   * Sessions carry the version they were issued under; disabling the user or changing the
   * password or role raises it, which ends every earlier session at its next request.
   */
  session_version: number;
  created_at: string;
  created_by: string;
  updated_at: string;
  updated_by: string;
}

/** Staff users, one record each; replaced only at the version read (compare-and-set). */
export interface StaffUsers {
  getUser(userId: string): Promise<Versioned<StaffUser> | null>;
  /** Creates the user unless one exists with the same id; says which. */
  createUser(user: StaffUser): Promise<CreateOnce>;
  replaceUser(user: StaffUser, expectedEtag: string): Promise<CompareAndSet>;
  /** By id, at most `limit`. */
  listUsers(limit: number): Promise<StaffUser[]>;
}

/** Who did what to which record, from which client. Ids only: no names, phones or message text. */
export interface AuditEntry {
  /** Random; with `at` it makes the entry's key. */
  id: string;
  at: string;
  actor: { user_id: string; role: StaffRole | 'none' };
  action: string;
  outcome: 'success' | 'failure';
  /** Ids of what the action touched (appointment_id, inbox_item_id, user_id, table …). */
  target: Record<string, string>;
  client: { id?: string; ip?: string; user_agent?: string };
  request_id: string;
}

export interface AuditPage {
  entries: AuditEntry[];
  /** Absent on the last page. */
  cursor?: string;
}

/** The admin audit trail: append-only, one object per entry, listed oldest first by day range. */
export interface AuditLog {
  /** Creates the entry's object unless one exists under its key (which is then left as it was). */
  appendAudit(entry: AuditEntry): Promise<CreateOnce>;
  /** Entries from day `from` to day `to` inclusive (`YYYY-MM-DD`, UTC), at most `limit` per page. */
  listAudit(range: { from: string; to: string }, limit: number, cursor?: string): Promise<AuditPage>;
}

/** Staff users and the audit trail, kept together in the bucket's admin area. */
export type StaffRecords = StaffUsers & AuditLog;
