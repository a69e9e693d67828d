import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { issueToken } from '../src/admin/tokens';
import { SECRET_VARIABLES } from '../src/config/admin-config';
import { adminApi } from './support/admin';
import { flowTextPattern } from './support/flow-texts';
import { startTestStack, type TestStack } from './support/local-stack';
import { phonesApi } from './support/phones';
import { localTime } from './fixtures/time';
import { started } from './support/started';

/** Every admin Function that needs a session, with a request that would otherwise be valid. */
const SESSION_FUNCTIONS: [string, { body?: unknown; query?: Record<string, string> }][] = [
  ['refresh', { body: {} }],
  ['settings', {}],
  ['status', {}],
  ['simulate', { body: { event_type: 'REMIND', appointment_id: 'APT-1' } }],
  ['messages', { query: { phone: '+14155553001' } }],
  ['ehr-requests', { query: { phone: '+14155553001' } }],
  ['appointments', {}],
  ['history', { query: { appointment_id: 'APT-1' } }],
  ['export', { query: { table: 'appointments' } }],
  ['inbox', {}],
  ['inbox-done', { body: { id: '0000000000000_U00x' } }],
  ['inbox-reply', { body: { id: '0000000000000_U00x', reply_id: 'reply-0001', body: 'hi' } }],
  ['users', {}],
  ['user-add', { body: { id: 'ann', name: 'Ann', phone: '+14155553101', role: 'staff', password: 'a-long-passphrase' } }],
  ['user-update', { body: { id: 'ann', disabled: true } }],
  ['audit', {}],
  ['audit-export', {}],
  ['my-password', { body: { current_password: 'a-long-passphrase', new_password: 'another-long-passphrase' } }],
  ['figures', { query: { from: '2026-11-24', to: '2026-11-30' } }],
  ['opt-outs', {}],
  ['settings-in-force', {}],
  ['reindex', { body: {} }],
];
const ALL_TOKEN_FUNCTIONS: [string, 'session' | 'challenge', { body?: unknown; query?: Record<string, string> }][] = [
  ...SESSION_FUNCTIONS.map(([p, r]): [string, 'session', typeof r] => [p, 'session', r]),
  ['verify-code', 'challenge', { body: { code: '123456' } }],
];

function booking(phone: string, id: string, overrides: Record<string, unknown> = {}) {
  return {
    event_type: 'BOOKED',
    appointment_id: id,
    patient_id: 'P-ADMIN-1',
    patient_first_name: 'Zoë',
    patient_last_name: "O'Brien",
    patient_phone: phone,
    provider_first_name: 'Ana',
    provider_last_name: 'Lopez',
    appointment_location: 'Suite 100, "East" Wing',
    appointment_datetime: localTime(6, '10:00'),
    appointment_timezone: 'America/Los_Angeles',
    ...overrides,
  };
}

