import { createHash } from 'node:crypto';
import type { PatientEventType } from './event';

/**
 * What a patient's SMS asks for. Carrier keywords come first: STOP-family words (including a bare
 * CANCEL, which carriers treat as an opt-out) and START/UNSTOP are handled by Twilio's opt-out
 * layer before we see them, and Twilio tells us which with OptOutType.
 */
export type ReplyIntent = 'confirm' | 'cancel' | 'opt-out' | 'opt-in' | 'help' | 'unknown';

const OPT_OUT = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT']);
const OPT_IN = new Set(['START', 'UNSTOP']);
const HELP = new Set(['HELP', 'INFO', 'AYUDA']);
const CONFIRM = new Set([
  'CONFIRM APPT',
  'CONFIRM APPOINTMENT',
  'CONFIRM MY APPT',
  'CONFIRM MY APPOINTMENT',
  'CONFIRM',
  'CONFIRMED',
  '1',
  'CONFIRMAR',
  'CONFIRMAR CITA',
  'C',
  'Y',
  'YES',
  'YEP',
  'YEAH',
  'YUP',
  'YES CONFIRM',
  'YES PLEASE',
  'I CONFIRM',
]);
const CANCEL = new Set([
  '2',
  'CANCELAR CITA',
  'CANCEL APPT',
  'CANCEL APPOINTMENT',
  'CANCEL MY APPT',
  'CANCEL MY APPOINTMENT',
  'CANCEL THE APPOINTMENT',
  'PLEASE CANCEL MY APPOINTMENT',
  'PLEASE CANCEL APPT',
  'CANCEL APPT PLEASE',
  'CANCEL APPOINTMENT PLEASE',
]);

/** Upper case, punctuation and extra spaces dropped: "  Confirm appt! " → "CONFIRM APPT". */
export function normaliseReply(body: string): string {
  return body
    .normalize('NFKC')
    .toUpperCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

export function classifyReply(body: string, optOutType?: string): ReplyIntent {
  const type = (optOutType ?? '').toUpperCase();
  if (type === 'STOP') return 'opt-out';
  if (type === 'START') return 'opt-in';
  if (type === 'HELP') return 'help';
  const text = normaliseReply(body);
  if (OPT_OUT.has(text)) return 'opt-out';
  if (OPT_IN.has(text)) return 'opt-in';
  if (HELP.has(text)) return 'help';
  if (CONFIRM.has(text)) return 'confirm';
  if (CANCEL.has(text)) return 'cancel';
  return 'unknown';
}

/**
 * The id of the event a patient's SMS makes for one appointment. It comes from the message alone
 * (not the time or the execution), so the same SMS redelivered or replayed is one event: one
 * history record, one EHR request, one Idempotency-Key. Intake uses it too, when it applies an
 * opt-out the ledger already holds to an appointment booked afterwards.
 */
export function replyEventId(type: PatientEventType, appointmentId: string, messageSid: string): string {
  return createHash('sha256').update(JSON.stringify([type, appointmentId, messageSid])).digest('hex').slice(0, 32);
}
