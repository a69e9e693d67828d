import { describe, expect, it } from 'vitest';
import { MemoryStaffRecords } from '../storage/memory-staff-records';
import type { AtomicJsonStore, JsonChange } from '../storage/s3-admin-store';
import { hashPassword, verifyPassword } from './passwords';
import { AttemptLimiter } from './rate-limit';
import { addStaffUser, changeOwnPassword, sessionUser, updateStaffUser } from './staff-users';

const FAST = (password: string) => hashPassword(password, { N: 1024, r: 8, p: 1, keylen: 32 });
const ADMIN = { user_id: 'admin', role: 'admin' as const };

function setUp() {
  const users = new MemoryStaffRecords();
  return { users, deps: { users, country: 'US' as const, now: () => Date.parse('2026-11-25T15:00:00.000Z'), hash: FAST } };
}

const ANN = { id: 'Ann', name: 'Ann Example', phone: '415 555 0111', role: 'staff', password: 'ann-first-passphrase' };

describe('staff users', () => {
  it('adds a user with a lowercase id, an E.164 phone and a password hash that verifies', async () => {
    const { users, deps } = setUp();
    const { reply } = await addStaffUser(deps, ANN, ADMIN, 'r');
    expect(reply.status).toBe(201);
    const stored = (await users.getUser('ann'))?.value;
    expect(stored).toMatchObject({
      id: 'ann',
      phone: '+14155550111',
      role: 'staff',
      disabled: false,
      session_version: 1,
      created_by: 'admin',
    });
    expect(await verifyPassword('ann-first-passphrase', stored?.password ?? ({} as never))).toBe(true);
    expect(JSON.stringify(reply.body)).not.toContain('+14155550111');
  });

  it('reports every bad field at once, by name', async () => {
    const { deps } = setUp();
    const { reply } = await addStaffUser(deps, { id: 'x', name: 'A\u202eB', phone: '12', role: 'owner', password: 'a' }, ADMIN, 'r');
    expect(reply.status).toBe(400);
    const problems = (reply.body as { error: { problems: { field: string }[] } }).error.problems.map((p) => p.field).sort();
    expect(problems).toEqual(['id', 'name', 'password', 'phone', 'role']);
  });

  it('keeps the ids the page and the audit log reserve', async () => {
    const { deps } = setUp();
    for (const id of ['admin', 'ADMIN', 'unknown']) {
      const { reply } = await addStaffUser(deps, { ...ANN, id }, ADMIN, 'r');
      expect(reply.status, id).toBe(400);
      expect((reply.body as { error: { problems: { field: string }[] } }).error.problems[0]?.field).toBe('id');
    }
  });

  it('raises the session version on every change that must end sessions, and not for a no-op', async () => {
    const { users, deps } = setUp();
    await addStaffUser(deps, ANN, ADMIN, 'r');
    const claims = { sub: 'ann', ver: 1 };
    expect((await sessionUser(users, claims)).ok).toBe(true);
    const same = await updateStaffUser(deps, { id: 'ann', role: 'staff' }, ADMIN, 'r');
    expect(same.changes).toBeUndefined();
    expect((await users.getUser('ann'))?.value.session_version).toBe(1);

    expect((await updateStaffUser(deps, { id: 'ann', role: 'admin' }, ADMIN, 'r')).changes).toEqual({ role: 'admin' });
    expect(await sessionUser(users, claims)).toMatchObject({ ok: false, message: expect.stringMatching(/session has ended/) });
    expect((await sessionUser(users, { sub: 'ann', ver: 2 })).ok).toBe(true);
    expect((await updateStaffUser(deps, { id: 'ann', disabled: 'true' }, ADMIN, 'r')).changes).toEqual({ disabled: true });
    expect(await sessionUser(users, { sub: 'ann', ver: 3 })).toMatchObject({ ok: false, message: expect.stringMatching(/disabled/) });
    expect((await sessionUser(users, { sub: 'ghost', ver: 1 })).ok).toBe(false);
    expect(await sessionUser(users, {})).toEqual({ ok: true, actor: ADMIN });
  });

  it('loses no change when two admins change the same user at once', async () => {
    const { users, deps } = setUp();
    await addStaffUser(deps, ANN, ADMIN, 'r');
    await Promise.all([
      updateStaffUser(deps, { id: 'ann', role: 'admin' }, ADMIN, 'r'),
      updateStaffUser(deps, { id: 'ann', disabled: true }, ADMIN, 'r'),
    ]);
    expect((await users.getUser('ann'))?.value).toMatchObject({ role: 'admin', disabled: true, session_version: 3 });
  });

  it('allows 5 wrong current passwords in 15 minutes on the own-password form, then refuses even the right one', async () => {
    const { users, deps } = setUp();
    await addStaffUser(deps, ANN, ADMIN, 'r');
    const objects = new Map<string, unknown>();
    const json: AtomicJsonStore = {
      update<T, R>(key: string, change: (current: T | null) => JsonChange<T, R>): Promise<R> {
        const out = change((objects.get(key) as T | undefined) ?? null);
        if (out.value !== undefined) objects.set(key, out.value);
        return Promise.resolve(out.result);
      },
    };
    const withLimit = { ...deps, limiter: new AttemptLimiter(json) };
    const ann = { user_id: 'ann', role: 'staff' as const };
    const attempt = (current: string) =>
      changeOwnPassword(withLimit, { current_password: current, new_password: 'ann-second-passphrase' }, ann, 'r');
    for (let i = 0; i < 5; i += 1) expect((await attempt('wrong-guess')).reply.status).toBe(400);
    expect((await attempt('ann-first-passphrase')).reply.status).toBe(429);
    expect((await users.getUser('ann'))?.value.session_version).toBe(1);
  });
});
