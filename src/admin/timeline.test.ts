import { describe, expect, it } from 'vitest';
import { parseEhrEvent, type AppointmentEvent } from '../domain/event';
import { factChanges, formatInZone } from './timeline';

function event(overrides: Record<string, unknown>): AppointmentEvent {
  const parsed = parseEhrEvent(
    {
      event_type: 'BOOKED',
      event_datetime_utc: '2026-11-20T10:00:00Z',
      appointment_id: 'A-1',
      appointment_datetime: '2026-12-01T09:30:00',
      appointment_timezone: 'America/New_York',
      patient_id: 'P-1',
      patient_first_name: 'Ana',
      patient_phone: '+14155550100',
      appointment_location: 'North',
      ...overrides,
    },
    { defaultCountry: 'US' },
  );
  if (!parsed.ok) throw new Error('fixture');
  return parsed.event;
}

describe('formatInZone', () => {
  it.each([
    ['2026-07-01T16:30:05Z', 'America/New_York', 'Wed, Jul 1 at 12:30:05 PM EDT'],
    ['2026-12-01T16:30:05Z', 'America/New_York', 'Tue, Dec 1 at 11:30:05 AM EST'],
    ['2026-07-01T16:30:05Z', 'America/Phoenix', 'Wed, Jul 1 at 9:30:05 AM MST'],
    ['2026-07-01T16:30:05Z', 'Pacific/Honolulu', 'Wed, Jul 1 at 6:30:05 AM HST'],
    ['2026-07-01T16:30:05Z', 'Asia/Kolkata', 'Wed, Jul 1 at 10:00:05 PM UTC+5:30'],
  ])('writes %s in %s with the zone named', (iso, zone, expected) => {
    expect(formatInZone(iso, zone)).toBe(expected);
  });
});

describe('factChanges', () => {
  it('names each field that differs, with the appointment time in its own zone', () => {
    const before = event({});
    const after = event({ event_type: 'RESCHEDULED', appointment_datetime: '2026-12-02T14:00:00', appointment_location: 'South' });
    expect(factChanges(before, after)).toEqual([
      { field: 'appointment_datetime_utc', label: 'appointment time', from: 'Tue, Dec 1 at 9:30:00 AM EST', to: 'Wed, Dec 2 at 2:00:00 PM EST' },
      { field: 'appointment_location', label: 'location', from: 'North', to: 'South' },
    ]);
  });

  it('is empty when nothing the patient sees changed', () => {
    expect(factChanges(event({}), event({ event_type: 'CONFIRMED', event_datetime_utc: '2026-11-21T10:00:00Z' }))).toEqual([]);
  });
});
