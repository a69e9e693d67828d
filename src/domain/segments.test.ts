import { describe, expect, it } from 'vitest';
import { countSegments, isGsm7 } from './segments';

describe('countSegments', () => {
  it.each([
    ['', 'GSM-7', 0, 1],
    ['a'.repeat(160), 'GSM-7', 160, 1],
    ['a'.repeat(161), 'GSM-7', 161, 2],
    ['a'.repeat(306), 'GSM-7', 306, 2],
    ['a'.repeat(307), 'GSM-7', 307, 3],
    ['a'.repeat(459), 'GSM-7', 459, 3],
    ['a'.repeat(460), 'GSM-7', 460, 4],
    ['€'.repeat(80), 'GSM-7', 160, 1],
    ['{'.repeat(81), 'GSM-7', 162, 2],
    ['ñÑüÜéÉ¿¡àäöåøæßΔΩ£¥§@$', 'GSM-7', 22, 1],
    ['á'.repeat(70), 'UCS-2', 70, 1],
    ['á'.repeat(71), 'UCS-2', 71, 2],
    ['í'.repeat(134), 'UCS-2', 134, 2],
    ['ó'.repeat(135), 'UCS-2', 135, 3],
    ['😀'.repeat(35), 'UCS-2', 70, 1],
    ['😀'.repeat(36), 'UCS-2', 72, 2],
  ] as const)('%j is %s, %i units, %i segment(s)', (text, encoding, units, segments) => {
    expect(countSegments(text)).toEqual({ encoding, units, segments });
  });

  it('never splits an escape pair across parts: 152 septets then a two-septet character start a new part', () => {
    // 152 + 2 would straddle the 153-septet boundary, so the € opens part 2; 152 + 2 + 153 = 307 units, 3 parts.
    expect(countSegments(`${'a'.repeat(152)}€${'a'.repeat(153)}`)).toEqual({ encoding: 'GSM-7', units: 307, segments: 3 });
    expect(countSegments(`${'a'.repeat(151)}€${'a'.repeat(153)}`)).toEqual({ encoding: 'GSM-7', units: 306, segments: 2 });
  });

  it('never splits a surrogate pair across UCS-2 parts', () => {
    expect(countSegments(`${'a'.repeat(66)}😀${'a'.repeat(66)}á`)).toEqual({ encoding: 'UCS-2', units: 135, segments: 3 });
    expect(countSegments(`${'a'.repeat(65)}😀${'a'.repeat(67)}á`)).toEqual({ encoding: 'UCS-2', units: 135, segments: 3 });
  });

  it('one character outside GSM 03.38 makes the whole text UCS-2', () => {
    expect(isGsm7('Hola María')).toBe(false);
    expect(isGsm7('Hola Maria, ¿qué tal? ñ')).toBe(true);
    expect(isGsm7('backtick `')).toBe(false);
    expect(countSegments(`${'a'.repeat(100)}ú`)).toMatchObject({ encoding: 'UCS-2', segments: 2 });
  });

  it('for any GSM-7 text, parts × 153 cover the units and one part fewer would not', () => {
    for (let n = 161; n < 1000; n += 7) {
      const { units, segments } = countSegments('x'.repeat(n));
      expect(segments * 153).toBeGreaterThanOrEqual(units);
      expect((segments - 1) * 153).toBeLessThan(units);
    }
  });
});
