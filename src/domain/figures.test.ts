import { describe, expect, it } from 'vitest';
import { checkPeriod, confirmationRate, daysBetween, figureDay, totalCounts, zeroCounts } from './figures';

describe('figures', () => {
  it.each([
    ['2026-11-26T03:00:00Z', 'America/Los_Angeles', '2026-11-25'],
    ['2026-11-26T03:00:00Z', undefined, '2026-11-26'],
    ['2026-11-25T20:00:00Z', 'Pacific/Kiritimati', '2026-11-26'],
    ['2026-11-25T20:00:00Z', '+0530', '2026-11-26'],
    ['2026-03-08T07:30:00Z', 'America/New_York', '2026-03-08'],
    ['2026-11-26T03:00:00Z', 'Not/AZone', '2026-11-26'],
  ])('files %s in %s on %s', (at, zone, day) => {
    expect(figureDay(at, zone)).toBe(day);
  });

  it('lists every day of a period, month ends included', () => {
    expect(daysBetween('2026-02-27', '2026-03-02')).toEqual(['2026-02-27', '2026-02-28', '2026-03-01', '2026-03-02']);
  });

  it.each([
    ['2026-11-01', '2026-11-30', undefined],
    ['2026-11-31', '2026-12-01', 'from'],
    ['2026-11-01', 'yesterday', 'to'],
    ['2026-12-01', '2026-11-01', 'from'],
    ['2026-01-01', '2026-12-31', 'from'],
  ])('checks the period %s..%s (problem with %s)', (from, to, field) => {
    expect(checkPeriod(from, to)?.field).toBe(field);
  });

  it('rates confirmations over the texts that asked, and has no rate when none asked', () => {
    const a = { ...zeroCounts(), confirmation_asks: 3, confirmed_by_text: 1 };
    const b = { ...zeroCounts(), confirmation_asks: 1, confirmed_by_text: 1 };
    const total = totalCounts([
      { day: '2026-11-25', counts: a },
      { day: '2026-11-26', counts: b },
    ]);
    expect(total.confirmation_asks).toBe(4);
    expect(confirmationRate(total)).toBe(0.5);
    expect(confirmationRate(zeroCounts())).toBeNull();
  });
});
