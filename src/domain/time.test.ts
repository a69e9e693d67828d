import { describe, expect, it } from 'vitest';
import { parseAppointmentZone, parseInstant, resolveAppointmentTime } from './time';

function zone(name: string) {
  const z = parseAppointmentZone(name);
  if (!z.ok) throw new Error(z.reason);
  return z.value;
}

describe('parseAppointmentZone', () => {
  it.each([
    ['America/New_York', 'America/New_York', 'iana'],
    ['america/new_york', 'America/New_York', 'iana'],
    ['US/Pacific', 'America/Los_Angeles', 'iana'],
    ['Pacific/Honolulu', 'Pacific/Honolulu', 'iana'],
    ['UTC', 'UTC', 'iana'],
    ['-0700', '-07:00', 'fixed-offset'],
    ['+0530', '+05:30', 'fixed-offset'],
    ['-07:00', '-07:00', 'fixed-offset'],
  ])('accepts %s as %s (%s)', (input, name, kind) => {
    const z = zone(input);
    expect(z.name).toBe(name);
    expect(z.kind).toBe(kind);
  });

  it.each([
    ['EST', /ambiguous abbreviation/],
    ['PST', /ambiguous abbreviation/],
    ['Mars/Olympus', /not a known IANA time zone/],
    ['', /empty/],
    ['+2500', /out of range/],
    ['-0760', /out of range/],
  ])('rejects %j', (input, reason) => {
    const z = parseAppointmentZone(input);
    expect(z.ok).toBe(false);
    if (!z.ok) expect(z.reason).toMatch(reason);
  });
});

describe('resolveAppointmentTime', () => {
  it.each([
    ['2026-12-01T09:30:00', 'America/Los_Angeles', '2026-12-01T17:30:00.000Z'],
    ['2026-12-01T09:30', 'America/Los_Angeles', '2026-12-01T17:30:00.000Z'],
    ['2026-07-01T09:30:00', 'America/New_York', '2026-07-01T13:30:00.000Z'],
    ['2026-07-01T09:30:00', 'America/Phoenix', '2026-07-01T16:30:00.000Z'],
    ['2026-07-01T09:30:00', 'Pacific/Honolulu', '2026-07-01T19:30:00.000Z'],
    ['2026-07-01T09:30:00', '-0700', '2026-07-01T16:30:00.000Z'],
    // An explicit instant is never shifted again by the zone (the reference app did that twice).
    ['2026-07-01T16:30:00Z', '-0700', '2026-07-01T16:30:00.000Z'],
    ['2026-07-01T09:30:00-07:00', 'America/New_York', '2026-07-01T16:30:00.000Z'],
    // Just after the spring-forward gap and just after the fall-back overlap are unambiguous.
    ['2026-03-08T03:00:00', 'America/New_York', '2026-03-08T07:00:00.000Z'],
    ['2026-11-01T02:00:00', 'America/New_York', '2026-11-01T07:00:00.000Z'],
  ])('%s in %s is %s', (input, zoneName, utc) => {
    const r = resolveAppointmentTime(input, zone(zoneName));
    expect(r.ok && r.value.toISO()).toBe(utc);
  });

  it('refuses a local time skipped by the spring-forward change', () => {
    const r = resolveAppointmentTime('2026-03-08T02:30:00', zone('America/New_York'));
    expect(r).toEqual({ ok: false, reason: expect.stringMatching(/does not exist .* daylight saving/) });
  });

  it('refuses a local time repeated by the fall-back change and suggests both offsets', () => {
    const r = resolveAppointmentTime('2026-11-01T01:30:00', zone('America/New_York'));
    expect(r).toEqual({ ok: false, reason: expect.stringMatching(/ambiguous.*-04:00 or -05:00|ambiguous.*-05:00 or -04:00/) });
  });

  it('accepts the repeated hour once the offset says which one', () => {
    const r = resolveAppointmentTime('2026-11-01T01:30:00-05:00', zone('America/New_York'));
    expect(r.ok && r.value.toISO()).toBe('2026-11-01T06:30:00.000Z');
  });

  it.each(['2026-02-30T09:00:00', '2026-13-01T09:00:00', '2026-12-01T24:30:00', 'tomorrow at 9', '12/01/2026 09:30', ''])(
    'refuses %j',
    (input) => {
      expect(resolveAppointmentTime(input, zone('America/Chicago')).ok).toBe(false);
    },
  );
});

describe('parseInstant', () => {
  it('requires an explicit offset', () => {
    expect(parseInstant('2026-11-25T08:00:00').ok).toBe(false);
    const r = parseInstant('2026-11-25T03:00:00-05:00');
    expect(r.ok && r.value.toISO()).toBe('2026-11-25T08:00:00.000Z');
  });
});
