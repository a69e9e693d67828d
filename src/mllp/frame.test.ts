import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame, MllpDecoder, type MllpEvent } from './frame';

const frames = (events: MllpEvent[]) =>
  events.filter((e) => e.kind === 'frame').map((e) => (e as { payload: Buffer }).payload.toString('utf8'));

describe('MLLP decoder', () => {
  it('yields the same messages however TCP splits or joins the bytes', () => {
    const message = fc.string({ unit: fc.constantFrom('M', 'S', 'H', '|', '^', '\r', 'é', '日'), minLength: 1, maxLength: 40 });
    fc.assert(
      fc.property(
        fc.array(message, { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 20 }),
        (messages, cuts) => {
          const bytes = Buffer.concat(messages.map((m) => encodeFrame(m)));
          const decoder = new MllpDecoder(1024);
          const seen: MllpEvent[] = [];
          let at = 0;
          for (let k = 0; at < bytes.length; k += 1) {
            const size = cuts[k % cuts.length] as number;
            seen.push(...decoder.push(bytes.subarray(at, at + size)));
            at += size;
          }
          expect(frames(seen)).toEqual(messages);
          expect(seen.some((e) => e.kind !== 'frame')).toBe(false);
        },
      ),
    );
  });

  it('stops at a frame larger than the limit and keeps its head to answer it', () => {
    const decoder = new MllpDecoder(10);
    const events = [...decoder.push(Buffer.from('\u000bMSH|^~\\&|A')), ...decoder.push(Buffer.from('BCDEFGH\u001c\r\u000bMSH\u001c\r'))];
    expect(events).toEqual([{ kind: 'oversize', head: Buffer.from('MSH|^~\\&|ABCDEFGH') }]);
  });

  it('reports bytes outside a frame and carries on', () => {
    const decoder = new MllpDecoder(100);
    expect(decoder.push(Buffer.from('noise\r\n\u000bMSH\u001c\r'))).toEqual([
      { kind: 'junk', bytes: 5 },
      { kind: 'frame', payload: Buffer.from('MSH') },
    ]);
  });
});
