import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame, MllpDecoder } from '../src/mllp/frame';
import { startMllpBridge, type MllpBridge } from '../src/mllp/bridge';
import { stateKey } from '../src/storage/keys';
import { siuMessage } from './fixtures/hl7';
import { startTestStack, type TestStack } from './support/local-stack';
import { started } from './support/started';

let t: TestStack;
let bridge: MllpBridge;
beforeAll(async () => {
  t = await startTestStack({ EHR_DEFAULT_TIMEZONE: 'America/New_York' });
  bridge = await startMllpBridge({
    host: '127.0.0.1',
    port: 0,
    endpoint: `${t.stack.url}/ehr/hl7`,
    apiKey: t.stack.env.EHR_API_KEY as string,
    maxFrameBytes: 4096,
    timeoutMs: 10_000,
  });
});
afterAll(async () => {
  await started(bridge)?.close();
  await started(t)?.stop();
});

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A client like an engine's MLLP sender: writes the chunks as separate packets, collects the ACK frames. */
async function exchange(port: number, chunks: Buffer[], expectAcks: number): Promise<{ acks: string[]; closed: boolean }> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const decoder = new MllpDecoder(1 << 20);
  const acks: string[] = [];
  let closed = false;
  const done = new Promise<void>((resolve) => {
    socket.on('data', (d: Buffer) => {
      for (const e of decoder.push(d)) if (e.kind === 'frame') acks.push(e.payload.toString('utf8'));
      if (acks.length >= expectAcks) resolve();
    });
    socket.on('close', () => {
      closed = true;
      resolve();
    });
    socket.on('error', () => undefined);
  });
  for (const c of chunks) {
    socket.write(c);
    await pause(30);
  }
  await Promise.race([done, pause(15_000)]);
  await pause(50);
  socket.destroy();
  return { acks, closed };
}

const msa = (ack: string) =>
  ack
    .split('\r')
    .find((s) => s.startsWith('MSA|'))
    ?.split('|')
    .slice(1, 3);

describe('npm run mllp-bridge', () => {
  it('forwards several messages on one connection, split across packets and two in one packet, answering each in order', async () => {
    const one = encodeFrame(siuMessage({ controlId: 'M1', placerId: 'MLLP-1', fillerId: '' }));
    const two = encodeFrame(siuMessage({ controlId: 'M2', placerId: 'MLLP-2', fillerId: '', phones: '^PRN^CP^^1^415^5550161' }));
    const three = encodeFrame(siuMessage({ controlId: 'M3', placerId: 'MLLP-3', fillerId: '', phones: '^PRN^CP^^1^415^5550162' }));
    const chunks = [
      one.subarray(0, 1),
      one.subarray(1, 40),
      one.subarray(40),
      Buffer.concat([two, three.subarray(0, 25)]),
      three.subarray(25),
    ];
    const { acks } = await exchange(bridge.port, chunks, 3);
    expect(acks.map(msa)).toEqual([
      ['AA', 'M1'],
      ['AA', 'M2'],
      ['AA', 'M3'],
    ]);
    for (const id of ['MLLP-1', 'MLLP-2', 'MLLP-3']) expect((await t.getJson(stateKey(id))).ehr_event_type).toBe('BOOKED');
  });

  it('passes an AE from the endpoint back, and keeps the connection for the next message', async () => {
    const bad = encodeFrame(siuMessage({ controlId: 'BAD', placerId: '', fillerId: '' }));
    const good = encodeFrame(siuMessage({ controlId: 'GOOD', placerId: 'MLLP-4', fillerId: '', phones: '^PRN^CP^^1^415^5550163' }));
    const { acks } = await exchange(bridge.port, [bad, good], 2);
    expect(acks.map(msa)).toEqual([
      ['AE', 'BAD'],
      ['AA', 'GOOD'],
    ]);
    expect(acks[0]).toContain('|SCH^1^2^1|101^');
  });

  it('answers a frame over the size limit with AR and closes the connection; nothing is forwarded', async () => {
    const before = await t.listKeys();
    const big = encodeFrame(siuMessage({ controlId: 'BIG', placerId: 'MLLP-BIG', fillerId: '', extra: [`NTE|||${'x'.repeat(5000)}`] }));
    const { acks, closed } = await exchange(bridge.port, [big], 1);
    expect(acks.map(msa)).toEqual([['AR', 'BIG']]);
    expect(acks[0]).toContain('larger than 4096 bytes');
    expect(closed).toBe(true);
    expect(await t.listKeys()).toEqual(before);
  });

  it('sends no ACK and closes when the endpoint cannot be reached, so the engine resends', async () => {
    const down = await startMllpBridge({
      host: '127.0.0.1',
      port: 0,
      endpoint: 'http://127.0.0.1:9/ehr/hl7',
      apiKey: 'k'.repeat(24),
      maxFrameBytes: 4096,
      timeoutMs: 2000,
    });
    try {
      const { acks, closed } = await exchange(down.port, [encodeFrame(siuMessage({ controlId: 'DOWN' }))], 1);
      expect(acks).toEqual([]);
      expect(closed).toBe(true);
    } finally {
      await down.close();
    }
  });
});
