import { describe, expect, it } from 'vitest';
import { csvCell, csvLine } from './csv';

describe('CSV cells', () => {
  it.each([
    ['plain', 'plain'],
    ["Suite 100, O'Brien Bldg", '"Suite 100, O\'Brien Bldg"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['Zoë', 'Zoë'],
    ['=HYPERLINK("http://x")', '"\'=HYPERLINK(""http://x"")"'],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['-2+3', "'-2+3"],
    ['+14155550134', '+14155550134'],
    [undefined, ''],
    [{ a: '1' }, '"{""a"":""1""}"'],
  ])('writes %j as %s', (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });

  it('ends every line with CRLF (RFC 4180)', () => {
    expect(csvLine(['a', 'b'])).toBe('a,b\r\n');
  });
});
