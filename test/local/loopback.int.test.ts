import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApi } from '../support/admin';
import { startTestStack, type TestStack } from '../support/local-stack';
import { started } from '../support/started';

/** An address of this machine other than loopback, if it has one: a request from it is not loopback. */
const outside = Object.values(os.networkInterfaces())
  .flat()
  .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;

describe('npm start on HOST=0.0.0.0', () => {
  let t: TestStack;
  const warnings: string[] = [];
  beforeAll(async () => {
    t = await startTestStack({}, { host: '0.0.0.0', warn: (m) => warnings.push(m) });
  });
  afterAll(async () => {
    await started(t)?.stop();
  });

  it('warns that it listens beyond this machine', () => {
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^WARNING: listening on 0\.0\.0\.0:\d+, beyond this machine/);
  });

  it('the local stand-ins still answer this machine', async () => {
    const url = `http://127.0.0.1:${t.stack.port}`;
    expect((await fetch(`${url}/__local/stack`)).status).toBe(200);
    expect((await fetch(`${url}/__local/ehr/requests`)).status).toBe(200);
    // The Functions reach the Twilio stand-in over loopback: a login texts its code.
    await expect(adminApi(t).login('loopback-client-01')).resolves.toMatch(/^v1\./);
  });

  it.skipIf(!outside)('refuses /__local and /__twilio to a caller from another address, unless it has an admin session', async () => {
    const url = `http://${outside}:${t.stack.port}`;
    for (const path of [
      '/__local/stack',
      '/__local/ehr/requests',
      `/__local/phones/${encodeURIComponent(t.stack.env.ADMINISTRATOR_PHONE ?? '')}/messages`,
      '/__twilio/verify/v2/Services',
    ]) {
      const res = await fetch(`${url}${path}`);
      expect(res.status, path).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('forbidden');
    }
    expect((await fetch(`${url}/__local/sweep`, { method: 'POST' })).status).toBe(403);
    const session = await adminApi(t).login('outside-client-01');
    expect((await fetch(`${url}/__local/stack`, { headers: { authorization: `Bearer ${session}` } })).status).toBe(200);
  });
});

describe('npm start on loopback', () => {
  it('prints no warning', async () => {
    const warnings: string[] = [];
    const t = await startTestStack({}, { warn: (m) => warnings.push(m) });
    await t.stop();
    expect(warnings).toEqual([]);
  });
});
