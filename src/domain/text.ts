/**
 * What text from outside may contain. Names and addresses keep every visible character byte for
 * byte (commas, `=`, quotes, accents, apostrophes, emoji); what is refused is text that is not
 * what it looks like: ill-formed UTF-16, mis-decoded bytes, and characters that render as nothing
 * or reorder what is around them (Trojan Source, CVE-2021-42574; Unicode TR #36, §2 and §3.7).
 */

const ZWNJ = '\u200c';
const ZWJ = '\u200d';
const SOFT_HYPHEN = '\u00ad';

// Letters and combining marks: Persian (ZWNJ inside words such as «می‌خواهم») needs the joiners
// between letters; the Indic scripts and Sinhala put them after a virama (a nonspacing mark),
// also at the end of a word (Malayalam chillu letters written as na + virama + ZWJ).
const JOINABLE = /^[\p{L}\p{M}]$/u;
const VIRAMA_LIKE = /^\p{Mn}$/u;
// Emoji ZWJ sequences (👩‍⚕️, 👨‍👩‍👧) join pictographs, optionally after a skin tone or VS16.
const EMOJI_LEFT = /^[\p{Extended_Pictographic}\p{Emoji_Modifier}\ufe0f]$/u;
const EMOJI_RIGHT = /^\p{Extended_Pictographic}$/u;
// Hangul fillers and the blank Braille pattern are letters/symbols that render as nothing; they
// are the usual way to make a "blank" name look filled in.
const BLANK_LOOKING = new Set(['\u115f', '\u1160', '\u3164', '\uffa0', '\u2800']);
// Controls (Cc), format characters (Cf), line/paragraph separators (Zl, Zp).
const INVISIBLE = /^[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]$/u;
const VISIBLE = /^[\p{L}\p{N}\p{P}\p{S}]$/u;

function codePoint(ch: string): string {
  return `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

function isNoncharacter(cp: number): boolean {
  return (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe;
}

/**
 * Why `value` is not acceptable text, or undefined when it is. The reason names the offending
 * code point, never the text around it (which may be a patient's name).
 */
export function textProblem(value: string): string | undefined {
  if (!value.isWellFormed()) return 'is not well-formed Unicode (it contains an unpaired surrogate)';
  const chars = [...value];
  for (let i = 0; i < chars.length; i += 1) {
    const ch = chars[i] as string;
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '\ufffd') {
      return 'contains U+FFFD, the replacement character: the text was mis-decoded before it was sent; send it as UTF-8';
    }
    if (isNoncharacter(cp)) return `contains ${codePoint(ch)}, a Unicode noncharacter`;
    if (BLANK_LOOKING.has(ch)) return `contains ${codePoint(ch)}, a character that displays as blank`;
    if (ch === SOFT_HYPHEN) continue;
    if (ch === ZWJ || ch === ZWNJ) {
      const before = chars[i - 1] ?? '';
      const after = chars[i + 1] ?? '';
      const betweenLetters = (JOINABLE.test(before) && JOINABLE.test(after)) || VIRAMA_LIKE.test(before);
      const inEmoji = ch === ZWJ && EMOJI_LEFT.test(before) && EMOJI_RIGHT.test(after);
      if (betweenLetters || inEmoji) continue;
      return `contains ${codePoint(ch)} outside a word or emoji sequence; a joiner is accepted only between two letters, after a virama, or between two emoji (U+200D)`;
    }
    if (INVISIBLE.test(ch)) {
      return /^\p{Cc}$/u.test(ch)
        ? 'must not contain control characters (tabs, newlines, NUL)'
        : `contains ${codePoint(ch)}, an invisible formatting or direction control character`;
    }
  }
  return undefined;
}

/** At least one character a reader can see: not only spaces, joiners, soft hyphens or marks. */
export function hasVisibleCharacter(value: string): boolean {
  for (const ch of value) if (VISIBLE.test(ch)) return true;
  return false;
}
