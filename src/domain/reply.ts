import { createHash } from 'node:crypto';
import type { PatientEventType } from './event';

/**
 * What a patient's SMS asks for, in English or Spanish, as people write it. Opt-outs come first:
 * STOP-family words (including a bare CANCEL, which carriers treat as an opt-out) and START/UNSTOP
 * are handled by Twilio's opt-out layer before we see them, and Twilio tells us which with
 * OptOutType; a revocation in other words ("stop texting me", "no más mensajes") is honoured too
 * (FCC 24-24: consent may be revoked by any reasonable means). `unclear`: the message points to more
 * than one request, negates one, or says more than a request ("yes but can we do thursday"): it goes
 * to the clinic's staff, never guessed. `unknown`: no request at all.
 */
export type ReplyIntent = 'confirm' | 'cancel' | 'reschedule' | 'opt-out' | 'opt-in' | 'help' | 'unclear' | 'unknown';

/** Whole-message keywords the carrier's opt-out layer acts on (CTIA; Twilio's defaults). */
export const CARRIER_KEYWORDS = new Set([
  'START',
  'UNSTOP',
  'HELP',
  'INFO',
  'STOP',
  'STOPALL',
  'UNSUBSCRIBE',
  'CANCEL',
  'END',
  'QUIT',
  'REVOKE',
  'OPTOUT',
]);
const CARRIER_OPT_OUT = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT']);
const OPT_IN = new Set(['START', 'UNSTOP', 'YES START']);

/** Revocations in other words; matched anywhere in the message, before any other reading. */
const REVOCATIONS = [
  /\bSTOP (TEXTING|MESSAGING|SENDING|CONTACTING|CALLING)\b/,
  /\b(STOP|QUIT) (ALL )?(THE |THESE |YOUR )?(TEXTS?|MESSAGES?|SMS|REMINDERS?)\b/,
  /\bNO MORE (TEXTS?|MESSAGES?|SMS|REMINDERS?)\b/,
  /\b(DONT|DO NOT|NEVER) (TEXT|MESSAGE|CONTACT|SMS) ME\b/,
  /\b(DONT|DO NOT) (SEND|WANT) (ME )?(ANY )?(MORE )?(TEXTS?|MESSAGES?|SMS|REMINDERS?)\b/,
  /\b(UNSUBSCRIBE|REMOVE|OPT) ME\b/,
  /\bTAKE ME OFF\b/,
  /\bLEAVE ME ALONE\b/,
  /^(PLEASE )?STOP( PLEASE| NOW| IT| THANKS| THANK YOU)*$/,
  /\bNO (MAS|ME (ENVIE|ENVIEN|MANDE|MANDEN|ESCRIBA|ESCRIBAN)( MAS)?) ?(MENSAJES|TEXTOS|SMS)?\b/,
  /\bDEJ(E|EN|A) DE (ENVIAR|MANDAR|ESCRIBIR)/,
  /^(BAJA|DARME DE BAJA|PARAR|ALTO)$/,
];

/** Words that carry no request, dropped at either end: "yes thanks!", "confirm please", "hola, 1". */
const POLITE = new Set([
  'PLEASE',
  'PLS',
  'PLZ',
  'THANKS',
  'THANK',
  'YOU',
  'THX',
  'TY',
  'HI',
  'HELLO',
  'HEY',
  'OK',
  'OKAY',
  'POR',
  'FAVOR',
  'PORFA',
  'PORFAVOR',
  'GRACIAS',
  'MUCHAS',
  'HOLA',
  'BUENOS',
  'DIAS',
  'BUENAS',
  'TARDES',
  'SALUDOS',
]);

/** Words that may surround a request without changing it ("confirm my appointment"). */
const FILLER = new Set([
  'MY',
  'THE',
  'APPT',
  'APPOINTMENT',
  'APT',
  'I',
  'ID',
  'WANT',
  'TO',
  'WOULD',
  'LIKE',
  'WILL',
  'BE',
  'THERE',
  'SEE',
  'IT',
  'THAT',
  'FOR',
  'ME',
  'MI',
  'LA',
  'EL',
  'CITA',
  'QUIERO',
  'DESEO',
  'ALLI',
  'AHI',
  'ESTARE',
  'DE',
  'ACUERDO',
  'FECHA',
  'HORA',
  'NEED',
  'NECESITO',
  'A',
  'AN',
  'NEW',
  'TIME',
  'DAY',
  'OTRA',
  'OTRO',
  'DIA',
  'PARA',
  'SU',
  'CAN',
  'YOU',
  'PUEDO',
  'QUISIERA',
]);

/** The word (or emoji) that names each request; a message must name exactly one. */
const SIGNALS: Record<'confirm' | 'cancel' | 'reschedule' | 'help', readonly string[]> = {
  confirm: [
    '1',
    'Y',
    'YES',
    'YEP',
    'YEAH',
    'YUP',
    'YA',
    'YESS',
    'SURE',
    'CONFIRM',
    'CONFIRMED',
    'CONFIRMING',
    'C',
    'SI',
    'CONFIRMAR',
    'CONFIRMO',
    'CONFIRMADO',
    'CONFIRMADA',
    'VALE',
    'CLARO',
    'PERFECTO',
    'ACEPTO',
    'ASISTIRE',
    'GOOD',
    'FINE',
    'ABSOLUTELY',
    'CORRECT',
    'OK',
    'OKAY',
    'K',
    'KK',
    'OKEY',
    'OKIS',
    'THUMBSUP',
  ],
  cancel: ['2', 'CANCEL', 'CANCELAR', 'CANCELO', 'CANCELA', 'CANCELE', 'ANULAR'],
  reschedule: ['3', 'RESCHEDULE', 'REBOOK', 'MOVE', 'CHANGE', 'CAMBIAR', 'CAMBIO', 'REAGENDAR', 'REPROGRAMAR', 'POSTPONE', 'MOVER'],
  help: ['HELP', 'INFO', 'AYUDA'],
};
/** Negations and hedges: a request next to one of these is not taken at its word. */
const NEGATIONS = new Set([
  'NO',
  'N',
  'NOT',
  'DONT',
  'NEVER',
  'CANT',
  'CANNOT',
  'WONT',
  'MAYBE',
  'BUT',
  'PERO',
  'NUNCA',
  'QUIZAS',
  'TAL',
  'VEZ',
  'IF',
]);