describe('admin Functions on the default stack', () => {
  let t: TestStack;
  let api: ReturnType<typeof adminApi>;
  let token: string;
  beforeAll(async () => {
    t = await startTestStack();
    api = adminApi(t);
    token = await api.login();
  });
  afterAll(async () => {
    await started(t)?.stop();
  });

  describe.each(ALL_TOKEN_FUNCTIONS)('%s', (path, kind, request) => {
    it('refuses a request without a token (401)', async () => {
      const res = await api.call(path, request);
      expect(res.status).toBe(401);
      expect(res.json.error.code).toBe('unauthorized');
      expect(res.headers.get('www-authenticate')).toContain('Bearer');
    });

    it('refuses an expired token (401)', async () => {
      const res = await api.call(path, { ...request, token: api.mint(kind, Date.now() - 2 * 60 * 60_000) });
      expect(res.status).toBe(401);
      expect(res.json.error.message).toMatch(/expired/);
    });

    it('refuses a forged token: another secret, a changed payload, or garbage (401)', async () => {
      const good = api.mint(kind);
      const [v, payload, sig] = good.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
      const extended = Buffer.from(JSON.stringify({ ...claims, exp: claims.exp + 86_400 })).toString('base64url');
      for (const forged of [issueToken('f'.repeat(64), kind, Date.now()).token, `${v}.${extended}.${sig}`, 'v1.abc.def', 'garbage']) {
        const res = await api.call(path, { ...request, token: forged });
        expect(res.status, forged).toBe(401);
      }
    });

    it(`refuses the other kind of token (a ${kind === 'session' ? 'challenge' : 'session'}) (401)`, async () => {
      const res = await api.call(path, { ...request, token: api.mint(kind === 'session' ? 'challenge' : 'session') });
      expect(res.status).toBe(401);
    });
  });

  it('logs in with the password and the texted code; the session refreshes and keeps its login time', async () => {
    const first = api.mint('session');
    const res = await api.call('refresh', { body: {}, token: first });
    expect(res.status).toBe(200);
    expect(res.json.token).toMatch(/^v1\./);
    expect(Date.parse(res.json.expires_at)).toBeGreaterThan(Date.now() + 25 * 60_000);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const settings = await api.call('settings', { token: res.json.token });
    expect(settings.status).toBe(200);
  });

  it('texts the code to the administrator and says where, masked', async () => {
    const res = await api.call('login', { body: { password: t.stack.env.APPLICATION_PASSWORD }, client: 'mask-client-01' });
    expect(res.status).toBe(200);
    expect(res.json.sent_to).toBe('+1 ••• ••• 0199');
    expect(res.text).not.toContain('4155550199');
    const texts = await phonesApi(t).received(t.stack.env.ADMINISTRATOR_PHONE ?? '');
    expect(texts.at(-1)).toMatch(/^Your Owl Health Clinic verification code is: \d{6}$/);
  });

  it('refuses a wrong password and a wrong code with 401', async () => {
    expect((await api.call('login', { body: { password: 'not the password' }, client: 'wrong-client-01' })).status).toBe(401);
    expect((await api.call('login', { body: {}, client: 'wrong-client-01' })).status).toBe(400);
    const res = await api.call('verify-code', { body: { code: '000000' }, token: api.mint('challenge'), client: 'wrong-client-01' });
    expect(res.status).toBe(401);
  });

  it('settings check is green on the default stack and sends no secret value', async () => {
    const res = await api.call('settings', { token });
    expect(res.status).toBe(200);
    expect(res.json.ok).toBe(true);
    expect(res.json.problems).toEqual([]);
    for (const name of SECRET_VARIABLES) {
      const value = t.stack.env[name];
      // Locally the embedded S3's secret key is the same word as its access key id, which is no secret.
      if (value && value !== t.stack.env.AWS_ACCESS_KEY_ID) expect(res.text, name).not.toContain(value);
    }
    expect(res.json.variables.find((v: { variable: string }) => v.variable === 'SESSION_SECRET')).toEqual({
      variable: 'SESSION_SECRET',
      state: 'ok',
      secret: true,
    });
  });

  it('deployment status finds the local Studio Flow, number, Verify service and bucket, and the sweep once it ran', async () => {
    const before = await api.call('status', { token });
    expect(before.status).toBe(200);
    const state = (json: { components: { id: string; state: string }[] }) =>
      Object.fromEntries(json.components.map((c) => [c.id, c.state]));
    expect(state(before.json)).toMatchObject({
      'studio-flow': 'ok',
      'phone-number': 'ok',
      'verify-service': 'ok',
      bucket: 'ok',
      'reminder-sweep': 'warning',
    });
    await t.stack.sweep();
    const after = await api.call('status', { token });
    expect(after.json.ok).toBe(true);
    expect(after.json.components.find((c: { id: string }) => c.id === 'reminder-sweep').detail).toMatch(/^last ran/);
    expect(after.json.components.find((c: { id: string }) => c.id === 'bucket').link.href).toBe(`${t.stack.s3.endpoint}/${t.stack.bucket}`);
  });

  it('simulation goes through intake validation: a bad phone is refused with the field, nothing stored', async () => {
    const res = await api.call('simulate', { token, body: booking('12', 'APT-BAD-PHONE', { appointment_timezone: 'EST' }) });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('invalid-event');
    expect(res.json.error.problems.map((p: { field: string }) => p.field).sort()).toEqual(['appointment_timezone', 'patient_phone']);
    expect(await t.listKeys('appointments/')).not.toContainEqual(
      expect.stringContaining(Buffer.from('APT-BAD-PHONE').toString('base64url')),
    );
  });

  it('refuses an unknown event type and REMIND for an unknown appointment', async () => {
    expect((await api.call('simulate', { token, body: { event_type: 'EXPIRED', appointment_id: 'x' } })).json.error.problems[0].field).toBe(
      'event_type',
    );
    expect((await api.call('simulate', { token, body: { event_type: 'REMIND', appointment_id: 'APT-NOPE' } })).status).toBe(404);
  });

  it('simulates BOOKED and REMIND end to end: texts, message log, table, history, CSV', async () => {
    const phone = '+14155553101';
    const id = 'APT-ADMIN-1';
    const booked = await api.call('simulate', { token, body: booking('(415) 555-3101', id) });
    expect(booked.status).toBe(202);
    expect(booked.json.results[0]).toMatchObject({ appointment_id: id, outcome: 'applied', disposition: 'QUEUED', message: 'started' });
    expect(booked.json.patient_phone).toBe(phone);
    await t.stack.settle();

    const remind = await api.call('simulate', { token, body: { event_type: 'REMIND', appointment_id: id } });
    expect(remind.json).toMatchObject({ sent: true, n: 1 });
    await t.stack.settle();

    const log = await api.call('messages', { token, query: { phone } });
    const bodies: string[] = log.json.messages.map((m: { body: string }) => m.body);
    expect(bodies).toEqual([expect.stringMatching(flowTextPattern('send_booked')), expect.stringMatching(flowTextPattern('send_remind'))]);
    expect(bodies[0]).toContain('Tue, Dec 1 at 10:00 AM PST');
    expect(bodies[1]).toContain('Zoe');

    const table = await api.call('appointments', { token });
    const row = table.json.appointments.find((a: { appointment_id: string }) => a.appointment_id === id);
    expect(row).toMatchObject({ disposition: 'REMINDED-1', appointment_local: 'Tue, Dec 1 at 10:00 AM PST', patient_name: "Zoë O'Brien" });
    expect(row.reminder.next).toMatchObject({ n: 2 });

    const history = await api.call('history', { token, query: { appointment_id: id } });
    const types: string[] = history.json.history.map((h: { event_type: string }) => h.event_type);
    // Each text's delivery receipts are in the history too, between the events.
    expect(types.filter((x) => x !== 'DELIVERY')).toEqual(['BOOKED', 'REMIND']);
    expect(types).toContain('DELIVERY');
    expect((await api.call('history', { token, query: { appointment_id: 'APT-NOPE' } })).status).toBe(404);

    const csv = await api.call('export', { token, query: { table: 'appointments' } });
    expect(csv.json.csv.split('\r\n')[0]).toMatch(/^appointment_id,disposition,/);
    expect(csv.json.csv).toContain(`${id},REMINDED-1,`);
    expect(csv.json.csv).toContain('"Suite 100, ""East"" Wing"');
    const hist = await api.call('export', { token, query: { table: 'history', appointment_id: id } });
    expect(hist.json.rows).toBe(2);
    expect((await api.call('export', { token, query: { table: 'secrets' } })).status).toBe(400);
  });

  it("lists the patient's confirm request sent to the EHR with its delivery receipt", async () => {
    const phone = '+14155553102';
    await api.call('simulate', { token, body: booking(phone, 'APT-ADMIN-2') });
    await t.stack.settle();
    await phonesApi(t).send(phone, 'CONFIRM APPT');
    const res = await api.call('ehr-requests', { token, query: { phone } });
    expect(res.json.requests).toEqual([
      expect.objectContaining({
        appointment_id: 'APT-ADMIN-2',
        event_type: 'CONFIRM',
        delivery: expect.objectContaining({ status: 'delivered', response_status: 200 }),
      }),
    ]);
    expect((await api.call('ehr-requests', { token, query: { phone: 'nope' } })).json.error.problems[0].field).toBe('phone');
  });

  it('pages through appointments with a cursor, reading states only', async () => {
    for (let i = 0; i < 3; i += 1) await api.call('simulate', { token, body: booking(`+1415555320${i}`, `APT-PAGE-${i}`) });
    const seen = new Set<string>();
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await api.call('appointments', { token, query: { limit: '2', ...(cursor ? { cursor } : {}) } });
      expect(res.json.appointments.length).toBeLessThanOrEqual(2);
      for (const a of res.json.appointments) seen.add(a.appointment_id);
      cursor = res.json.cursor;
      pages += 1;
    } while (cursor && pages < 20);
    expect([...seen]).toEqual(expect.arrayContaining(['APT-PAGE-0', 'APT-PAGE-1', 'APT-PAGE-2', 'APT-ADMIN-1']));
    expect(pages).toBeGreaterThan(1);
  });
});

