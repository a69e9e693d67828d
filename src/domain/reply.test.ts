import { describe, expect, it } from 'vitest';
import { classifyReply } from './reply';
import { formatAppointmentTime, formatPhone } from './format';

describe('classifyReply', () => {
  it.each([
    ['CONFIRM APPT', 'confirm'],
    ['confirm appt', 'confirm'],
    ['  Confirm   Appt!! ', 'confirm'],
    ['confirm', 'confirm'],
    ['Yes', 'confirm'],
    ['y', 'confirm'],
    ['C', 'confirm'],
    ['c.', 'confirm'],
    ['CANCEL APPT', 'cancel'],
    ['cancel appt', 'cancel'],
    ['Cancel appointment.', 'cancel'],
    ['cancel-appt', 'cancel'],
    ['CANCEL', 'opt-out'],
    ['cancel', 'opt-out'],
    ['STOP', 'opt-out'],
    ['Unsubscribe', 'opt-out'],
    ['end', 'opt-out'],
    ['QUIT', 'opt-out'],
    ['revoke', 'opt-out'],
    ['OPTOUT', 'opt-out'],
    ['START', 'opt-in'],
    ['unstop', 'opt-in'],
    ['HELP', 'help'],
    ['info', 'help'],
    ['what time is it?', 'unknown'],
    ['please stop by', 'unknown'],
    ['', 'unknown'],
  ])('%j → %s', (body, intent) => {
    expect(classifyReply(body)).toBe(intent);
  });

  it('trusts the carrier when it says the message was an opt-out or opt-in', () => {
    expect(classifyReply('Stop it', 'STOP')).toBe('opt-out');
    expect(classifyReply('yes', 'START')).toBe('opt-in');
    expect(classifyReply('yes')).toBe('confirm');
  });
});

describe('formatAppointmentTime', () => {
  it.each([
    ['2026-12-01T17:30:00.000Z', 'America/Los_Angeles', 'Tue, Dec 1 at 9:30 AM PST'],
    ['2026-07-01T16:30:00.000Z', 'America/Los_Angeles', 'Wed, Jul 1 at 9:30 AM PDT'],
    ['2026-07-01T16:30:00.000Z', 'America/Phoenix', 'Wed, Jul 1 at 9:30 AM MST'],
    ['2026-07-01T19:30:00.000Z', 'Pacific/Honolulu', 'Wed, Jul 1 at 9:30 AM HST'],
    ['2026-07-01T16:30:00.000Z', '-07:00', 'Wed, Jul 1 at 9:30 AM UTC-7'],
  ])('%s in %s reads %j', (utc, zone, text) => {
    expect(formatAppointmentTime(utc, zone)).toBe(text);
  });
});

describe('formatPhone', () => {
  it('uses national format at home and international abroad', () => {
    expect(formatPhone('+14155550100', 'US')).toBe('(415) 555-0100');
    expect(formatPhone('+442079460000', 'US')).toBe('+44 20 7946 0000');
    expect(formatPhone(undefined, 'US')).toBe('');
  });
});
