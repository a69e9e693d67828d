import { DEFAULT_DELIMITERS, encodeField, escapeValue, valueAt, type Er7Message } from './er7';
import type { Hl7Position } from './siu';

/** Original-mode acknowledgement codes (HL7 v2.5 §2.9.2): accepted, application error, application reject. */
export type AckCode = 'AA' | 'AE' | 'AR';

/** HL7 table 0357 (message error condition codes), the ones we send. */
export const ERROR_CODES = {
  100: 'Segment sequence error',
  101: 'Required field missing',
  102: 'Data type error',
  103: 'Table value not found',
  200: 'Unsupported message type',
  201: 'Unsupported event code',
  202: 'Unsupported processing id',
  203: 'Unsupported version id',
  207: 'Application internal error',
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

/** One ERR segment: where, which condition, and a text that names the field, never the value. */
export interface Hl7Issue {
  at?: Hl7Position;
  code: ErrorCode;
  text: string;
}

export interface AckInput {
  code: AckCode;
  /** The message answered, when it could be read far enough (its MSH gives addresses and delimiters). */
  original?: Er7Message;
  /** MSA-3: a short text. */
  text: string;
  issues?: Hl7Issue[];
  now: Date;
  /** MSH-10 of the ACK itself. */
  controlId: string;
}

/** `20261125160000+0000`: MSH-7 always with an offset, so nobody has to guess our zone. */
function tsOf(d: Date): string {
  return `${d.toISOString().replace(/[-:T]/g, '').slice(0, 14)}+0000`;
}

/**
 * Builds the ACK: sender and receiver swapped (MSH-3/4 ↔ MSH-5/6), MSH-9 ACK^<trigger>[^ACK],
 * MSH-11 and MSH-12 copied, MSA-2 = the original MSH-10, one ERR per issue (v2.5 ERR-2/3/4, and
 * ERR-1 for v2.3/2.4 receivers). Texts are escaped in the message's own delimiters.
 */
export function buildAck(input: AckInput): string {
  const msh = input.original?.segments[0];
  const d = input.original?.delimiters ?? DEFAULT_DELIMITERS;
  const raw = (n: number): string => (msh?.fields[n] ? encodeField(msh.fields[n], d) : '');
  const e = (t: string) => escapeValue(t, d);
  const trigger = valueAt(msh, 9, 2);
  const hasStructure = valueAt(msh, 9, 3) !== '';
  const messageType = trigger ? `ACK${d.component}${e(trigger)}${hasStructure ? `${d.component}ACK` : ''}` : 'ACK';
  const version = valueAt(msh, 12) || '2.5.1';
  const legacyErr = /^2\.[1-4](\.|$)/.test(version);
  const segments = [
    [
      'MSH',
      `${d.component}${d.repetition}${d.escape}${d.subcomponent}`,
      raw(5),
      raw(6),
      raw(3),
      raw(4),
      tsOf(input.now),
      '',
      messageType,
      e(input.controlId),
      raw(11) || 'P',
      e(version),
    ],
    ['MSA', input.code, e(valueAt(msh, 10)), e(input.text)],
    ...(input.issues ?? []).map((issue) => {
      const at = issue.at;
      const codeText = [String(issue.code), e(ERROR_CODES[issue.code]), 'HL70357'];
      const erl = at
        ? [at.segment, '1', String(at.field), String(at.repetition ?? 1), at.component ? String(at.component) : '']
            .join(d.component)
            .replace(new RegExp(`\\${d.component}+$`), '')
        : '';
      const eld = legacyErr && at ? [at.segment, '1', String(at.field), codeText.join(d.subcomponent)].join(d.component) : '';
      return ['ERR', eld, erl, codeText.join(d.component), 'E', '', '', '', e(issue.text)];
    }),
  ];
  return segments.map((s) => s.join(d.field)).join('\r') + '\r';
}
