import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { EHR_TITLES, PATIENT_TITLES } from '../src/admin/timeline';
import { DISPOSITIONS } from '../src/domain/appointment';
import {
  EHR_EVENT_TYPES,
  EVENT_TYPES,
  FLOW_EVENT_TYPES,
  PATIENT_EVENT_TYPES,
  type EhrEventType,
  type EventType,
  type PatientEventType,
} from '../src/domain/event';
import { statusAfterEhrEvent } from '../src/domain/event-log';
import { ASKING_KINDS } from '../src/domain/figures';
import { EVENT_FIGURES } from '../src/domain/filing';
import { decideSiu, SIU_TRIGGERS_OF } from '../src/domain/hl7/siu-policy';
import {
  ACTIVE_STATUSES,
  BASE_STATUSES,
  CLOSED_STATUSES,
  isActive,
  isClosed,
  isRemindable,
  REMINDABLE_STATUSES,
  type StatusName,
} from '../src/domain/statuses';
import type { MappedAppointment } from '../src/fhir/appointment';
import { RECORDED_STATUSES } from '../src/fhir/appointment';
import { decideEventType, FHIR_STATUSES_OF, type StoredView } from '../src/fhir/event-type';
import { APPOINTMENT_STATUSES, PARTICIPANT_STATUSES } from '../src/fhir/resources';

/**
 * Adding an event type or a status must be a compile error wherever behaviour depends on it. The
 * compiler checks the tables' types; this file checks the same at run time (a cast can defeat the
 * compiler) and holds the HL7 and FHIR coverage tables to what their decisions really do.
 */

const sorted = (xs: readonly string[]) => [...xs].sort();

describe('every per-type table has an entry for every type, and no other', () => {
  const tables: [string, Record<string, unknown>, readonly string[]][] = [
    ['EHR_TITLES', EHR_TITLES, EHR_EVENT_TYPES],
    ['PATIENT_TITLES', PATIENT_TITLES, PATIENT_EVENT_TYPES],
    ['ASKING_KINDS', ASKING_KINDS, FLOW_EVENT_TYPES],
    ['EVENT_FIGURES', EVENT_FIGURES, EVENT_TYPES],
    ['SIU_TRIGGERS_OF', SIU_TRIGGERS_OF, EHR_EVENT_TYPES],
    ['FHIR_STATUSES_OF', FHIR_STATUSES_OF, EHR_EVENT_TYPES],
  ];
  it.each(tables)('%s', (_name, table, types) => {
    expect(sorted(Object.keys(table))).toEqual(sorted(types));
    for (const t of types) expect(table[t], t).not.toBeUndefined();
  });

  it('gives every EHR event type a status, whatever came before', () => {
    for (const t of EHR_EVENT_TYPES)
      for (const previous of [undefined, ...BASE_STATUSES])
        for (const timeChanged of [false, true]) expect(BASE_STATUSES).toContain(statusAfterEhrEvent(t, previous, timeChanged));
  });

  it('types the tables as total: a table missing a type does not take their place', () => {
    expectTypeOf(EHR_TITLES).toEqualTypeOf<Record<EhrEventType, string>>();
    expectTypeOf(PATIENT_TITLES).toEqualTypeOf<Record<PatientEventType, string>>();
    expectTypeOf(EVENT_FIGURES).toExtend<Record<EventType, unknown>>();
    expectTypeOf(ASKING_KINDS).toExtend<Record<(typeof FLOW_EVENT_TYPES)[number], boolean>>();
    expectTypeOf(SIU_TRIGGERS_OF).toExtend<Record<EhrEventType, readonly string[]>>();
    expectTypeOf(FHIR_STATUSES_OF).toExtend<Record<EhrEventType, readonly string[]>>();
    const partial: Partial<Record<EhrEventType, string>> = { BOOKED: 'Booked' };
    // @ts-expect-error a Partial table is not a table of every type; if EHR_TITLES were Partial this line would compile
    const titles: typeof EHR_TITLES = partial;
    expect(titles).toBe(partial);
  });
});

