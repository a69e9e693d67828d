import { describe, expect, it } from 'vitest';
import { classifyReply } from './reply';
import { formatAppointmentTime, formatPhone, smsText, textLanguage } from './format';

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
    ['2026-07-01T16:30:00.000Z', 'Asia/Kolkata', 'Wed, Jul 1 at 10:00 PM UTC+5:30'],
    ['2026-07-01T16:30:00.000Z', '+05:30', 'Wed, Jul 1 at 10:00 PM UTC+5:30'],
    ['2026-07-01T16:30:00.000Z', 'Europe/Madrid', 'Wed, Jul 1 at 6:30 PM UTC+2'],
    ['2026-07-01T16:30:00.000Z', 'UTC', 'Wed, Jul 1 at 4:30 PM UTC'],
  ])('%s in %s reads %j', (utc, zone, text) => {
    expect(formatAppointmentTime(utc, zone)).toBe(text);
  });

  it.each([
    ['2026-12-01T17:30:00.000Z', 'America/Los_Angeles', 'mar, 1 dic, 9:30 PST'],
    ['2026-07-01T16:30:00.000Z', 'America/Los_Angeles', 'mié, 1 jul, 9:30 PDT'],
    ['2026-07-01T16:30:00.000Z', 'America/Phoenix', 'mié, 1 jul, 9:30 MST'],
    ['2026-07-01T19:30:00.000Z', 'Pacific/Honolulu', 'mié, 1 jul, 9:30 HST'],
    ['2026-12-05T14:30:00.000Z', 'America/New_York', 'sab, 5 dic, 9:30 EST'],
    ['2026-07-01T16:30:00.000Z', '-07:00', 'mié, 1 jul, 9:30 UTC-7'],
    ['2026-07-01T16:30:00.000Z', 'Asia/Kolkata', 'mié, 1 jul, 22:00 UTC+5:30'],
    ['2026-07-01T16:30:00.000Z', '+05:30', 'mié, 1 jul, 22:00 UTC+5:30'],
  ])('%s in %s reads %j in Spanish (24-hour clock, GSM-7 letters only)', (utc, zone, text) => {
    expect(formatAppointmentTime(utc, zone, 'es')).toBe(text);
  });

  it('labels a zone the same way across a DST change and in both languages', () => {
    const before = '2026-03-08T09:30:00.000Z';
    const after = '2026-03-08T10:30:00.000Z';
    expect(formatAppointmentTime(before, 'America/Los_Angeles')).toMatch(/ PST$/);
    expect(formatAppointmentTime(after, 'America/Los_Angeles')).toMatch(/ PDT$/);
    expect(formatAppointmentTime(after, 'America/Los_Angeles', 'es')).toMatch(/ PDT$/);
  });
});

describe('smsText', () => {
  it.each([
    ['María José Núñez', 'Maria José Nuñez'],
    ['Zoë', 'Zoe'],
    ['Ramón Ibáñez', 'Ramon Ibañez'],
    ['François Ødegård', 'Francois Ødegård'],
    ['美玲', '美玲'],
    ['  Ana   Lopez ', 'Ana Lopez'],
    [undefined, ''],
  ])('%j → %j (only letters GSM-7 lacks lose their accent)', (value, text) => {
    expect(smsText(value)).toBe(text);
  });

  it('cuts a long value at a word, with "...", to at most max characters', () => {
    const long = 'Northside Medical Pavilion, Building C (East Entrance), 4th Floor, Suite 4120, Pediatric Medicine';
    const cut = smsText(long, 40);
    expect(cut).toBe('Northside Medical Pavilion, Building...');
    expect(cut.length).toBeLessThanOrEqual(40);
    expect(smsText('x'.repeat(60), 40)).toBe(`${'x'.repeat(37)}...`);
    expect(smsText('short', 40)).toBe('short');
  });
});

describe('textLanguage', () => {
  it.each([
    ['es', 'es'],
    ['es-MX', 'es'],
    ['es-419', 'es'],
    ['ES', 'es'],
    ['en-US', 'en'],
    ['fr', 'en'],
    ['zh-Hant-TW', 'en'],
    [undefined, 'en'],
    ['', 'en'],
  ])('%j → %s', (tag, language) => {
    expect(textLanguage(tag)).toBe(language);
  });
});

describe('formatPhone', () => {
  it('uses national format at home and international abroad', () => {
    expect(formatPhone('+14155550100', 'US')).toBe('(415) 555-0100');
    expect(formatPhone('+442079460000', 'US')).toBe('+44 20 7946 0000');
    expect(formatPhone(undefined, 'US')).toBe('');
  });
});
