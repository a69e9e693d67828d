import { describe, expect, it } from 'vitest';
import { buildAck } from './ack';
import { parseEr7, valueAt } from './er7';

const original = (() => {
  const r = parseEr7('MSH|^~\\&|EHR|OWL^1.2&x|SMS|CLINIC|20261125075000||SIU^S12^SIU_S12|CTRL|T|2.5.1\rSCH|1\r');
  if (!r.ok) throw new Error('bad');
  return r.message;
})();

describe('ACK', () => {
  it('swaps sender and receiver, copies MSH-11/12, answers MSH-10 in MSA-2, stamps MSH-7 with an offset', () => {
    const ack = buildAck({ code: 'AA', original, text: 'recorded', now: new Date('2026-11-25T16:00:00Z'), controlId: 'ACK1' });
    const r = parseEr7(ack);
    if (!r.ok) throw new Error('unreadable ack');
    const [msh, msa] = r.message.segments;
    expect([3, 4, 5, 6].map((f) => valueAt(msh, f))).toEqual(['SMS', 'CLINIC', 'EHR', 'OWL']);
    expect(valueAt(msh, 6, 2, 2)).toBe('x');
    expect(valueAt(msh, 7)).toBe('20261125160000+0000');
    expect([valueAt(msh, 9, 1), valueAt(msh, 9, 2), valueAt(msh, 9, 3), valueAt(msh, 10), valueAt(msh, 11), valueAt(msh, 12)]).toEqual([
      'ACK',
      'S12',
      'ACK',
      'ACK1',
      'T',
      '2.5.1',
    ]);
    expect([msa?.id, valueAt(msa, 1), valueAt(msa, 2), valueAt(msa, 3)]).toEqual(['MSA', 'AA', 'CTRL', 'recorded']);
  });

  it('writes one ERR per issue with its location, table 0357 code and an escaped text', () => {
    const ack = buildAck({
      code: 'AE',
      original,
      text: 'a|b^c',
      issues: [{ code: 102, at: { segment: 'PID', field: 13, repetition: 2 }, text: 'PID-13: not a phone | number' }],
      now: new Date(0),
      controlId: 'A',
    });
    expect(ack).toContain('MSA|AE|CTRL|a\\F\\b\\S\\c\r');
    expect(ack).toContain('ERR||PID^1^13^2|102^Data type error^HL70357|E||||PID-13: not a phone \\F\\ number\r');
  });

  it('answers garbage with default delimiters and an empty MSA-2', () => {
    const ack = buildAck({ code: 'AR', text: 'unreadable', issues: [{ code: 100, text: 'no MSH' }], now: new Date(0), controlId: 'A' });
    expect(ack).toMatch(
      /^MSH\|\^~\\&\|\|\|\|\|19700101000000\+0000\|\|ACK\|A\|P\|2\.5\.1\rMSA\|AR\|\|unreadable\rERR\|\|\|100\^Segment sequence error\^HL70357\|E/,
    );
  });

  it('adds ERR-1 for v2.3 receivers', () => {
    const r = parseEr7('MSH|^~\\&|A|B|C|D|2026||SIU^S12|X|P|2.3\r');
    if (!r.ok) throw new Error('bad');
    const ack = buildAck({
      code: 'AE',
      original: r.message,
      text: 't',
      issues: [{ code: 101, at: { segment: 'SCH', field: 2 }, text: 'x' }],
      now: new Date(0),
      controlId: 'A',
    });
    expect(ack).toContain('ERR|SCH^1^2^101&Required field missing&HL70357|SCH^1^2^1|');
  });
});
