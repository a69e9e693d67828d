import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApi } from './support/admin';
import { startTestStack, type TestStack } from './support/local-stack';
import { localTime } from './fixtures/time';
import { started } from './support/started';

/* eslint-disable @typescript-eslint/no-explicit-any -- tests read JSON answers loosely and assert on them */

const ANN = { id: 'ann', name: 'Ann Staffmember', phone: '(415) 555-3101', role: 'staff', password: 'ann-first-passphrase' };
const ANN_E164 = '+14155553101';
const PATIENT_PHONE = '+14155553199';

describe('staff users and the audit trail, through the admin Functions', () => {
  let t: TestStack;
  let api: ReturnType<typeof adminApi>;
  let admin: string;

  /** Both login steps as a staff user, reading the code the local Verify texted to their phone. */
  // A client id of its own per login: the per-browser limit of 5 texted codes must not decide a test.
  let logins = 0;
  async function loginStaff(
    username: string,
    password: string,
    phone: string,
    client = `staff-login-${String((logins += 1)).padStart(4, '0')}`,
  ): Promise<any> {
    const step1 = await api.call('login', { body: { username, password }, client });
    if (step1.status !== 200) return step1;
    await t.stack.settle();
    const code = t.stack.verify.lastCodeFor(phone);
    return api.call('verify-code', { body: { code }, token: step1.json.challenge, client });
  }

  async function auditEntries(): Promise<any[]> {
    const entries: any[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 50; page += 1) {
      const res = await api.call('audit', { token: admin, query: { limit: '100', ...(cursor ? { cursor } : {}) } });
      expect(res.status).toBe(200);
      entries.push(...res.json.entries);
      cursor = res.json.cursor;
      if (!cursor) break;
    }
    return entries;
  }

  beforeAll(async () => {
    t = await startTestStack();
    api = adminApi(t);
    admin = await api.login();
    const booked = await t.postEvents({
      event_type: 'BOOKED',
      event_datetime_utc: new Date(t.stack.clock.now()).toISOString(),
      appointment_id: 'APT-AUDIT-1',
      patient_id: 'P-AUDIT-1',
      patient_first_name: 'Zoë',
      patient_last_name: 'Privatename',
      patient_phone: PATIENT_PHONE,
      appointment_datetime: localTime(6, '10:00'),
      appointment_timezone: 'America/Los_Angeles',
    });
    expect(booked.status).toBe(202);
  });
  afterAll(async () => {
    await started(t)?.stop();
  });

  it('refuses a user with bad fields, naming each field and what is wrong', async () => {
    const res = await api.call('user-add', {
      token: admin,
      body: { id: 'Bad Id!', name: '', phone: 'not a phone', role: 'boss', password: 'short' },
    });
    expect(res.status).toBe(400);
    const fields = res.json.error.problems.map((p: any) => p.field).sort();
    expect(fields).toEqual(['id', 'name', 'password', 'phone', 'role']);
    expect(res.json.error.problems.find((p: any) => p.field === 'password').message).toMatch(/at least 12/);
    expect(res.text).not.toContain('short');
    const reserved = await api.call('user-add', { token: admin, body: { ...ANN, id: 'admin' } });
    expect(reserved.status).toBe(400);
    expect(reserved.json.error.problems[0].field).toBe('id');
  });

  it('lets the administrator add a staff user once; the list shows no hash and only a masked phone', async () => {
    const res = await api.call('user-add', { token: admin, body: ANN });
    expect(res.status).toBe(201);
    expect(res.json.user).toMatchObject({ id: 'ann', role: 'staff', disabled: false, created_by: 'admin' });
    const again = await api.call('user-add', { token: admin, body: ANN });
    expect(again.status).toBe(400);
    expect(again.json.error.problems).toEqual([{ field: 'id', message: 'is taken by another user' }]);
    const list = await api.call('users', { token: admin });
    expect(list.status).toBe(200);
    expect(list.json.users.map((u: any) => u.id)).toEqual(['admin', 'ann']);
    expect(list.text).not.toContain(ANN_E164);
    expect(list.text).not.toContain('scrypt');
    expect(list.text).not.toContain(ANN.password);
    const stored = await t.getJson('admin/users/YW5u.json');
    expect(stored.password).toMatchObject({ algorithm: 'scrypt', N: 32768, r: 8, p: 1 });
    expect(JSON.stringify(stored)).not.toContain(ANN.password);
  });

  it('logs a staff user in with their own password and a code texted to their own phone', async () => {
    const wrong = await api.call('login', { body: { username: 'ann', password: 'not-the-right-one' }, client: 'staff-client-0002' });
    expect(wrong.status).toBe(401);
    const unknown = await api.call('login', { body: { username: 'nobody', password: ANN.password }, client: 'staff-client-0002' });
    expect(unknown.status).toBe(401);
    expect(unknown.json.error.message).toBe(wrong.json.error.message);
    const adminPasswordForAnn = await api.call('login', {
      body: { username: 'ann', password: t.stack.env.APPLICATION_PASSWORD },
      client: 'staff-client-0002',
    });
    expect(adminPasswordForAnn.status).toBe(401);

    const step1 = await api.call('login', { body: { username: 'ANN ', password: ANN.password }, client: 'staff-client-0001' });
    expect(step1.status).toBe(200);
    expect(step1.json.sent_to).toBe('+1 ••• ••• 3101');
    await t.stack.settle();
    const code = t.stack.verify.lastCodeFor(ANN_E164);
    expect(code).toMatch(/^\d+$/);
    const step2 = await api.call('verify-code', { body: { code }, token: step1.json.challenge, client: 'staff-client-0001' });
    expect(step2.status).toBe(200);
    expect(step2.json).toMatchObject({ user_id: 'ann', role: 'staff' });
  });

  it('lets staff see appointments and history but answers 403 for admin-only Functions', async () => {
    const ann = (await loginStaff('ann', ANN.password, ANN_E164)).json.token;
    expect((await api.call('appointments', { token: ann })).status).toBe(200);
    expect((await api.call('history', { token: ann, query: { appointment_id: 'APT-AUDIT-1' } })).status).toBe(200);
    expect((await api.call('inbox', { token: ann })).status).toBe(200);
    const refreshed = await api.call('refresh', { token: ann, body: {} });
    expect(refreshed.status).toBe(200);
    expect(refreshed.json.role).toBe('staff');
    for (const [path, request] of [
      ['settings', {}],
      ['export', { query: { table: 'appointments' } }],
      ['users', {}],
      ['user-add', { body: { ...ANN, id: 'eve', role: 'admin' } }],
      ['user-update', { body: { id: 'ann', role: 'admin' } }],
      ['audit', {}],
      ['audit-export', {}],
      ['status', {}],
      ['simulate', { body: { event_type: 'REMIND', appointment_id: 'APT-AUDIT-1' } }],
    ] as [string, { body?: unknown; query?: Record<string, string> }][]) {
      const res = await api.call(path, { ...request, token: ann });
      expect(res.status, path).toBe(403);
      expect(res.json.error.code).toBe('forbidden');
      expect(res.json.error.message).toMatch(/admin role/);
    }
    expect((await api.call('users', { token: admin })).json.users.find((u: any) => u.id === 'eve')).toBeUndefined();
  });

  it('ends every session of a user the moment they are disabled, and refuses their login', async () => {
    await api.call('user-add', { token: admin, body: { ...ANN, id: 'bea', phone: '+14155553102', password: 'bea-first-passphrase' } });
    const bea = (await loginStaff('bea', 'bea-first-passphrase', '+14155553102')).json.token;
    expect((await api.call('appointments', { token: bea })).status).toBe(200);
    const disabled = await api.call('user-update', { token: admin, body: { id: 'bea', disabled: true } });
    expect(disabled.status).toBe(200);
    expect(disabled.json.changed).toEqual(['disabled']);
    const after = await api.call('appointments', { token: bea });
    expect(after.status).toBe(401);
    expect(after.json.error.message).toMatch(/disabled/);
    expect((await api.call('refresh', { token: bea, body: {} })).status).toBe(401);
    expect(
      (await api.call('login', { body: { username: 'bea', password: 'bea-first-passphrase' }, client: 'staff-client-0003' })).status,
    ).toBe(401);
  });

  it('ends the sessions of a user whose password changes; a role change applies at once', async () => {
    await api.call('user-add', { token: admin, body: { ...ANN, id: 'cy', phone: '+14155553103', password: 'cy-first-passphrase' } });
    const before = (await loginStaff('cy', 'cy-first-passphrase', '+14155553103')).json.token;
    const short = await api.call('user-update', { token: admin, body: { id: 'cy', password: 'short' } });
    expect(short.status).toBe(400);
    expect(short.json.error.problems).toEqual([{ field: 'password', message: 'must be at least 12 characters' }]);
    expect((await api.call('user-update', { token: admin, body: { id: 'cy', password: 'cy-second-passphrase' } })).status).toBe(200);
    expect((await api.call('appointments', { token: before })).status).toBe(401);
    const cy = (await loginStaff('cy', 'cy-second-passphrase', '+14155553103')).json.token;
    expect((await api.call('settings', { token: cy })).status).toBe(403);
    expect((await api.call('user-update', { token: admin, body: { id: 'cy', role: 'admin' } })).status).toBe(200);
    const promoted = (await loginStaff('cy', 'cy-second-passphrase', '+14155553103')).json;
    expect(promoted.role).toBe('admin');
    expect((await api.call('settings', { token: promoted.token })).status).toBe(200);
    expect((await api.call('user-update', { token: admin, body: { id: 'nobody', disabled: true } })).status).toBe(404);
  });

  it('lets a staff user set their own password with the current one; their sessions end', async () => {
    await api.call('user-add', { token: admin, body: { ...ANN, id: 'dee', phone: '+14155553104', password: 'dee-first-passphrase' } });
    const dee = (await loginStaff('dee', 'dee-first-passphrase', '+14155553104')).json.token;
    const wrong = await api.call('my-password', {
      token: dee,
      body: { current_password: 'not-my-password', new_password: 'dee-second-passphrase' },
    });
    expect(wrong.status).toBe(400);
    expect(wrong.json.error.problems).toEqual([{ field: 'current_password', message: 'is not your current password' }]);
    const short = await api.call('my-password', { token: dee, body: { current_password: 'dee-first-passphrase', new_password: 'short' } });
    expect(short.json.error.problems).toEqual([{ field: 'new_password', message: 'must be at least 12 characters' }]);
    expect((await api.call('appointments', { token: dee })).status).toBe(200);
    const done = await api.call('my-password', {
      token: dee,
      body: { current_password: 'dee-first-passphrase', new_password: 'dee-second-passphrase' },
    });
    expect(done.status).toBe(200);
    expect(done.text).not.toContain('dee-second-passphrase');
    expect((await api.call('appointments', { token: dee })).status).toBe(401);
    expect((await loginStaff('dee', 'dee-first-passphrase', '+14155553104')).status).toBe(401);
    expect((await loginStaff('dee', 'dee-second-passphrase', '+14155553104')).status).toBe(200);
    const builtIn = await api.call('my-password', { token: admin, body: { current_password: 'x', new_password: 'a-long-new-passphrase' } });
    expect(builtIn.status).toBe(400);
    expect(builtIn.json.error.message).toMatch(/APPLICATION_PASSWORD/);
  });

  it('audits logins, views, exports, refusals and user changes: who, what, which ids, from which client; never secrets or patient data', async () => {
    const ann = (await loginStaff('ann', ANN.password, ANN_E164, 'staff-client-0009')).json.token;
    await api.call('history', { token: ann, query: { appointment_id: 'APT-AUDIT-1' } });
    await api.call('export', { token: admin, query: { table: 'history', appointment_id: 'APT-AUDIT-1' } });
    await api.call('settings', { token: admin });
    const entries = await auditEntries();
    const all = JSON.stringify(entries);
    const has = (action: string, match: Record<string, unknown>) =>
      expect(
        entries.some(
          (e) =>
            e.action === action &&
            Object.entries(match).every(([k, v]) => JSON.stringify(k.split('.').reduce((o: any, p) => o?.[p], e)) === JSON.stringify(v)),
        ),
        `${action} ${JSON.stringify(match)}`,
      ).toBe(true);
    has('login.password', { 'actor.user_id': 'ann', outcome: 'success' });
    has('login.password', { 'actor.user_id': 'ann', outcome: 'failure' });
    // A name that is no user's may be a password typed in the wrong field: not recorded.
    has('login.password', { 'actor.user_id': 'unknown', outcome: 'failure' });
    expect(all).not.toContain('nobody');
    has('login.code', { 'actor.user_id': 'ann', 'actor.role': 'staff', outcome: 'success', 'client.id': 'staff-client-0009' });
    has('login.code', { 'actor.user_id': 'admin', 'actor.role': 'admin', outcome: 'success' });
    has('appointments.list', { 'actor.user_id': 'ann' });
    has('appointment.view', { 'actor.user_id': 'ann', 'target.appointment_id': 'APT-AUDIT-1' });
    has('export', { 'actor.user_id': 'admin', 'target.table': 'history', 'target.appointment_id': 'APT-AUDIT-1' });
    has('settings.view', { 'actor.user_id': 'admin' });
    has('access.denied', { 'actor.user_id': 'ann', outcome: 'failure', 'target.function': '/admin/settings' });
    has('user.add', { 'actor.user_id': 'admin', 'target.user_id': 'ann', 'target.role': 'staff' });
    has('user.update', { 'target.user_id': 'bea', 'target.disabled': 'true' });
    has('user.update', { 'target.user_id': 'cy', 'target.password': 'changed' });
    has('user.update', { 'target.user_id': 'cy', 'target.role': 'admin' });
    has('user.update', { 'actor.user_id': 'dee', 'target.user_id': 'dee', 'target.by': 'self', 'target.password': 'changed' });
    has('user.update', { 'actor.user_id': 'dee', 'target.password': 'refused', outcome: 'failure' });
    for (const e of entries) {
      expect(e.at).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(typeof e.request_id).toBe('string');
      expect(e.client.user_agent).toBeTruthy();
    }
    for (const secret of [
      ANN.password,
      'cy-second-passphrase',
      'dee-second-passphrase',
      'not-my-password',
      t.stack.env.APPLICATION_PASSWORD ?? '?',
      ANN_E164,
      // The phone as people write it (its last four digits alone also turn up in random request ids).
      '555-3101',
      '(415) 555',
      PATIENT_PHONE,
      'Zoë',
      'Privatename',
      'Ann Staffmember',
    ]) {
      expect(all, secret).not.toContain(secret);
    }
    const ats = entries.map((e) => e.at);
    expect([...ats].sort()).toEqual(ats);
  });

  it('exports the audit log as CSV in pages, and audits the export itself', async () => {
    let csv = '';
    let cursor: string | undefined;
    for (let page = 0; page < 50; page += 1) {
      const res = await api.call('audit-export', { token: admin, query: { ...(cursor ? { cursor } : {}) } });
      expect(res.status).toBe(200);
      csv += res.json.csv;
      cursor = res.json.cursor;
      if (!cursor) break;
    }
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe('at,user_id,role,action,outcome,target,client_id,client_ip,user_agent,request_id,entry_id');
    expect(lines.some((l) => l.includes(',ann,staff,appointment.view,success,appointment_id=APT-AUDIT-1,'))).toBe(true);
    expect(csv).not.toContain(ANN_E164);
    const entries = await auditEntries();
    expect(entries.some((e) => e.action === 'audit.export' && e.actor.user_id === 'admin')).toBe(true);
  });

  it('refuses a bad date range by field', async () => {
    for (const [query, field] of [
      [{ from: '2026-13-01' }, 'from'],
      [{ from: 'yesterday' }, 'from'],
      [{ from: '2026-11-20', to: '2026-11-10' }, 'to'],
      [{ from: '2026-01-01', to: '2026-12-31' }, 'to'],
      [{ limit: '0' }, 'limit'],
    ] as [Record<string, string>, string][]) {
      const res = await api.call('audit', { token: admin, query });
      expect(res.status, JSON.stringify(query)).toBe(400);
      expect(res.json.error.problems.map((p: any) => p.field)).toContain(field);
    }
  });

  it('never overwrites an audit entry: keys only ever add up, each with the content it was created with', async () => {
    const keys = await t.listKeys('audit/');
    expect(keys.length).toBeGreaterThan(10);
    for (const key of keys) expect(key).toMatch(/^audit\/\d{4}-\d\d-\d\d\/\d{4}-\d\d-\d\dT[\d:.]+Z-[A-Za-z0-9_-]+\.json$/);
    const before = new Map(await Promise.all(keys.map(async (k) => [k, JSON.stringify(await t.getJson(k))] as const)));
    await loginStaff('ann', ANN.password, ANN_E164);
    await api.call('audit', { token: admin });
    const after = await t.listKeys('audit/');
    expect(after.length).toBeGreaterThan(keys.length);
    for (const [k, body] of before) expect(JSON.stringify(await t.getJson(k)), k).toBe(body);
    // The store writes entries create-only; the bucket refuses a second create of the same key.
    const first = keys[0] as string;
    await expect(
      t.s3.send(new PutObjectCommand({ Bucket: t.stack.bucket, Key: first, Body: '{}', IfNoneMatch: '*' })),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
  });
});
