import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { AuditEntry, AuditPage, StaffRecords, StaffUser } from '../admin/staff-records';
import type { CompareAndSet, CreateOnce, Versioned } from './appointment-store';
import { AUDIT_PREFIX, auditCursorOf, auditKey, auditListing, STAFF_USERS_PREFIX, staffUserKey } from './keys';
import { S3Objects } from './s3-objects';

/** Staff users (`admin/users/`) and the audit trail (`audit/<day>/`) in the bucket. */
export class S3StaffRecords implements StaffRecords {
  private readonly objects: S3Objects;

  constructor(s3: S3Client, bucket: string) {
    this.objects = new S3Objects(s3, bucket);
  }

  async getUser(userId: string): Promise<Versioned<StaffUser> | null> {
    const got = await this.objects.getJson(staffUserKey(userId));
    return got ? { value: got.value as StaffUser, etag: got.etag } : null;
  }

  async createUser(user: StaffUser): Promise<CreateOnce> {
    return (await this.objects.putNew(staffUserKey(user.id), user)).created ? 'created' : 'exists';
  }

  async replaceUser(user: StaffUser, expectedEtag: string): Promise<CompareAndSet> {
    return this.objects.putConditional(staffUserKey(user.id), user, { IfMatch: expectedEtag });
  }

  async listUsers(limit: number): Promise<StaffUser[]> {
    const users: StaffUser[] = [];
    for await (const key of this.objects.listKeys(STAFF_USERS_PREFIX)) {
      if (users.length >= limit) break;
      const got = await this.objects.getJson(key);
      if (got) users.push(got.value as StaffUser);
    }
    return users;
  }

  async appendAudit(entry: AuditEntry): Promise<CreateOnce> {
    return (await this.objects.putNew(auditKey(entry.at, entry.id), entry)).created ? 'created' : 'exists';
  }

  async listAudit(range: { from: string; to: string }, limit: number, cursor?: string): Promise<AuditPage> {
    // One listing of at most size + 1 keys from where the range (or the cursor) starts: the extra
    // key says whether another page exists without a second request.
    const size = Math.max(1, Math.min(limit, 999));
    const { startAfter, before } = auditListing(range, cursor);
    const page = await this.objects.s3.send(
      new ListObjectsV2Command({ Bucket: this.objects.bucket, Prefix: AUDIT_PREFIX, StartAfter: startAfter, MaxKeys: size + 1 }),
    );
    const keys = (page.Contents ?? []).flatMap((o) => (o.Key && o.Key < before ? [o.Key] : [])).sort();
    const taken = keys.slice(0, size);
    const entries = new Array<AuditEntry | undefined>(taken.length);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < taken.length; i = next++) {
        entries[i] = (await this.objects.getJson(taken[i] as string))?.value as AuditEntry | undefined;
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, taken.length) }, worker));
    const last = taken.at(-1);
    return {
      entries: entries.filter((e): e is AuditEntry => e !== undefined),
      ...(keys.length > size && last ? { cursor: auditCursorOf(last) } : {}),
    };
  }
}
