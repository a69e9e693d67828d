import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ehrEvent } from './fixtures/events';
import { localTime } from './fixtures/time';
import { adminApi } from './support/admin';
import { startTestStack, type TestStack } from './support/local-stack';
import { started } from './support/started';

/*
 * The intake leaves its changes to the filer; the list files what is waiting before it reads, at
 * most 500 markers a request. A larger batch from the EHR shows over the next loads (or after the
 * sweep), and until then the page says the list is behind.
 */
describe('GET /admin/appointments after a large batch from the EHR', () => {
  let t: TestStack;
  let token: string;
  const total = 650;

  beforeAll(async () => {
    t = await startTestStack();
    token = await adminApi(t).login();
    for (let b = 0; b < total / 50; b += 1) {
      const events = Array.from({ length: 50 }, (_, i) => {
        const n = b * 50 + i;
        return ehrEvent({
          appointment_id: `BULK-${String(n).padStart(4, '0')}`,
          patient_phone: `(415) 555-${String(1000 + n).padStart(4, '0')}`,
          appointment_datetime: localTime(2 + (n % 5), '10:00'),
        });
      });
      const res = await t.postEvents({ events });
      expect(res.status, JSON.stringify(res.json)).toBe(202);
    }
  }, 120_000);
  afterAll(async () => {
    await started(t)?.stop();
  });

  const count = async (): Promise<{ rows: number; behind: boolean }> => {
    let rows = 0;
    let behind = false;
    let cursor: string | undefined;
    // Bounded: 650 rows at 100 a page.
    for (let page = 0; page < 10; page += 1) {
      const res = await adminApi(t).call('appointments', { token, query: { limit: '100', ...(cursor ? { cursor } : {}) } });
      expect(res.status).toBe(200);
      rows += res.json.appointments.length;
      behind ||= res.json.filing_behind === true;
      cursor = res.json.cursor;
      if (!cursor) break;
    }
    return { rows, behind };
  };

  it('says it is behind while more is waiting than a load files, and shows every appointment once filed', async () => {
    const first = await adminApi(t).call('appointments', { token, query: { limit: '10' } });
    expect(first.json.filing_behind).toBe(true);
    // The next loads file the rest (the sweep would too).
    let seen = await count();
    for (let i = 0; i < 5 && (seen.behind || seen.rows < total); i += 1) seen = await count();
    expect(seen).toEqual({ rows: total, behind: false });
    expect(await t.listKeys('index/changes/')).toEqual([]);
  });
});
