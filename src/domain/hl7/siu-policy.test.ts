import { describe, expect, it } from 'vitest';
import { decideSiu, type SiuPolicyInput } from './siu-policy';

const ev = (eventType: string, subtype?: string) => ({ kind: 'event', eventType, ...(subtype ? { subtype } : {}) });
const ignore = { kind: 'ignore' };
const reject = (error: number) => ({ kind: 'reject', error });

// trigger, SCH-25, extra input → decision (HL7 v2.5 §10.3 triggers, table 0278 statuses and the spellings real feeds use)
const TABLE: [string, string, Partial<SiuPolicyInput>, Record<string, unknown>][] = [
  ['S12', 'Booked', {}, ev('BOOKED')],
  ['S12', 'Scheduled^^CSI', {}, ev('BOOKED')],
  ['S12', 'Confirmed', {}, ev('BOOKED')],
  ['S12', 'Overbook', {}, ev('BOOKED')],
  ['S12', '', {}, ev('BOOKED')],
  ['S12', 'Pending', {}, ignore],
  ['S12', 'Waitlist', {}, ignore],
  ['S12', 'BLOCKED', {}, ignore],
  ['S13', 'Booked', {}, ev('RESCHEDULED')],
  ['S14', 'Booked', {}, ev('MODIFIED')],
  ['S14', 'Cancelled', {}, ev('CANCELED')],
  ['S14', 'Deleted', {}, ev('CANCELED', 'deleted')],
  ['S14', 'Noshow', {}, ev('NOSHOWED')],
  ['S14', 'no-show', {}, ev('NOSHOWED')],
  ['S14', 'ARRIVED', {}, ignore],
  ['S14', 'Checked In', {}, ignore],
  ['S14', 'Started', {}, ignore],
  ['S14', 'Complete', {}, ignore],
  ['S14', 'Confirmed', {}, ev('MODIFIED')],
  ['S15', 'Cancelled', {}, ev('CANCELED')],
  ['S15', 'Booked', {}, ev('CANCELED')],
  ['S15', 'NOSHOW', {}, ev('NOSHOWED')],
  ['S16', 'DC', { startInPast: false }, ev('CANCELED')],
  ['S16', 'DC', { startInPast: true }, ignore],
  ['S16', 'DC', {}, ignore],
  ['S17', 'Deleted', {}, ev('CANCELED', 'deleted')],
  ['S17', 'Booked', {}, ev('CANCELED', 'deleted')],
  ['S18', 'Booked', { resourceActions: ['X', 'A'] }, ev('MODIFIED')],
  ['S20', 'Booked', { resourceActions: ['D'] }, ev('MODIFIED')],
  ['S19', 'Booked', { resourceActions: ['X'] }, ignore],
  ['S21', 'Booked', { resourceActions: [] }, ignore],
  ['S23', '', {}, ignore],
  ['S24', '', {}, ignore],
  ['S26', 'Noshow', {}, ev('NOSHOWED')],
  ['S25', '', {}, reject(201)],
  ['S99', '', {}, reject(201)],
  ['', '', {}, reject(201)],
];

describe('SIU trigger + SCH-25 → contract event', () => {
  it.each(TABLE)('%s with status %j %j', (trigger, status, extra, want) => {
    expect(decideSiu({ messageType: 'SIU', trigger, status: status.split('^')[0] as string, ...extra })).toMatchObject(want);
  });

  it('says CONFIRMED for an S14 with a status the site configured to mean it', () => {
    expect(decideSiu({ messageType: 'SIU', trigger: 'S14', status: 'Confirmed' }, { confirmedStatuses: ['CONFIRMED'] })).toEqual(
      ev('CONFIRMED'),
    );
  });

  it.each(['ADT', 'SRM', 'ORU', ''])('refuses message type %j with AR 200', (messageType) => {
    expect(decideSiu({ messageType, trigger: 'S12', status: 'Booked' })).toMatchObject(reject(200));
  });
});