describe('login rate limits (attempt logs in S3, conditional writes)', () => {
  let t: TestStack;
  let api: ReturnType<typeof adminApi>;
  beforeAll(async () => {
    t = await startTestStack();
    api = adminApi(t);
  });
  afterAll(async () => {
    await started(t)?.stop();
  });
  // Every test starts with empty attempt logs, so each one holds alone (`-t`) and in any order.
  beforeEach(async () => {
    for (const Key of await t.listKeys('admin/attempts/')) await t.s3.send(new DeleteObjectCommand({ Bucket: t.stack.bucket, Key }));
  });
  const password = () => t.stack.env.APPLICATION_PASSWORD;

  it('per client: after 5 wrong passwords even the right one waits; another browser still logs in', async () => {
    for (let i = 0; i < 5; i += 1)
      expect((await api.call('login', { body: { password: `wrong-${i}` }, client: 'client-aaaaaaaa' })).status).toBe(401);
    const locked = await api.call('login', { body: { password: password() }, client: 'client-aaaaaaaa' });
    expect(locked.status).toBe(429);
    expect(locked.json.error).toMatchObject({ code: 'rate-limited', scope: 'client' });
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(800);
    await expect(api.login('client-bbbbbbbb')).resolves.toMatch(/^v1\./);
  });

  it('parallel wrong passwords from one client cannot get past the limit', async () => {
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => api.call('login', { body: { password: `parallel-${i}` }, client: 'client-pppppppp' })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([401, 401, 401, 401, 401, 429, 429, 429, 429, 429]);
  });

  it('per client: at most 5 codes are texted in 15 minutes, even with the right password', async () => {
    // Each login is completed, so no verification stays pending for the wrong-code test below.
    for (let i = 0; i < 5; i += 1) await api.login('client-gggggggg');
    const refused = await api.call('login', { body: { password: password() }, client: 'client-gggggggg' });
    expect(refused.status).toBe(429);
    expect(refused.json.error.message).toMatch(/codes sent/);
  });

  it('wrong codes: 5 per client, then 20 in total across clients', async () => {
    const wrongCode = (client: string) => api.call('verify-code', { body: { code: '000000' }, token: api.mint('challenge'), client });
    for (let i = 0; i < 5; i += 1) expect((await wrongCode('client-hhhhhhhh')).status).toBe(401);
    expect((await wrongCode('client-hhhhhhhh')).json.error).toMatchObject({ code: 'rate-limited', scope: 'client' });
    for (const c of ['client-iiiiiiii', 'client-jjjjjjjj', 'client-kkkkkkkk']) {
      for (let i = 0; i < 5; i += 1) expect((await wrongCode(c)).status).toBe(401);
    }
    const total = await wrongCode('client-llllllll');
    expect(total.status).toBe(429);
    expect(total.json.error.scope).toBe('total');
  });

  it('wrong passwords: 20 in total across clients locks every browser out, right password included', async () => {
    for (const c of ['client-cccccccc', 'client-dddddddd', 'client-eeeeeeee', 'client-qqqqqqqq']) {
      for (let i = 0; i < 5; i += 1) expect((await api.call('login', { body: { password: 'wrong' }, client: c })).status).toBe(401);
    }
    const res = await api.call('login', { body: { password: password() }, client: 'client-ffffffff' });
    expect(res.status).toBe(429);
    expect(res.json.error.scope).toBe('total');
    const keys = await t.listKeys('admin/attempts/');
    expect(keys.length).toBeGreaterThan(5);
  });
});

