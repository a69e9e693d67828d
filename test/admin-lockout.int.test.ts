import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { issueToken } from '../src/admin/tokens';
import { adminApi, type Answer } from './support/admin';
import { startTestStack, type TestStack } from './support/local-stack';
import { started } from './support/started';

let t: TestStack;
let api: ReturnType<typeof adminApi>;
beforeAll(async () => {
  t = await startTestStack();
  api = adminApi(t);
});
afterAll(async () => {
  await started(t)?.stop();
});
// Every test starts with empty attempt logs and logs its own browser in, so each holds alone (`-t`).
beforeEach(async () => {
  for (const Key of await t.listKeys('admin/attempts/')) await t.s3.send(new DeleteObjectCommand({ Bucket: t.stack.bucket, Key }));
});

const password = () => t.stack.env.APPLICATION_PASSWORD ?? '';
const adminPhone = () => t.stack.env.ADMINISTRATOR_PHONE ?? '';
const codesTexted = () => t.stack.carrier.conversation(adminPhone()).filter((m) => m.to === adminPhone()).length;

/** Wrong passwords at full rate from a new client id each time, until told to stop (or a bound). */
function startAttacker(workers = 4, maxPerWorker = 150) {
  const answers: Answer[] = [];
  let stopped = false;
  const worker = async (w: number) => {
    for (let i = 0; i < maxPerWorker && !stopped; i += 1) {
      answers.push(
        await api.call('login', { body: { password: `guess-${w}-${i}` }, client: `attacker-${w}-${String(i).padStart(4, '0')}` }),
      );
    }
  };
  const done = Promise.all(Array.from({ length: workers }, (_, w) => worker(w)));
  return {
    answers,
    async stop() {
      stopped = true;
      await done;
    },
  };
}

async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Wrong passwords from new client ids until the total limit refuses everyone (bounded). */
async function holdTotalLock(): Promise<void> {
  for (let i = 0; i < 40; i += 1) {
    const res = await api.call('login', { body: { password: `guess-${i}` }, client: `locker-${String(i).padStart(8, '0')}` });
    if (res.status === 429 && res.json?.error?.scope === 'total') return;
  }
  throw new Error('the total limit never refused a wrong password');
}

describe('a password-guessing attack cannot lock the administrator out', () => {
  it('the administrator logs in from a browser that logged in before while an attacker rotating client ids holds the global lock', async () => {
    const device = (await api.loginAs('admin-browser-0001')).device_token;
    const textedBefore = codesTexted();

    const attacker = startAttacker();
    try {
      await until(() => attacker.answers.some((a) => a.status === 429 && a.json?.error?.scope === 'total'));
      const started = performance.now();
      const sentBefore = attacker.answers.length;
      const session = await api.loginAs('admin-browser-0001', device);
      const ms = performance.now() - started;
      // The attack went on while the administrator logged in.
      expect(attacker.answers.length).toBeGreaterThan(sentBefore);
      const inDuringAttack = await api.call('status', { token: session.token });
      // A browser with no device token is in the attacker's pool: it waits like the attacker (README).
      const fresh = await api.call('login', { body: { password: password() }, client: 'new-browser-0001' });
      const sentDuringAttack = attacker.answers.length;
      await attacker.stop();

      const wrong = attacker.answers.filter((a) => a.status === 401).length;
      console.info(
        `admin logged in in ${Math.round(ms)} ms under attack; attacker sent ${attacker.answers.length} requests (${sentDuringAttack} by then), ${wrong} wrong passwords were checked`,
      );
      expect(ms).toBeLessThan(60_000);
      expect(inDuringAttack.status).toBe(200);
      expect(session.device_token).toMatch(/^v1\./);
      expect(wrong).toBeLessThanOrEqual(20);
      expect(attacker.answers.filter((a) => a.status !== 401 && a.status !== 429)).toEqual([]);
      expect(fresh.status).toBe(429);
      expect(fresh.json.error.scope).toBe('total');
      // One code for the administrator's login; the attacker made Verify text nothing.
      await t.stack.settle();
      expect(codesTexted() - textedBefore).toBe(1);
    } finally {
      await attacker.stop();
    }
  });

  it('a device token forged, signed with another secret or of another kind counts for nothing', async () => {
    const device = (await api.loginAs('admin-browser-0002')).device_token;
    await holdTotalLock();
    const [v, payload] = device.split('.') as [string, string, string];
    const other = issueToken('another-secret-another-secret-another', 'device', Date.now()).token;
    for (const bad of [`${v}.${payload}.AAAA`, other, api.mint('session'), 'garbage']) {
      const res = await api.call('login', { body: { password: password() }, client: 'forger-00000001', device: bad });
      expect(res.status).toBe(429);
      expect(res.json.error.scope).toBe('total');
    }
  });

  it('a known browser has wrong passwords of its own: 5, then even the right one waits', async () => {
    const browser = 'admin-browser-0003';
    const device = (await api.loginAs(browser)).device_token;
    for (let i = 0; i < 5; i += 1)
      expect((await api.call('login', { body: { password: `typo-${i}` }, client: browser, device })).status).toBe(401);
    const locked = await api.call('login', { body: { password: password() }, client: browser, device });
    expect(locked.status).toBe(429);
    expect(locked.json.error).toMatchObject({ code: 'rate-limited', scope: 'device' });
  });
});
