import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseEhrEvent } from '../domain/event';
import { decodeSegment, encodeSegment, IllFormedKeyError, stateKey } from './keys';

// Text as the outside world can send it: whole code points, arbitrary UTF-16 units (lone and
// reversed surrogates included) and strings built mostly from surrogate halves.
const utf16Unit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
const surrogateHeavy = fc.constantFrom('a', '7', '-', '\ud800', '\udbff', '\udc00', '\udfff', '😀', '\ufffd');
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: utf16Unit, maxLength: 40 }),
  fc.string({ unit: surrogateHeavy, maxLength: 12 }),
);
const wellFormed = anyText.filter((s) => s.isWellFormed());
const illFormed = anyText.filter((s) => !s.isWellFormed());
/** A string and a copy with one UTF-16 unit changed: the near-misses that collided before. */
const nearPair = fc.tuple(fc.string({ unit: surrogateHeavy, minLength: 1, maxLength: 12 }), fc.nat(), utf16Unit).map(([s, i, unit]) => {
  const at = i % s.length;
  return [s, s.slice(0, at) + unit + s.slice(at + 1)] as const;
});

describe('id → key segment encoding', () => {
  it('is one-to-one on well-formed text and round-trips', () => {
    fc.assert(
      fc.property(wellFormed, wellFormed, (a, b) => {
        expect(decodeSegment(encodeSegment(a))).toBe(a);
        expect(encodeSegment(a)).toMatch(/^[A-Za-z0-9_-]*$/);
        if (a !== b) expect(encodeSegment(a)).not.toBe(encodeSegment(b));
      }),
      { numRuns: 2000 },
    );
  });

  it('gives strings one unit apart different keys, or refuses the ill-formed one', () => {
    fc.assert(
      fc.property(nearPair, ([a, b]) => {
        const key = (s: string) => (s.isWellFormed() ? stateKey(s) : undefined);
        if (a !== b && key(a) !== undefined && key(b) !== undefined) expect(key(a)).not.toBe(key(b));
      }),
      { numRuns: 2000 },
    );
  });

  it('throws on ill-formed text instead of mapping it onto U+FFFD', () => {
    fc.assert(fc.property(illFormed, (s) => void expect(() => encodeSegment(s)).toThrow(IllFormedKeyError)));
    expect(() => stateKey('MRN-7\ud800')).toThrow(IllFormedKeyError);
    expect(() => stateKey('MRN-7\udbff')).toThrow(IllFormedKeyError);
  });

  it('is never reached by an ill-formed id: the event schema refuses it, naming the field', () => {
    const base = {
      event_type: 'BOOKED',
      event_datetime_utc: '2026-11-25T08:00:00Z',
      patient_id: 'PAT-1',
      patient_first_name: 'Zoë',
      patient_phone: '+14155550134',
      appointment_id: 'APT-1',
      appointment_timezone: 'America/Los_Angeles',
      appointment_datetime: '2026-12-01T09:30:00',
    };
    let accepted = 0;
    fc.assert(
      fc.property(anyText, fc.constantFrom('appointment_id', 'patient_id', 'provider_id'), (s, field) => {
        const parsed = parseEhrEvent({ ...base, [field]: s }, { defaultCountry: 'US' });
        if (parsed.ok) accepted += 1;
        if (!s.isWellFormed()) {
          expect(parsed.ok).toBe(false);
          if (!parsed.ok) expect(parsed.problems.map((p) => p.field)).toContain(field);
        }
        if (parsed.ok) expect(() => stateKey(parsed.event.appointment_id)).not.toThrow();
      }),
      { numRuns: 1500 },
    );
    // The key check above ran on accepted ids, not only on refusals.
    expect(accepted).toBeGreaterThan(0);
  });
});
