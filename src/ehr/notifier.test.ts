import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { setLogSink } from '../log';
import type { OutboxEntry, OutboxKind } from '../storage/appointment-store';
import { EhrNotifier, type EhrOutboxStore, type EhrRequest } from './notifier';

/** The notifier's part of the appointment store, in memory (the S3 one runs in test/messaging.int.test.ts). */
class MemoryOutbox implements EhrOutboxStore {
  readonly outbox = new Map<string, OutboxEntry>();
  readonly receipts = new Map<string, unknown>();
  async putOutbox<T>(entry: OutboxEntry<T>): Promise<void> {
    this.outbox.set(`${entry.kind}/${entry.id}`, structuredClone(entry));
  }
  async deleteOutbox(kind: OutboxKind, id: string): Promise<void> {
    this.outbox.delete(`${kind}/${id}`);
  }
  async listOutbox<T>(kind: OutboxKind): Promise<OutboxEntry<T>[]> {
    return [...this.outbox.values()].filter((e) => e.kind === kind).map((e) => structuredClone(e) as OutboxEntry<T>);
  }
  async putReceipt(appointmentId: string, eventId: string, receipt: unknown): Promise<'created' | 'exists'> {
    const key = `${appointmentId}/${eventId}`;
    if (this.receipts.has(key)) return 'exists';
    this.receipts.set(key, receipt);
    return 'created';
  }
  async getReceipt(appointmentId: string, eventId: string): Promise<unknown> {
    return this.receipts.get(`${appointmentId}/${eventId}`);
  }
}

const REQUEST: EhrRequest = {
  event_type: 'CONFIRM',
  event_id: 'e'.repeat(32),
  event_datetime_utc: '2026-11-25T17:00:00.000Z',
  appointment_id: 'APT-1',
  patient_id: 'PAT-1',
  provider_id: 'PRV-1',
  flow_sid: 'FW1',
  execution_sid: 'FN1',
  message_sid: 'SM1',
};

const servers: http.Server[] = [];
async function serve(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  setLogSink((line, level) => (level === 'warn' || level === 'error' ? console.error(line) : console.log(line)), 'warn');
});

function captureLogs(): string[] {
  const lines: string[] = [];
  setLogSink((line) => lines.push(line), 'debug');
  return lines;
}

describe('EHR notifier: where requests go', () => {
  it('does not follow a 307: the request stays pending, the redirect target is never hit, only the status is logged', async () => {
    let targetHits = 0;
    const target = await serve((_req, res) => {
      targetHits += 1;
      res.end('ok');
    });
    const secretPath = '/steal?token=abc';
    const ehr = await serve((_req, res) => {
      res.writeHead(307, { Location: `${target}${secretPath}` });
      res.end('redirect body with PAT-1 inside');
    });
    const logs = captureLogs();
    const store = new MemoryOutbox();
    const notifier = new EhrNotifier({ endpoint: `${ehr}/requests`, secret: 's', store, now: () => new Date('2026-11-25T17:00:00Z') });

    expect(await notifier.deliver(REQUEST)).toBe('pending');

    expect(targetHits).toBe(0);
    expect(store.receipts.size).toBe(0);
    const [entry] = await store.listOutbox('ehr');
    expect(entry?.last_error).toBe('HTTP 307');
    const text = logs.join('\n');
    expect(text).toContain('"error":"HTTP 307"');
    expect(text).not.toContain(target);
    expect(text).not.toContain('steal');
    expect(text).not.toContain('redirect body');
  });

  it('gives up on an EHR that accepts the connection and never answers, within the total timeout', async () => {
    const ehr = await serve(() => undefined);
    const store = new MemoryOutbox();
    const notifier = new EhrNotifier({ endpoint: ehr, secret: 's', store, now: () => new Date(), timeoutMs: 1_000 });
    const started = Date.now();
    expect(await notifier.deliver(REQUEST)).toBe('pending');
    expect(Date.now() - started).toBeLessThan(2_500);
    expect((await store.listOutbox('ehr'))[0]?.last_error).toBe('timeout');
  });

  it('counts a refused connection as a failed delivery, named by kind only', async () => {
    const closed = await serve(() => undefined);
    const { port } = new URL(closed);
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
    const store = new MemoryOutbox();
    const notifier = new EhrNotifier({ endpoint: `http://127.0.0.1:${port}`, secret: 's', store, now: () => new Date() });
    expect(await notifier.deliver(REQUEST)).toBe('pending');
    expect((await store.listOutbox('ehr'))[0]?.last_error).toBe('network');
  });

  it('with less time left than one attempt needs, queues the request for the sweep and sends nothing now', async () => {
    let hits = 0;
    const ehr = await serve((_req, res) => {
      hits += 1;
      res.end('{}');
    });
    const store = new MemoryOutbox();
    const now = new Date('2026-11-25T17:00:00Z');
    const notifier = new EhrNotifier({ endpoint: ehr, secret: 's', store, now: () => now });
    expect(await notifier.deliver(REQUEST, { timeoutMs: 200 })).toBe('pending');
    expect(hits).toBe(0);
    expect((await store.listOutbox('ehr'))[0]?.next_attempt_at).toBe(now.toISOString());
    expect(await notifier.retryPending()).toMatchObject({ delivered: 1 });
    expect(hits).toBe(1);
  });

  it('delivers to a 2xx once and keeps the receipt', async () => {
    const keys: (string | undefined)[] = [];
    const ehr = await serve((req, res) => {
      keys.push(req.headers['idempotency-key'] as string | undefined);
      req.resume();
      res.end('{}');
    });
    const store = new MemoryOutbox();
    const notifier = new EhrNotifier({ endpoint: ehr, secret: 's', store, now: () => new Date() });
    expect(await notifier.deliver(REQUEST)).toBe('delivered');
    expect(keys).toEqual([REQUEST.event_id]);
    expect(await store.listOutbox('ehr')).toEqual([]);
  });
});
