import { beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntry, StaffRecords, StaffUser } from '../../src/admin/staff-records';

/**
 * The behaviour every StaffRecords adapter must have. `makeRecords` gives each test an empty one.
 * Run by test/storage/memory-store.test.ts and test/storage/s3-store.test.ts.
 */
export function defineStaffRecordsContract(name: string, makeRecords: () => Promise<StaffRecords>): void {
  describe(`${name}: the StaffRecords contract`, () => {
    let store: StaffRecords;
    beforeEach(async () => {
      store = await makeRecords();
    });

    describe('staff users', () => {
      it('creates a user once, and replaces it only at the version read', async () => {
        expect(await store.getUser('ann')).toBeNull();
        expect(await store.createUser(staffUser('ann'))).toBe('created');
        expect(await store.createUser({ ...staffUser('ann'), name: 'Other' })).toBe('exists');
        const first = await store.getUser('ann');
        expect(first?.value).toEqual(staffUser('ann'));
        expect(await store.replaceUser({ ...staffUser('ann'), disabled: true, session_version: 2 }, first?.etag ?? '')).toBe('ok');
        expect(await store.replaceUser({ ...staffUser('ann'), role: 'admin' }, first?.etag ?? '')).toBe('conflict');
        const now = await store.getUser('ann');
        expect(now?.value).toMatchObject({ disabled: true, session_version: 2, role: 'staff' });
        expect(now?.etag).not.toBe(first?.etag);
      });

      it('lets exactly one of two writers holding the same version win', async () => {
        await store.createUser(staffUser('ann'));
        const read = await store.getUser('ann');
        const results = await Promise.all(
          ['Ann A', 'Ann B', 'Ann C'].map((name) => store.replaceUser({ ...staffUser('ann'), name }, read?.etag ?? '')),
        );
        expect(results.filter((r) => r === 'ok')).toHaveLength(1);
      });

      it('lists users by id, at most the limit, and keeps ids that look like paths apart', async () => {
        for (const id of ['cy', 'ann', 'bea', '../ann']) await store.createUser(staffUser(id));
        expect((await store.listUsers(10)).map((u) => u.id).sort()).toEqual(['../ann', 'ann', 'bea', 'cy']);
        expect(await store.listUsers(2)).toHaveLength(2);
        expect((await store.getUser('../ann'))?.value.id).toBe('../ann');
      });
    });

    describe('audit log', () => {
      it('never replaces an entry: a second write under the same key leaves the first', async () => {
        const entry = auditEntry('2026-11-25T08:00:00.000Z', 'e1');
        expect(await store.appendAudit(entry)).toBe('created');
        expect(await store.appendAudit({ ...entry, action: 'export' })).toBe('exists');
        expect((await store.listAudit({ from: '2026-11-25', to: '2026-11-25' }, 10)).entries).toEqual([entry]);
      });

      it('lists the days asked for, oldest first, in pages that resume where the last one ended', async () => {
        const times = [
          '2026-11-26T00:00:00.000Z',
          '2026-11-24T23:59:59.999Z',
          '2026-11-25T12:00:00.000Z',
          '2026-11-25T00:00:00.000Z',
          '2026-11-27T00:00:00.000Z',
          '2026-11-25T12:00:00.000Z',
        ];
        await Promise.all(times.map((at, i) => store.appendAudit(auditEntry(at, `e${i}`))));
        const all = await store.listAudit({ from: '2026-11-25', to: '2026-11-26' }, 100);
        expect(all.cursor).toBeUndefined();
        expect(all.entries.map((e) => e.at)).toEqual([
          '2026-11-25T00:00:00.000Z',
          '2026-11-25T12:00:00.000Z',
          '2026-11-25T12:00:00.000Z',
          '2026-11-26T00:00:00.000Z',
        ]);
        const seen: string[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < 10; page += 1) {
          const got = await store.listAudit({ from: '2026-11-25', to: '2026-11-26' }, 1, cursor);
          seen.push(...got.entries.map((e) => e.id));
          cursor = got.cursor;
          if (!cursor) break;
        }
        expect(seen).toEqual(all.entries.map((e) => e.id));
        expect((await store.listAudit({ from: '2026-11-28', to: '2026-11-30' }, 10)).entries).toEqual([]);
      });

      it('starts over from the range for a cursor it cannot have made', async () => {
        await store.appendAudit(auditEntry('2026-11-25T08:00:00.000Z', 'e1'));
        for (const cursor of ['../x', '2026-11-25/../../admin', 'zzz']) {
          expect((await store.listAudit({ from: '2026-11-25', to: '2026-11-25' }, 10, cursor)).entries.map((e) => e.id)).toEqual(['e1']);
        }
      });
    });
  });
}

function staffUser(id: string): StaffUser {
  return {
    id,
    name: 'Ann Example',
    phone: '+14155550111',
    role: 'staff',
    password: { algorithm: 'scrypt', N: 16384, r: 8, p: 1, keylen: 32, salt: 'c2FsdA', hash: 'aGFzaA' },
    disabled: false,
    session_version: 1,
    created_at: '2026-11-25T08:00:00.000Z',
    created_by: 'admin',
    updated_at: '2026-11-25T08:00:00.000Z',
    updated_by: 'admin',
  };
}

function auditEntry(at: string, id: string): AuditEntry {
  return {
    id,
    at,
    actor: { user_id: 'ann', role: 'staff' },
    action: 'appointment.view',
    outcome: 'success',
    target: { appointment_id: 'APT-1' },
    client: { id: 'client-0001', user_agent: 'test' },
    request_id: 'req-1',
  };
}
