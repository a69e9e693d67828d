import { describe, expect, it } from 'vitest';
import { ehrEvent } from '../../test/fixtures/events';
import { applyEvent, type AppointmentState } from './appointment';
import { parseEhrEvent, type AppointmentEvent } from './event';
import { planText } from './text-outbox';

const NOW = '2026-11-25T12:00:00.000Z';

function ehr(type: string, minute: number, overrides: Record<string, unknown> = {}): AppointmentEvent {
  const r = parseEhrEvent(
    ehrEvent({ event_type: type, event_datetime_utc: new Date(Date.UTC(2026, 10, 25, 8, minute)).toISOString(), ...overrides }),
    { defaultCountry: 'US' },
  );
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.event;
}

/** Records `e` and what its text became, then marks a claimed text as told (as the dispatcher would). */
function deliver(state: AppointmentState | null, e: AppointmentEvent): { state: AppointmentState; plan: string | undefined } {
  const applied = applyEvent(state, e, NOW).state as AppointmentState;
  const { state: planned, plan } = planText(applied, e, 'owner', NOW);
  const sending = planned.outbox?.sending;
  if (!sending) return { state: planned, plan };
  const { outbox: _o, ...rest } = planned;
  return {
    state: { ...rest, told: { kind: sending.kind, digest: sending.digest, id: sending.id, at: NOW } },
    plan: `${plan}:${sending.kind}`,
  };
}

describe('texts describe the state, whatever order the events come in', () => {
  it('CANCELED(t7), MODIFIED(t9), BOOKED(t8): canceled, nothing for the change, then booked again', () => {
    const a = deliver(null, ehr('CANCELED', 7));
    expect(a.plan).toBe('claimed:CANCELED');
    const b = deliver(a.state, ehr('MODIFIED', 9, { appointment_location: 'Room 2' }));
    expect(b.plan).toBe('superseded');
    const c = deliver(b.state, ehr('BOOKED', 8));
    expect(c.state.disposition).toBe('QUEUED');
    expect(c.plan).toBe('claimed:BOOKED');
  });

  it('a late event that changes nothing the patient knows is superseded', () => {
    const a = deliver(null, ehr('BOOKED', 5));
    expect(deliver(a.state, ehr('MODIFIED', 1)).plan).toBe('superseded');
  });

  it('a second change while a text is in flight waits behind it and covers the one it replaces', () => {
    const booked = applyEvent(null, ehr('BOOKED', 1), NOW).state as AppointmentState;
    const first = planText(booked, ehr('BOOKED', 1), 'a', NOW).state;
    const m1 = ehr('MODIFIED', 2, { appointment_location: 'Room 7' });
    const second = planText(applyEvent(first, m1, NOW).state as AppointmentState, m1, 'b', NOW);
    expect(second.plan).toBe('queued');
    const m2 = ehr('MODIFIED', 3, { appointment_location: 'Room 8' });
    const third = planText(applyEvent(second.state, m2, NOW).state as AppointmentState, m2, 'c', NOW);
    expect(third.state.outbox?.sending?.owner).toBe('a');
    expect(third.state.outbox?.pending?.covers).toEqual([m1.event_id, m2.event_id]);
  });

  it('refuses to text an opted-out patient or about a time already past', () => {
    const past = deliver(null, ehr('BOOKED', 1, { appointment_datetime: '2026-11-20T09:00:00' }));
    expect(past.plan).toBe('refused:past');
    const e = ehr('BOOKED', 2);
    const optedOut = { ...(applyEvent(null, e, NOW).state as AppointmentState), opted_out: true };
    expect(planText(optedOut, e, 'owner', NOW).plan).toBe('refused:opted-out');
  });

  it('texts a cancellation or no-show on the day, not about an appointment long gone', () => {
    // NOW is 2026-11-25T12:00Z: the no-show was last night, the cancellation five days ago.
    const recent = deliver(null, ehr('NOSHOWED', 1, { appointment_datetime: '2026-11-24T20:00:00' }));
    expect(recent.plan).toBe('claimed:NOSHOWED');
    const old = deliver(null, ehr('CANCELED', 2, { appointment_datetime: '2026-11-20T09:00:00' }));
    expect(old.plan).toBe('refused:past');
  });
});
