import { describe, expect, it } from 'vitest';
import { classifyReply } from './reply';
import { formatAppointmentTime, formatPhone, smsText, textLanguage } from './format';

describe('classifyReply', () => {
  // Replies as patients write them, in English and Spanish, with what each must become.
  const REPLIES: [string, string][] = [
    // confirm
    ['CONFIRM APPT', 'confirm'],
    ['confirm appt', 'confirm'],
    ['  Confirm   Appt!! ', 'confirm'],
    ['confirm', 'confirm'],
    ['Confirm.', 'confirm'],
    ['CONFIRMED', 'confirm'],
    ['confirm my appointment', 'confirm'],
    ['I confirm', 'confirm'],
    ['Yes', 'confirm'],
    ['yes', 'confirm'],
    ['YES!', 'confirm'],
    ['yes.', 'confirm'],
    ['Yes please', 'confirm'],
    ['yes thanks!', 'confirm'],
    ['Yes thank you', 'confirm'],
    ['yes, thank you!!', 'confirm'],
    ['yep', 'confirm'],
    ['Yeah', 'confirm'],
    ['yup', 'confirm'],
    ['Yess', 'confirm'],
    ['y', 'confirm'],
    ['Y', 'confirm'],
    ['C', 'confirm'],
    ['c.', 'confirm'],
    ['1', 'confirm'],
    ['1.', 'confirm'],
    [' 1 ', 'confirm'],
    ['#1', 'confirm'],
    ['1 thanks', 'confirm'],
    ['1 please', 'confirm'],
    ['ok', 'confirm'],
    ['OK', 'confirm'],
    ['Okay', 'confirm'],
    ['okay thanks', 'confirm'],
    ['Ok thank you', 'confirm'],
    ['k', 'confirm'],
    ['👍', 'confirm'],
    ['👍🏽', 'confirm'],
    ['✅', 'confirm'],
    ['✔️', 'confirm'],
    ['👌', 'confirm'],
    ['confirm please', 'confirm'],
    ['Confirm, thanks', 'confirm'],
    ['Hi, yes', 'confirm'],
    ['Hello confirm', 'confirm'],
    ['sure', 'confirm'],
    ['Sure thing', 'unclear'],
    ['yes I will be there', 'confirm'],
    ['confrim', 'confirm'],
    ['comfirm', 'confirm'],
    ['cofirm', 'confirm'],
    ['confirn', 'confirm'],
    ['confimr', 'confirm'],
    ['Confirmm', 'confirm'],
    ['yes confirm', 'confirm'],
    ['YES CONFIRM', 'confirm'],
    ['sí', 'confirm'],
    ['Si', 'confirm'],
    ['SÍ', 'confirm'],
    ['si gracias', 'confirm'],
    ['Sí, gracias!', 'confirm'],
    ['confirmar', 'confirm'],
    ['Confirmar cita', 'confirm'],
    ['confirmo', 'confirm'],
    ['Confirmo, gracias', 'confirm'],
    ['confirmado', 'confirm'],
    ['CONFIRMADA', 'confirm'],
    ['Sí confirmo', 'confirm'],
    ['confirmar mi cita', 'confirm'],
    ['quiero confirmar', 'confirm'],
    ['vale', 'confirm'],
    ['claro', 'confirm'],
    ['perfecto', 'confirm'],
    ['de acuerdo', 'unknown'],
    ['1 gracias', 'confirm'],
    ['sí por favor', 'confirm'],
    ['hola, sí', 'confirm'],
    ['comfirmar', 'confirm'],
    ['confirmr', 'confirm'],
    ['confirmar porfa', 'confirm'],
    ['ok gracias', 'confirm'],
    ['👍 gracias', 'confirm'],
    // cancel (a bare CANCEL is the carrier's opt-out keyword)
    ['CANCEL APPT', 'cancel'],
    ['cancel appt', 'cancel'],
    ['Cancel appointment.', 'cancel'],
    ['cancel-appt', 'cancel'],
    ['cancel my appt', 'cancel'],
    ['Cancel my appointment please', 'cancel'],
    ['please cancel my appointment', 'cancel'],
    ['I want to cancel', 'cancel'],
    ['I would like to cancel my appointment', 'cancel'],
    ['2', 'cancel'],
    ['2.', 'cancel'],
    ['2 thanks', 'cancel'],
    ['#2', 'cancel'],
    ['cancle appt', 'cancel'],
    ['cancell appointment', 'cancel'],
    ['canel appt', 'cancel'],
    ['cancel the appointment', 'cancel'],
    ['cancelar cita', 'cancel'],
    ['Cancelar mi cita', 'cancel'],
    ['cancelar', 'cancel'],
    ['Cancelar, gracias', 'cancel'],
    ['quiero cancelar', 'cancel'],
    ['quiero cancelar mi cita', 'cancel'],
    ['cancelo', 'cancel'],
    ['cancela la cita', 'cancel'],
    ['cancelar la cita por favor', 'cancel'],
    ['2 gracias', 'cancel'],
    ['canselar', 'cancel'],
    ['cancelar sita', 'unclear'],
    ['anular cita', 'cancel'],
    // reschedule
    ['3', 'reschedule'],
    ['3.', 'reschedule'],
    ['3 please', 'reschedule'],
    ['reschedule', 'reschedule'],
    ['Reschedule please', 'reschedule'],
    ['I need to reschedule', 'reschedule'],
    ['reschedule my appointment', 'reschedule'],
    ['rescheduel', 'reschedule'],
    ['reshedule', 'reschedule'],
    ['change my appointment', 'reschedule'],
    ['I need a new time', 'unknown'],
    ['rebook', 'reschedule'],
    ['cambiar', 'reschedule'],
    ['cambiar cita', 'reschedule'],
    ['cambiar la fecha', 'reschedule'],
    ['Quiero cambiar mi cita', 'reschedule'],
    ['reagendar', 'reschedule'],
    ['Reagendar por favor', 'reschedule'],
    ['reprogramar', 'reschedule'],
    ['reprogramar mi cita', 'reschedule'],
    ['necesito cambiar la cita', 'reschedule'],
    ['3 gracias', 'reschedule'],
    // opt-out, honoured before any other reading
    ['CANCEL', 'opt-out'],
    ['cancel', 'opt-out'],
    ['Cancel!', 'opt-out'],
    ['STOP', 'opt-out'],
    ['stop', 'opt-out'],
    ['Stop.', 'opt-out'],
    ['STOP please', 'opt-out'],
    ['Please stop', 'opt-out'],
    ['Unsubscribe', 'opt-out'],
    ['end', 'opt-out'],
    ['QUIT', 'opt-out'],
    ['revoke', 'opt-out'],
    ['OPTOUT', 'opt-out'],
    ['STOPALL', 'opt-out'],
    ['stop texting me', 'opt-out'],
    ['Stop texting me please', 'opt-out'],
    ['please stop sending me messages', 'opt-out'],
    ['no more messages', 'opt-out'],
    ['No more texts!', 'opt-out'],
    ["don't text me", 'opt-out'],
    ['Dont text me anymore', 'opt-out'],
    ['do not text me', 'opt-out'],
    ['remove me from this list', 'opt-out'],
    ['take me off your list', 'opt-out'],
    ['unsubscribe me', 'opt-out'],
    ['leave me alone', 'opt-out'],
    ["I don't want any more texts", 'opt-out'],
    ['yes stop texting me', 'opt-out'],
    ['cancel appt and stop texting me', 'opt-out'],
    ['no más mensajes', 'opt-out'],
    ['No me envíen más mensajes', 'opt-out'],
    ['dejen de escribirme', 'opt-out'],
    ['baja', 'opt-out'],
    ['stop reminders', 'opt-out'],
    // opt-in, help
    ['START', 'opt-in'],
    ['unstop', 'opt-in'],
    ['HELP', 'help'],
    ['help', 'help'],
    ['Help!', 'help'],
    ['info', 'help'],
    ['ayuda', 'help'],
    ['AYUDA por favor', 'help'],
    // ambiguous or more than a request: to the staff
    ['yes cancel', 'unclear'],
    ['Yes, cancel it', 'unclear'],
    ['1 2', 'unclear'],
    ['1 or 2', 'unclear'],
    ['confirm or cancel?', 'unclear'],
    ['no', 'unclear'],
    ['No', 'unclear'],
    ['N', 'unclear'],
    ['nope', 'unknown'],
    ["don't cancel", 'unclear'],
    ['do not cancel my appointment', 'unclear'],
    ['no cancel', 'unclear'],
    ['cancel please', 'unclear'],
    ['please cancel', 'unclear'],
    ['yes but can we do thursday', 'unclear'],
    ['yes but I might be late', 'unclear'],
    ["can't make it, reschedule?", 'unclear'],
    ['confirm and reschedule', 'unclear'],
    ['cancelar o cambiar', 'unclear'],
    ['sí pero más tarde', 'unclear'],
    ['no puedo, cancelar', 'unclear'],
    ['maybe', 'unclear'],
    ['👎', 'unclear'],
    ['❌', 'unclear'],
    ['1 but running late', 'unclear'],
    ['yes, no', 'unclear'],
    ['2 no wait 1', 'unclear'],
    ['cancel my appointment and rebook', 'unclear'],
    // nothing we can act on
    ['what time is it?', 'unknown'],
    ['please stop by', 'unknown'],
    ['', 'unknown'],
    ['   ', 'unknown'],
    ['?', 'unknown'],
    ['Thanks', 'unknown'],
    ['thank you!', 'unknown'],
    ['gracias', 'unknown'],
    ['can we do thursday instead?', 'unknown'],
    ['Who is this?', 'unknown'],
    ['what should I bring?', 'unknown'],
    ['12', 'unknown'],
    ['4', 'unknown'],
    ['Where is the clinic?', 'unknown'],
    ['¿Dónde está la clínica?', 'unknown'],
    ['running 10 min late', 'unknown'],
    ['😀', 'unknown'],
    ['hola', 'unknown'],
    ['confirmation number?', 'unknown'],
  ];

  it('has a large table of real-looking replies', () => {
    expect(REPLIES.length).toBeGreaterThanOrEqual(150);
    expect(new Set(REPLIES.map(([r]) => r)).size).toBe(REPLIES.length);
  });

  it.each(REPLIES)('%j → %s', (body, intent) => {
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
