import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AuditEntry } from './staff-records';
import { MemoryStaffRecords } from '../storage/memory-staff-records';
import { AUDIT_COLUMNS, auditClient, auditExportReply, auditIdOf, parseAuditQuery, recordAudit } from './audit';

const TODAY = '2026-11-25T15:00:00.000Z';

/** RFC 4180 rows, read independently of the writer so the tests compare what a spreadsheet would see. */
function readCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  return rows;
}

async function exportedRows(store: MemoryStaffRecords, day: string): Promise<Record<string, string>[]> {
  const reply = await auditExportReply(store, { ok: true, from: day, to: day, limit: 500 }, 'r');
  const [header, ...rows] = readCsv((reply.body as { csv: string }).csv);
  expect(header).toEqual([...AUDIT_COLUMNS]);
  return rows.map((r) => Object.fromEntries(r.map((v, i) => [header?.[i] ?? '', v])));
}

function entryWith(id: string, fields: Partial<AuditEntry> = {}): AuditEntry {
  return {
    id,
    at: TODAY,
    actor: { user_id: 'ann', role: 'staff' },
    action: 'export',
    outcome: 'success',
    target: {},
    client: {},
    request_id: 'req-1',
    ...fields,
  };
}

describe('the audit query', () => {
  it('defaults to today (UTC) and 100 entries a page', () => {
    expect(parseAuditQuery({}, TODAY, 'r')).toEqual({ ok: true, from: '2026-11-25', to: '2026-11-25', limit: 100 });
    expect(parseAuditQuery({ from: '', to: '', limit: '' }, TODAY, 'r')).toMatchObject({ ok: true, from: '2026-11-25' });
    expect(parseAuditQuery({ to: '2026-11-20' }, TODAY, 'r')).toMatchObject({ ok: true, from: '2026-11-20', to: '2026-11-20' });
  });

  it.each([
    [{ from: '2026-02-30' }, 'from', 'is not a calendar date'],
    [{ from: '25/11/2026' }, 'from', 'must be a date as YYYY-MM-DD'],
    [{ from: '2026-11-25', to: '2026-11-24' }, 'to', 'is before from'],
    [{ from: '2026-01-01', to: '2026-04-04' }, 'to', 'is more than 93 days after from'],
    [{ limit: '501' }, 'limit', 'must be at most 500'],
    [{ limit: '2.5' }, 'limit', 'must be a whole number'],
  ])('refuses %j, naming %s', (params, field, message) => {
    const got = parseAuditQuery(params, TODAY, 'r');
    expect(got.ok).toBe(false);
    if (got.ok) return;
    expect(got.reply.status).toBe(400);
    expect((got.reply.body as { error: { problems: unknown[] } }).error.problems).toContainEqual({ field, message });
  });

  it('accepts the longest range, 93 days', () => {
    expect(parseAuditQuery({ from: '2026-01-01', to: '2026-04-03' }, TODAY, 'r').ok).toBe(true);
  });
});

describe('the audit client', () => {
  it('keeps the first forwarded address and a bounded, printable user agent', () => {
    const client = auditClient(
      { 'x-forwarded-for': '203.0.113.9, 10.0.0.1', 'user-agent': `Mozilla\r\nX-Evil: 1 ${'x'.repeat(500)}` },
      'client-0001',
    );
    expect(client.ip).toBe('203.0.113.9');
    expect(client.id).toBe('client-0001');
    expect(client.user_agent).toHaveLength(200);
    expect(client.user_agent).not.toMatch(/[\r\n]/);
  });

  it('leaves out what the request did not say', () => {
    expect(auditClient({}, undefined)).toEqual({});
  });
});

