import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DELIMITERS,
  encodeEr7,
  escapeValue,
  parseEr7,
  splitSegments,
  stripMllp,
  unescapeValue,
  valueAt,
  type Delimiters,
  type Er7Message,
  type Field,
} from './er7';

const PUNCTUATION = [...'|^~\\&#$%!@*+=/:;?'];

const delimitersArb: fc.Arbitrary<Delimiters> = fc
  .shuffledSubarray(PUNCTUATION, { minLength: 5, maxLength: 5 })
  .map(([field, component, repetition, escape, subcomponent]) => ({ field, component, repetition, escape, subcomponent }) as Delimiters);

// Values mix every delimiter candidate, quotes, line ends, MLLP bytes, accents and astral characters.
const valueArb = fc.oneof(
  fc.string({
    unit: fc.constantFrom(...PUNCTUATION, 'a', 'Z', '0', ' ', '"', '\r', '\n', '\u000b', '\u001c', 'é', 'ß', '日', '😀'),
    maxLength: 12,
  }),
  fc.constant('""'),
  fc.constant(''),
);
const fieldArb: fc.Arbitrary<Field> = fc.array(
  fc.array(fc.array(valueArb, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }),
  { minLength: 1, maxLength: 3 },
);
const segmentIdArb = fc.stringMatching(/^[A-Z][A-Z0-9]{2}$/).filter((id) => id !== 'MSH');

const messageArb: fc.Arbitrary<Er7Message> = fc
  .record({
    delimiters: delimitersArb,
    msh: fc.array(fieldArb, { minLength: 1, maxLength: 18 }),
    rest: fc.array(fc.record({ id: segmentIdArb, fields: fc.array(fieldArb, { minLength: 1, maxLength: 8 }) }), { maxLength: 6 }),
  })
  .map(({ delimiters, msh, rest }) => ({
    delimiters,
    segments: [
      {
        id: 'MSH',
        fields: [
          [[['']]],
          [[[delimiters.field]]],
          [[[`${delimiters.component}${delimiters.repetition}${delimiters.escape}${delimiters.subcomponent}`]]],
          ...msh,
        ],
      },
      ...rest.map((s) => ({ id: s.id, fields: [[[['']]], ...s.fields] })),
    ],
  }));

/** `""` is HL7's explicit null: it reads back as empty, so a generated one must be compared as such. */
function parsed(text: string): Er7Message {
  const r = parseEr7(text);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.message;
}

describe('ER7 encoding', () => {
  it('round-trips parse ∘ encode for random delimiters and values containing delimiters, controls and quotes', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        expect(parsed(encodeEr7(m))).toEqual(m);
      }),
      { numRuns: 300 },
    );
  });

  it('reads the same message with CR, LF or CRLF segment ends and with MLLP framing', () => {
    fc.assert(
      fc.property(messageArb, fc.constantFrom('\r', '\n', '\r\n'), fc.boolean(), (m, end, mllp) => {
        // LF ends can only be told from data when no value holds a raw LF: the encoder escapes them all.
        const text = encodeEr7(m).split('\r').join(end);
        expect(parsed(mllp ? `\u000b${text}\u001c\r` : text)).toEqual(m);
      }),
      { numRuns: 200 },
    );
  });

  it('escapes so that no delimiter or control survives in a value', () => {
    fc.assert(
      fc.property(delimitersArb, valueArb, (d, v) => {
        const e = escapeValue(v, d);
        for (const c of [d.field, d.component, d.repetition, d.subcomponent]) expect(e.includes(c)).toBe(false);
        expect([...e].some((c) => c < ' ')).toBe(false);
        expect(unescapeValue(e, d)).toBe(v);
      }),
    );
  });

  it.each([
    ['\\F\\', '|'],
    ['\\S\\', '^'],
    ['\\T\\', '&'],
    ['\\R\\', '~'],
    ['\\E\\', '\\'],
    ['A\\T\\E', 'A&E'],
    ['O\\E\\Brien', 'O\\Brien'],
    ['Ana \\X41\\', 'Ana A'],
    ['\\X4F6C61\\', 'Ola'],
    ['\\XC3A9\\', 'é'],
    ['line1\\.br\\line2', 'line1\nline2'],
    ['\\H\\bold\\N\\ end', 'bold end'],
    ['\\Zlocal\\', '\\Zlocal\\'],
    ['trailing \\', 'trailing \\'],
    ['""', ''],
    ['a""b', 'a""b'],
  ])('decodes %s as %j', (raw, decoded) => {
    expect(unescapeValue(raw, DEFAULT_DELIMITERS)).toBe(decoded);
  });

  it("decodes escapes to the message's own delimiters, not hard-coded ones", () => {
    const m = parsed('MSH$%~\\#$A$B\rPID$$$X\\S\\Y%Z#W$\\F\\\r');
    const pid = m.segments[1];
    expect(valueAt(pid, 3)).toBe('X%Y');
    expect(valueAt(pid, 3, 2, 2)).toBe('W');
    expect(valueAt(pid, 4)).toBe('$');
    expect(valueAt(m.segments[0], 3)).toBe('A');
  });

  it('decodes \\X..\\ as ISO-8859-1 when MSH-18 says so', () => {
    const m = parsed('MSH|^~\\&|||||||||||||||||8859/1\rNTE|||caf\\XE9\\\r');
    expect(valueAt(m.segments[1], 3)).toBe('café');
  });

  it('splits on CR only when the message has one, so an LF inside NTE text stays data', () => {
    expect(splitSegments('MSH|^~\\&\rNTE|||two\nlines\r')).toEqual(['MSH|^~\\&', 'NTE|||two\nlines']);
    expect(splitSegments('MSH|^~\\&\nPID|1\n\n')).toEqual(['MSH|^~\\&', 'PID|1']);
  });

  it('strips MLLP framing', () => {
    expect(stripMllp('\u000bMSH|^~\\&\r\u001c\r')).toBe('MSH|^~\\&\r');
  });

  it.each([
    ['', 'MSH'],
    ['PID|1', 'MSH'],
    ['MSH|^~', 'MSH-2'],
    ['MSH|^^\\&|', 'MSH-2'],
    ['MSHa^~\\&|', 'MSH-2'],
  ])('refuses %j, naming %s', (text, location) => {
    const r = parseEr7(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems[0]?.location).toBe(location);
  });

  it('refuses a line that is not a segment, naming its position', () => {
    const r = parseEr7('MSH|^~\\&|A\rhello world\r');
    expect(r).toEqual({ ok: false, problems: [{ location: 'segment 2', message: expect.stringMatching(/not a segment/) }] });
  });
});
