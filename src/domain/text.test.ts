import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hasVisibleCharacter, textProblem } from './text';

describe('textProblem', () => {
  it.each([
    ['unpaired high surrogate', 'MRN-7\ud800', /well-formed/],
    ['unpaired low surrogate', '\udc00', /well-formed/],
    ['replacement character (mis-decoded bytes)', 'Zo\ufffd', /U\+FFFD/],
    ['right-to-left override', 'abc\u202e', /U\+202E/],
    ['zero-width space', 'a\u200bb', /U\+200B/],
    ['byte order mark', '\ufeffa', /U\+FEFF/],
    ['line separator', 'a\u2028b', /U\+2028/],
    ['paragraph separator', 'a\u2029b', /U\+2029/],
    ['noncharacter U+FFFF', 'a\uffff', /noncharacter/],
    ['noncharacter U+FDD0', 'a\ufdd0', /noncharacter/],
    ['noncharacter U+10FFFE', 'a\u{10fffe}', /noncharacter/],
    ['tab', 'a\tb', /control/],
    ['C1 control', 'a\u009bb', /control/],
    ['ZWJ at the start', '\u200dZoë', /U\+200D/],
    ['ZWNJ between digits', '1\u200c2', /U\+200C/],
    ['ZWNJ between emoji', '😀\u200c😀', /U\+200C/],
    ['Hangul filler', '\u3164', /blank/],
    ['blank Braille pattern', 'a\u2800', /blank/],
  ])('refuses %s, naming the code point and not the text', (_what, value, reason) => {
    const problem = textProblem(value);
    expect(problem).toMatch(reason);
    expect(problem).not.toContain(value);
  });

  it.each([
    ['accents and punctuation', `Zoë O'Connor-Nuñez, "East" = 2`],
    ['Persian ZWNJ inside a word', 'می\u200cخواهم'],
    ['Hindi ZWJ after a virama', 'क्\u200dष'],
    ['Malayalam chillu at the end of a word', 'അന്\u200d'],
    ['emoji ZWJ sequence', '👨\u200d👩\u200d👧'],
    ['emoji with skin tone then ZWJ', '👩🏽\u200d⚕️'],
    ['soft hyphen inside a word', 'Wolfe\u00adschlegel'],
    ['precomposed and decomposed accents', 'é e\u0301'],
    ['astral letters', '𠜎𠜱'],
  ])('accepts %s', (_what, value) => {
    expect(textProblem(value)).toBeUndefined();
  });

  it('accepts only well-formed text free of controls, separators, noncharacters and stray format characters', () => {
    const unit = fc.oneof(
      fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
      fc.constantFrom('\u200c', '\u200d', '\u00ad', 'a', 'ک', '\u094d', '👩'),
    );
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 20 }), (s) => {
        if (textProblem(s) !== undefined) return;
        expect(s.isWellFormed()).toBe(true);
        expect(s).not.toMatch(/[\p{Cc}\p{Zl}\p{Zp}\ufffd\ufdd0-\ufdef\ufffe\uffff]/u);
        const chars = [...s];
        chars.forEach((ch, i) => {
          if (!/\p{Cf}/u.test(ch) || ch === '\u00ad') return;
          expect(['\u200c', '\u200d']).toContain(ch);
          expect(chars[i - 1] ?? '').toMatch(/[\p{L}\p{M}\p{Extended_Pictographic}\p{Emoji_Modifier}\ufe0f]/u);
        });
      }),
      { numRuns: 3000 },
    );
  });
});

describe('hasVisibleCharacter', () => {
  it.each([
    ['soft hyphens only', '\u00ad\u00ad', false],
    ['combining marks only', '\u0301\u0308', false],
    ['spaces only', '\u00a0 \u3000', false],
    ['a letter among soft hyphens', '\u00ada\u00ad', true],
    ['digits', '42', true],
    ['an emoji', '🙂', true],
  ])('%s → %s', (_what, value, visible) => {
    expect(hasVisibleCharacter(value)).toBe(visible);
  });
});