describe('settings check on a stack with bad values', () => {
  let t: TestStack;
  let api: ReturnType<typeof adminApi>;
  beforeAll(async () => {
    t = await startTestStack({ REMINDER_FIRST_TIMING: '48h', EHR_API_KEY: 'tooShortKey9' });
    api = adminApi(t);
  });
  afterAll(async () => {
    await started(t)?.stop();
  });

  it('still lets the administrator log in, and names each problem with its fix (no secret values)', async () => {
    const token = await api.login();
    const res = await api.call('settings', { token });
    expect(res.status).toBe(200);
    expect(res.json.ok).toBe(false);
    expect(res.json.problems).toEqual(
      expect.arrayContaining([
        { variable: 'REMINDER_FIRST_TIMING', problem: expect.stringContaining('HHMM'), fix: expect.stringContaining('4800') },
        { variable: 'EHR_API_KEY', problem: 'is shorter than 24 characters', fix: expect.stringContaining('openssl rand') },
      ]),
    );
    expect(res.text).not.toContain('tooShortKey9');
  });

  it('data Functions answer 500 misconfigured naming the variables, not their values', async () => {
    const token = await api.login('client-misconf1');
    const res = await api.call('appointments', { token });
    expect(res.status).toBe(500);
    expect(res.json.error.code).toBe('misconfigured');
    expect(res.json.error.message).toContain('REMINDER_FIRST_TIMING');
    expect(res.text).not.toContain('tooShortKey9');
  });
});
