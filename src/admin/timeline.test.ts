import { describe, expect, it } from 'vitest';
import { applyEvent, type AppointmentState } from '../domain/appointment';
import { parseEhrEvent, type AppointmentEvent } from '../domain/event';
import { MemoryAppointmentStore } from '../storage/memory-appointment-store';
import { appointmentTimeline, factChanges, formatInZone } from './timeline';

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
      {
        field: 'appointment_datetime_utc',
        label: 'appointment time',
        from: 'Tue, Dec 1 at 9:30:00 AM EST',
        to: 'Wed, Dec 2 at 2:00:00 PM EST',
      },
      { field: 'appointment_location', label: 'location', from: 'North', to: 'South' },
    ]);
  });

  it('is empty when nothing the patient sees changed', () => {
    expect(factChanges(event({}), event({ event_type: 'CONFIRMED', event_datetime_utc: '2026-11-21T10:00:00Z' }))).toEqual([]);
  });
});

describe('appointmentTimeline on the in-memory store', () => {
  const policy = { firstLeadMinutes: 2880, secondLeadMinutes: 1440, outreachStartMinutes: 480, outreachFinishMinutes: 1260 };

  it('lists EHR changes, a pending EHR request, a text known only by its receipts, a recorded skip and the undeliverable number', async () => {
    const store = new MemoryAppointmentStore();
    const booked = event({});
    const moved = event({
      event_type: 'RESCHEDULED',
      event_datetime_utc: '2026-11-21T10:00:00Z',
      appointment_datetime: '2026-12-02T14:00:00',
    });
    const asked: AppointmentEvent = {
      ...moved,
      event_type: 'CANCEL',
      event_id: 'cancel-1',
      event_datetime_utc: '2026-11-22T10:00:00Z',
      detail: { message_sid: 'SMreply' },
    };
    let state = null as AppointmentState | null;
    for (const e of [booked, moved, asked]) {
      await store.appendHistory({ event: e, received_at: e.event_datetime_utc });
      const o = applyEvent(state, e, e.event_datetime_utc);
      if (o.kind === 'applied') state = o.state;
    }
    if (!state) throw new Error('fixture');
    state = {
      ...state,
      reminders_skipped: [
        { n: 1, reason: 'lead-time-passed-at-booking', at: '2026-11-21T10:00:01.000Z', schedule_version: state.schedule_version },
      ],
      undeliverable: { phone: '+14155550100', error_code: '30006', at: '2026-11-22T11:00:00.000Z', message_sid: 'SMfailed' },
    };
    await store.putOutbox({
      kind: 'ehr',
      id: 'cancel-1',
      created_at: '2026-11-22T10:00:00Z',
      attempts: 2,
      last_error: 'HTTP 503',
      next_attempt_at: '2026-11-22T10:05:00.000Z',
      payload: {},
    });
    await store.putDeliveryReceipt('A-1', { message_sid: 'SMold', status: 'delivered', at: '2026-11-20T10:00:05.000Z' });

    const { zone, timeline } = await appointmentTimeline(
      { store, policy, now: () => new Date('2026-11-23T00:00:00Z') },
      'A-1',
      state,
      await store.listHistory('A-1'),
      await store.listDeliveryReceipts('A-1'),
    );
    expect(zone).toEqual({ name: 'America/New_York', source: 'appointment' });
    const titles = timeline.map((e) => e.title);
    expect(titles).toEqual([
      'Booked in the EHR',
      'Text sent to the patient (words no longer in the message log)',
      'Rescheduled in the EHR',
      'Reminder 1 skipped',
      'Patient asked to cancel',
      'Cancel request sent to the EHR',
      "Twilio says the patient's number cannot receive texts",
      'No more reminders',
    ]);
    expect(timeline[2]?.changes?.map((c) => c.field)).toEqual(['appointment_datetime_utc']);
    expect(timeline[3]?.detail).toBe('its lead time had passed when the appointment was booked');
    expect(timeline[5]?.detail).toBe('Not delivered yet: 2 attempts, next Sun, Nov 22 at 5:05:00 AM EST (last error: HTTP 503)');
    expect(timeline[1]).toMatchObject({ status: 'delivered', ref: { label: 'Text 1', id: 'SMold' } });
    for (const e of timeline) expect(e.at_local).toMatch(/ EST$/);
  });
});