describe('status groups', () => {
  it('places every status in exactly one of active and closed, with remindable a part of active', () => {
    expect(sorted([...ACTIVE_STATUSES, ...CLOSED_STATUSES])).toEqual(sorted(BASE_STATUSES));
    expect(new Set([...ACTIVE_STATUSES, ...CLOSED_STATUSES]).size).toBe(BASE_STATUSES.length);
    for (const s of REMINDABLE_STATUSES) expect(ACTIVE_STATUSES).toContain(s);
    expectTypeOf<Exclude<StatusName, (typeof ACTIVE_STATUSES)[number] | (typeof CLOSED_STATUSES)[number]>>().toBeNever();
  });

  it('guards agree with the lists for every string, dispositions included', () => {
    const candidate = fc.oneof(fc.constantFrom<string>(...DISPOSITIONS, 'WAITING', 'queued', 'QUEUED '), fc.string());
    fc.assert(
      fc.property(candidate, (s) => {
        expect(isRemindable(s)).toBe((REMINDABLE_STATUSES as readonly string[]).includes(s));
        expect(isActive(s)).toBe((ACTIVE_STATUSES as readonly string[]).includes(s));
        expect(isClosed(s)).toBe((CLOSED_STATUSES as readonly string[]).includes(s));
      }),
    );
    expect(isRemindable('OPTED-OUT') || isActive('OPTED-OUT') || isClosed('OPTED-OUT')).toBe(false);
  });
});

function* product<T extends unknown[]>(...lists: { [K in keyof T]: readonly T[K][] }): Generator<T> {
  if (lists.length === 0) {
    yield [] as unknown as T;
    return;
  }
  const [first, ...rest] = lists;
  for (const x of first as readonly unknown[]) for (const tail of product(...rest)) yield [x, ...tail] as T;
}

describe('SIU_TRIGGERS_OF says exactly which triggers decideSiu turns into each event type', () => {
  const triggers = ['', ...Array.from({ length: 20 }, (_, i) => `S${10 + i}`)];
  const statuses = ['', 'Booked', 'Pending', 'Cancelled', 'Deleted', 'Noshow', 'Arrived', 'Complete', 'Confirmed'];
  const produced = new Map<string, Set<string>>();
  for (const [trigger, status, confirmed, startInPast, resourceActions] of product<
    [string, string, string[], boolean | undefined, string[]]
  >(triggers, statuses, [[], ['Confirmed']], [undefined, false, true], [[], ['U'], ['X']])) {
    const d = decideSiu({ messageType: 'SIU', trigger, status, startInPast, resourceActions }, { confirmedStatuses: confirmed });
    if (d.kind === 'event') produced.set(d.eventType, (produced.get(d.eventType) ?? new Set()).add(trigger));
  }
  it.each(EHR_EVENT_TYPES)('%s', (type) => {
    expect(sorted([...(produced.get(type) ?? [])])).toEqual(sorted(SIU_TRIGGERS_OF[type]));
  });
});

describe('FHIR_STATUSES_OF says exactly which R4 statuses decideEventType turns into each event type', () => {
  const starts = [undefined, '2026-03-02T17:00:00.000Z', '2026-03-03T17:00:00.000Z'];
  const previous = [undefined, ...PARTICIPANT_STATUSES];
  const stored: (StoredView | null)[] = [null];
  for (const [status, requested, before] of product<[StatusName, boolean, (typeof previous)[number]]>(
    BASE_STATUSES,
    [false, true],
    previous,
  )) {
    stored.push({
      status,
      appointment_datetime_utc: '2026-03-02T17:00:00.000Z',
      patient_requested_confirm: requested,
      ...(before ? { previous_patient_status: before } : {}),
    });
  }
  const produced = new Map<string, Set<string>>();
  for (const [status, patientStatus, startUtc, view] of product<
    [MappedAppointment['status'], MappedAppointment['patientStatus'], string | undefined, StoredView | null]
  >(APPOINTMENT_STATUSES, PARTICIPANT_STATUSES, starts, stored)) {
    const m = { status, patientStatus, fields: {} as MappedAppointment['fields'], ...(startUtc ? { startUtc } : {}) };
    const d = decideEventType(m, view);
    if ('type' in d) produced.set(d.type, (produced.get(d.type) ?? new Set()).add(status));
  }
  it.each(EHR_EVENT_TYPES)('%s', (type) => {
    expect(sorted([...(produced.get(type) ?? [])])).toEqual(sorted(FHIR_STATUSES_OF[type]));
  });

  it('records exactly the statuses that can say some event type', () => {
    expect(sorted(RECORDED_STATUSES)).toEqual(
      sorted([...produced.values()].flatMap((s) => [...s]).filter((s, i, a) => a.indexOf(s) === i)),
    );
  });
});
