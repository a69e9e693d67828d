import { describe, expect, it } from 'vitest';
import { parseAppointmentQuery, rangeInstants } from './appointment-list';

const parsed = (params: Record<string, string>) => {
  const r = parseAppointmentQuery(params);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.query;
};

describe('rangeInstants: day ranges in the clinic zone', () => {
  it.each([
    // A plain day in Los Angeles: 24 hours from local midnight.
    ['today', '2026-11-25T16:00:00Z', 'America/Los_Angeles', '2026-11-25T08:00:00.000Z', '2026-11-26T08:00:00.000Z'],
    // 23:30 in Los Angeles is already tomorrow in UTC: "today" is still the local day.
    ['today', '2026-11-26T07:30:00Z', 'America/Los_Angeles', '2026-11-25T08:00:00.000Z', '2026-11-26T08:00:00.000Z'],
    // The day clocks fall back in New York has 25 hours.
    ['today', '2026-11-01T12:00:00Z', 'America/New_York', '2026-11-01T04:00:00.000Z', '2026-11-02T05:00:00.000Z'],
    // The day they spring forward has 23.
    ['tomorrow', '2026-03-07T12:00:00Z', 'America/New_York', '2026-03-08T05:00:00.000Z', '2026-03-09T04:00:00.000Z'],
    // Phoenix keeps standard time all year; Honolulu too.
    ['week', '2026-07-01T12:00:00Z', 'America/Phoenix', '2026-07-01T07:00:00.000Z', '2026-07-08T07:00:00.000Z'],
    ['tomorrow', '2026-07-01T12:00:00Z', 'Pacific/Honolulu', '2026-07-02T10:00:00.000Z', '2026-07-03T10:00:00.000Z'],
  ])('%s at %s in %s is [%s, %s)', (range, now, zone, from, to) => {
    expect(rangeInstants(parsed({ range }), zone, new Date(now))).toEqual({ from, to });
  });

  it('reads a custom range as whole local days, the last one included', () => {
    expect(rangeInstants(parsed({ from: '2026-12-01', to: '2026-12-02' }), 'America/New_York', new Date('2026-11-25T12:00:00Z'))).toEqual({
      from: '2026-12-01T05:00:00.000Z',
      to: '2026-12-03T05:00:00.000Z',
    });
  });
});

describe('parseAppointmentQuery', () => {
  it('takes empty parameters as absent and splits dispositions', () => {
    expect(parsed({ q: '  ana ', range: '', disposition: 'QUEUED,CONFIRMED', limit: '10' })).toEqual({
      q: 'ana',
      disposition: ['QUEUED', 'CONFIRMED'],
      limit: 10,
    });
  });

  it.each([
    [{ limit: '101' }, 'limit'],
    [{ disposition: 'QUEUED,LATE' }, 'disposition'],
    [{ from: '2026-02-30' }, 'from'],
    [{ range: 'today', from: '2026-12-01' }, 'range'],
    [{ cursor: 'i.abc/def' }, 'cursor'],
    [{ q: 'x'.repeat(101) }, 'q'],
  ])('refuses %j naming %s', (params, field) => {
    const r = parseAppointmentQuery(params);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.map((p) => p.field)).toContain(field);
  });
});