describe('recordAudit', () => {
  it('writes one entry per call with the actor, ids and client, and the export lists it as CSV', async () => {
    const store = new MemoryStaffRecords();
    const ctx = {
      audit: store,
      actor: { user_id: 'ann', role: 'staff' as const },
      client: { id: 'client-0001' },
      requestId: 'req-1',
      wallClock: () => Date.parse(TODAY),
    };
    const a = await recordAudit(ctx, 'appointment.view', { appointment_id: 'APT-1', cursor: undefined });
    const b = await recordAudit(ctx, 'appointment.view', { appointment_id: 'APT-1' });
    expect(a.id).not.toBe(b.id);
    expect(a).toMatchObject({
      at: TODAY,
      actor: { user_id: 'ann', role: 'staff' },
      action: 'appointment.view',
      outcome: 'success',
      target: { appointment_id: 'APT-1' },
      request_id: 'req-1',
    });
    const page = await store.listAudit({ from: '2026-11-25', to: '2026-11-25' }, 10);
    expect(page.entries.map((e) => e.id).sort()).toEqual([a.id, b.id].sort());
    const csv = (await auditExportReply(store, { ok: true, from: '2026-11-25', to: '2026-11-25', limit: 10 }, 'r')).body as {
      csv: string;
      rows: number;
    };
    expect(csv.rows).toBe(2);
    expect(csv.csv.split('\r\n')[1]).toBe(
      `${TODAY},ann,staff,appointment.view,success,appointment_id=APT-1,client-0001,,,req-1,${page.entries[0]?.id}`,
    );
    expect((await exportedRows(store, '2026-11-25')).map((r) => r.entry_id).sort()).toEqual([a.id, b.id].sort());
  });

  it('fails when the entry cannot be written, so the action does not happen unrecorded', async () => {
    const broken = {
      appendAudit: () => Promise.reject(new Error('storage down')),
      listAudit: () => Promise.reject(new Error('storage down')),
    };
    await expect(recordAudit({ audit: broken, client: {}, requestId: 'r', wallClock: () => 0 }, 'export')).rejects.toThrow('storage down');
  });
});

describe('audit ids in the CSV export', () => {
  const FORMULA_START = /^[=+\-@\t\r]/;

  it('never begin like a formula, also for the bytes whose base64url began with "-"', () => {
    const bytes = Uint8Array.from([0xf8, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Buffer.from(bytes).toString('base64url')).toMatch(/^-/);
    expect(auditIdOf(bytes)).not.toMatch(FORMULA_START);
  });

  it('are exported exactly as stored, whatever the random bytes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.uint8Array({ minLength: 9, maxLength: 9 }), { minLength: 1, maxLength: 8, selector: (b) => b.join() }),
        async (draws) => {
          const store = new MemoryStaffRecords();
          const ids = draws.map(auditIdOf);
          for (const id of ids) {
            expect(id).not.toMatch(FORMULA_START);
            await store.appendAudit(entryWith(id));
          }
          const stored = (await store.listAudit({ from: '2026-11-25', to: '2026-11-25' }, 500)).entries.map((e) => e.id);
          expect(stored.sort()).toEqual([...ids].sort());
          expect((await exportedRows(store, '2026-11-25')).map((r) => r.entry_id).sort()).toEqual(stored);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('still neutralise formula-looking values elsewhere in the entry', async () => {
    const formula = fc
      .tuple(fc.constantFrom('=', '+', '-', '@', '\t', '\r'), fc.string({ unit: 'grapheme', maxLength: 30 }))
      .map(([head, tail]) => head + tail)
      .filter((v) => !/^\+\d{7,15}$/.test(v));
    await fc.assert(
      fc.asyncProperty(formula, formula, fc.uint8Array({ minLength: 9, maxLength: 9 }), async (userId, agent, bytes) => {
        const store = new MemoryStaffRecords();
        const id = auditIdOf(bytes);
        await store.appendAudit(entryWith(id, { actor: { user_id: userId, role: 'staff' }, client: { user_agent: agent } }));
        const [row] = await exportedRows(store, '2026-11-25');
        expect(row).toMatchObject({ user_id: `'${userId}`, user_agent: `'${agent}`, entry_id: id });
      }),
      { numRuns: 200 },
    );
  });
});
