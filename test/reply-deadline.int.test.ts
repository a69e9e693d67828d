import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import twilio from 'twilio';
import { ehrEvent } from './fixtures/events';
import { MINUTE } from './fixtures/time';
import { flowTextPattern } from './support/flow-texts';
import { startTestStack, type TestStack } from './support/local-stack';
import { phonesApi } from './support/phones';
import { started } from './support/started';

/** An EHR endpoint of the test's own: it answers at once, after a delay, or never. */
interface SlowEhr {
  url: string;
  mode: { kind: 'ok' } | { kind: 'delay'; ms: number } | { kind: 'hang' };
  received: { key: string | undefined; answered: boolean }[];
  close(): Promise<void>;
}

async function startSlowEhr(): Promise<SlowEhr> {
  const ehr: Omit<SlowEhr, 'url' | 'close'> = { mode: { kind: 'ok' }, received: [] };
  const server = http.createServer((req, res) => {
    req.resume();
    const entry = { key: req.headers['idempotency-key'] as string | undefined, answered: false };
    ehr.received.push(entry);
    const answer = () => {
      entry.answered = true;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
    };
    const mode = ehr.mode;
    if (mode.kind === 'ok') answer();
    else if (mode.kind === 'delay') setTimeout(answer, mode.ms);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return Object.assign(ehr, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/requests`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  });
}

let ehr: SlowEhr;
let t: TestStack;
beforeAll(async () => {
  ehr = await startSlowEhr();
  t = await startTestStack({ IE_ENDPOINT: ehr.url });
});
afterAll(async () => {
  await started(t)?.stop();
  await started(ehr)?.close();
});
beforeEach(() => {
  ehr.mode = { kind: 'ok' };
  ehr.received.length = 0;
});

let seq = 0;
async function booked(): Promise<{ phone: string; id: string }> {
  seq += 1;
  const p = { phone: `+1415555${String(3100 + seq).padStart(4, '0')}`, id: `APT-deadline-${seq}` };
  const res = await t.postEvents(ehrEvent({ patient_phone: p.phone, appointment_id: p.id }));
  expect(res.status).toBe(202);
  await t.stack.settle();
  return p;
}

/** The reply Function called as Studio calls it, timed. */
async function reply(phone: string, body: string): Promise<{ ms: number; status: number; json: Record<string, string> }> {
  const url = `${t.stack.url}/studio/reply`;
  const params = { From: phone, Body: body, MessageSid: `SM${String(seq).padStart(32, '0')}` };
  const signature = twilio.getExpectedTwilioSignature(t.stack.env.AUTH_TOKEN ?? '', url, params);
  const started = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
    body: new URLSearchParams(params),
  });
  const json = (await res.json()) as Record<string, string>;
  return { ms: performance.now() - started, status: res.status, json };
}

/** Later sweeps, each past the outbox's retry time. */
async function sweepLater(times = 2): Promise<void> {
  for (let i = 0; i < times; i += 1) {
    t.stack.clock.advance(70 * MINUTE);
    await t.stack.sweep();
  }
}

describe('the reply Function answers within 8 s whatever the EHR does', () => {
  it('an EHR that never answers: the confirm is recorded and acknowledged in time; the sweep delivers it once, same key', async () => {
    const p = await booked();
    ehr.mode = { kind: 'hang' };

    const r = await reply(p.phone, 'CONFIRM APPT');

    console.info(`reply with a hanging EHR answered in ${Math.round(r.ms)} ms`);
    expect(r.ms).toBeLessThan(8_000);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ action: 'confirm', appointment_id: p.id, ehr_delivery: 'pending' });
    expect(ehr.received).toHaveLength(1);

    ehr.mode = { kind: 'ok' };
    await sweepLater();
    const keys = new Set(ehr.received.map((x) => x.key));
    expect(keys.size).toBe(1);
    expect(ehr.received.filter((x) => x.answered)).toHaveLength(1);
    // The hung attempt and the sweep's one; nothing after the delivery.
    expect(ehr.received).toHaveLength(2);
    expect(await t.stack.sweepDeps().then((d) => d.store.listOutbox('ehr'))).toEqual([]);
  });

  it('an EHR that takes 6 s: delivered within the reply, exactly one request, even with a sweep running meanwhile', async () => {
    const p = await booked();
    ehr.mode = { kind: 'delay', ms: 6_000 };

    const pending = reply(p.phone, 'CANCEL APPT');
    // A sweep while the attempt is in flight (the EHR has it and has not answered) must not send
    // the request a second time.
    const inFlightBy = Date.now() + 5_000;
    while (!(ehr.received.length === 1 && ehr.received[0]?.answered === false)) {
      if (Date.now() > inFlightBy) throw new Error('the reply never reached the EHR');
      await new Promise((r) => setTimeout(r, 10));
    }
    await t.stack.sweep();
    const r = await pending;

    console.info(`reply with a 6 s EHR answered in ${Math.round(r.ms)} ms`);
    expect(r.ms).toBeLessThan(8_000);
    expect(r.json).toMatchObject({ action: 'cancel', ehr_delivery: 'delivered' });
    await sweepLater();
    expect(ehr.received).toHaveLength(1);
    expect(ehr.received.at(0)?.answered).toBe(true);
  });

  it('the patient gets the normal confirm acknowledgement while the EHR hangs, never the error text', async () => {
    const p = await booked();
    ehr.mode = { kind: 'hang' };
    const phones = phonesApi(t);

    await phones.send(p.phone, 'CONFIRM APPT');

    const texts = await phones.received(p.phone);
    expect(texts.at(-1)).toMatch(flowTextPattern('send_confirm_ack'));
    expect(texts.at(-1)).toContain('Zoe');
    ehr.mode = { kind: 'ok' };
    await sweepLater();
    expect(ehr.received.filter((x) => x.answered)).toHaveLength(1);
    expect(new Set(ehr.received.map((x) => x.key)).size).toBe(1);
  });
});