const SIGNAL_OF = new Map<string, keyof typeof SIGNALS>(
  Object.entries(SIGNALS).flatMap(([intent, words]) => words.map((w) => [w, intent as keyof typeof SIGNALS])),
);
const VOCABULARY = [...SIGNAL_OF.keys(), ...FILLER, ...POLITE].filter((w) => w.length >= 5);

/** Emoji people answer with, read as words. */
const EMOJI: [RegExp, string][] = [
  [/(👍|✅|✔️?|☑️?|👌)(\p{Emoji_Modifier})?/gu, ' THUMBSUP '],
  [/(👎|❌|✖️?)(\p{Emoji_Modifier})?/gu, ' NO '],
];

/** Upper case, accents, punctuation and extra spaces dropped: "  Confirmé la cita! " → "CONFIRME LA CITA". */
export function normaliseReply(body: string): string {
  let text = body.normalize('NFKC');
  for (const [re, word] of EMOJI) text = text.replace(re, word);
  return text
    .replace(/[’'`]/g, '')
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toUpperCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** Optimal string alignment distance, stopping early past 1: a swap of two letters counts as one edit. */
function withinOneEdit(a: string, b: string): boolean {
  if (a === b) return true;
  if (Math.abs(a.length - b.length) > 1) return false;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i += 1) {
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min((d[i - 1]?.[j] ?? 0) + 1, (d[i]?.[j - 1] ?? 0) + 1, (d[i - 1]?.[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, (d[i - 2]?.[j - 2] ?? 0) + 1);
      (d[i] as number[])[j] = v;
    }
  }
  return (d[a.length]?.[b.length] ?? 2) <= 1;
}

/**
 * A word of 5+ letters one edit away from known words is read as one of them ("confrim" →
 * CONFIRM) when they all mean the same thing ("cancell": CANCEL, CANCELO, CANCELA); otherwise it
 * stays as written and counts as something we did not understand.
 */
function correct(word: string): string {
  if (word.length < 5 || SIGNAL_OF.has(word) || FILLER.has(word) || POLITE.has(word)) return word;
  const near = VOCABULARY.filter((w) => withinOneEdit(word, w));
  if (near.length === 1) return near[0] as string;
  const meanings = new Set(near.map((w) => SIGNAL_OF.get(w)));
  return near.length > 1 && meanings.size === 1 && !meanings.has(undefined) ? (near[0] as string) : word;
}

export function classifyReply(body: string, optOutType?: string): ReplyIntent {
  const type = (optOutType ?? '').toUpperCase();
  if (type === 'STOP') return 'opt-out';
  if (type === 'START') return 'opt-in';
  if (type === 'HELP') return 'help';
  const text = normaliseReply(body);
  if (CARRIER_OPT_OUT.has(text)) return 'opt-out';
  if (REVOCATIONS.some((re) => re.test(text))) return 'opt-out';
  if (OPT_IN.has(text)) return 'opt-in';

  const words = text === '' ? [] : text.split(' ').map(correct);
  // "please cancel": the carrier's keyword with a courtesy could mean the texts or the visit.
  const core = dropPolite(words);
  if (core.length === 1 && core[0] === 'CANCEL' && words.length > 1) return 'unclear';
  if (core.length === 0) return words.some((w) => w === 'OK' || w === 'OKAY') ? 'confirm' : 'unknown';

  const intents = new Set<keyof typeof SIGNALS>();
  let other = false;
  let negated = false;
  for (const w of core) {
    const signal = SIGNAL_OF.get(w);
    if (signal) intents.add(signal);
    else if (NEGATIONS.has(w)) negated = true;
    else if (!FILLER.has(w) && !POLITE.has(w)) other = true;
  }
  if (intents.size === 0) return negated ? 'unclear' : 'unknown';
  if (intents.size > 1 || negated || other) return 'unclear';
  return [...intents][0] as keyof typeof SIGNALS;
}

function dropPolite(words: string[]): string[] {
  let start = 0;
  let end = words.length;
  while (start < end && POLITE.has(words[start] as string)) start += 1;
  while (end > start && POLITE.has(words[end - 1] as string)) end -= 1;
  return words.slice(start, end);
}

/**
 * The id of the event a patient's SMS makes for one appointment. It comes from the message alone
 * (not the time or the execution), so the same SMS redelivered or replayed is one event: one
 * history record, one EHR request, one Idempotency-Key. Intake uses it too, when it applies an
 * opt-out the ledger already holds to an appointment booked afterwards.
 */
export function replyEventId(type: PatientEventType, appointmentId: string, messageSid: string): string {
  return createHash('sha256')
    .update(JSON.stringify([type, appointmentId, messageSid]))
    .digest('hex')
    .slice(0, 32);
}
