import { describe, expect, it } from 'vitest';
import { ehrEvent } from '../../test/fixtures/events';
import { languageFromCode, parseEhrEvent } from './event';

const opts = { defaultCountry: 'US' as const };

describe('parseEhrEvent', () => {
  it('normalises phones to E.164, the zone to its canonical name and the time to UTC', () => {
    const r = parseEhrEvent(ehrEvent({ appointment_timezone: 'america/los_angeles' }), opts);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.event.patient_phone).toBe('+14155550134');
    expect(r.event.provider_callback_phone).toBe('+14155550100');
    expect(r.event.appointment_timezone).toBe('America/Los_Angeles');
    expect(r.event.appointment_datetime).toBe('2026-12-01T09:30:00');
    expect(r.event.appointment_datetime_utc).toBe('2026-12-01T17:30:00.000Z');
    expect(r.event.event_datetime_utc).toBe('2026-11-25T08:00:00.000Z');
  });

  it('keeps names and locations byte for byte', () => {
    const r = parseEhrEvent(ehrEvent(), opts);
    expect(r.ok && r.event.appointment_location).toBe('Suite 100, O\'Brien Bldg, "East" Wing = 2nd floor');
    expect(r.ok && r.event.patient_last_name).toBe("O'Connor-Nuñez");
    expect(r.ok && r.event.provider_last_name).toBe('Lopez, MD');
  });

  it('uses the configured default country for national numbers', () => {
    const r = parseEhrEvent(ehrEvent({ patient_phone: '0412 345 678' }), { defaultCountry: 'AU' });
    expect(r.ok && r.event.patient_phone).toBe('+61412345678');
  });

  it('gives the same event the same id, and different content a different one', () => {
    const a = parseEhrEvent(ehrEvent(), opts);
    const b = parseEhrEvent(ehrEvent({ unknown_extra: 'ignored' } as never), opts);
    const c = parseEhrEvent(ehrEvent({ appointment_location: 'Room 2' }), opts);
    expect(a.ok && b.ok && a.event.event_id === b.event.event_id).toBe(true);
    expect(a.ok && c.ok && a.event.event_id !== c.event.event_id).toBe(true);
  });

  it('reports every problem at once, by field', () => {
    const r = parseEhrEvent(
      ehrEvent({ event_type: 'BOOK', patient_phone: '12', appointment_timezone: 'PST', patient_id: 7, appointment_id: undefined }),
      opts,
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const fields = r.problems.map((p) => p.field).sort();
    expect(fields).toEqual(['appointment_id', 'appointment_timezone', 'event_type', 'patient_id', 'patient_phone']);
    expect(r.problems.find((p) => p.field === 'patient_id')?.message).toBe('must be a string');
    expect(r.problems.find((p) => p.field === 'appointment_id')?.message).toBe('is required');
  });

  it('never echoes the phone number in its error', () => {
    const r = parseEhrEvent(ehrEvent({ patient_phone: '555 010 999' }), opts);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(JSON.stringify(r.problems)).not.toContain('555 010 999');
  });

  it('rejects control characters but accepts any printable character', () => {
    expect(parseEhrEvent(ehrEvent({ patient_first_name: 'Ann\nBob' }), opts).ok).toBe(false);
    expect(parseEhrEvent(ehrEvent({ patient_first_name: 'Zoë 🌷 = "x", y' }), opts).ok).toBe(true);
  });

  it('limits ids to 128 bytes of UTF-8', () => {
    expect(parseEhrEvent(ehrEvent({ appointment_id: 'é'.repeat(64) }), opts).ok).toBe(true);
    expect(parseEhrEvent(ehrEvent({ appointment_id: 'é'.repeat(65) }), opts).ok).toBe(false);
  });

  it('keeps patient_language as a canonical BCP 47 tag, leaves it out when absent or blank, and refuses a malformed one', () => {
    const es = parseEhrEvent(ehrEvent({ patient_language: 'ES-mx' }), opts);
    expect(es.ok && es.event.patient_language).toBe('es-MX');
    const none = parseEhrEvent(ehrEvent({}), opts);
    expect(none.ok && 'patient_language' in none.event).toBe(false);
    const blank = parseEhrEvent(ehrEvent({ patient_language: ' ' }), opts);
    expect(blank.ok && 'patient_language' in blank.event).toBe(false);
    for (const bad of ['en_US', 'spanish!', '12', 7]) {
      const r = parseEhrEvent(ehrEvent({ patient_language: bad }), opts);
      expect(!r.ok && r.problems.map((p) => p.field), String(bad)).toEqual(['patient_language']);
    }
  });

  it('refuses a non-object', () => {
    expect(parseEhrEvent([1], opts)).toEqual({ ok: false, problems: [{ field: '', message: 'each event must be a JSON object' }] });
  });
});

describe('languageFromCode (HL7 PID-15, FHIR Patient.communication)', () => {
  it.each([
    ['SPA', 'es'],
    ['spa', 'es'],
    ['ENG', 'en'],
    ['es-MX', 'es-MX'],
    ['EN-us', 'en-US'],
    ['sp', 'es'],
    ['', undefined],
    ['not a language!', undefined],
    [undefined, undefined],
  ])('%s → %s', (code, tag) => {
    expect(languageFromCode(code)).toBe(tag);
  });
});
