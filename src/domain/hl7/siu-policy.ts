import type { EhrEventType } from '../event';

/**
 * Which event of the JSON contract an SIU message is, and whether it is one at all: the trigger
 * (MSH-9.2, HL7 v2.5 §10.3) read together with the filler status SCH-25 (HL7 table 0278, and the
 * vendor spellings seen in real feeds). Separate from reading the message so it can be tested as
 * a table. `ignore` means: acknowledged (AA), nothing recorded, no text.
 */
export type SiuDecision =
  | { kind: 'event'; eventType: EhrEventType; subtype?: 'deleted' }
  | { kind: 'ignore'; reason: string }
  | { kind: 'reject'; error: 200 | 201; reason: string };

export interface SiuPolicyInput {
  /** MSH-9.1 */
  messageType: string;
  /** MSH-9.2 */
  trigger: string;
  /** SCH-25.1 as sent */
  status: string;
  /** Whether the appointment's start has passed (S16 only); undefined when unknown. */
  startInPast?: boolean;
  /** AIL/AIP action codes (AIx-2, table 0206), for S18–S22. */
  resourceActions?: string[];
}

export interface SiuPolicyOptions {
  /** SCH-25 codes a site uses on S14 to say the patient confirmed (there is no SIU trigger for it). */
  confirmedStatuses?: readonly string[];
}

/** Compares status codes on their letters only: `Checked In`, `checked-in` and `CHECKEDIN` are one code. */
export function statusKey(status: string): string {
  return status.toLowerCase().replace(/[^a-z]/g, '');
}

const NOT_CONFIRMED = new Set(['pending', 'waitlist', 'blocked']);
const CANCELED = new Set(['cancelled', 'canceled', 'deleted', 'dc', 'discontinued']);
const NOSHOW = new Set(['noshow']);
// The patient is there or has been seen: a text about a "change" now would only confuse.
const UNDER_WAY = new Set(['started', 'arrived', 'checkedin', 'complete', 'completed', 'inprogress']);

/**
 * The triggers on which decideSiu can say each event type (siu-policy.test.ts holds it to that, both
 * ways). Adding an event type means deciding how an SIU feed says it, or that it cannot (no trigger).
 */
export const SIU_TRIGGERS_OF = {
  BOOKED: ['S12'],
  RESCHEDULED: ['S13'],
  MODIFIED: ['S14', 'S18', 'S19', 'S20', 'S21', 'S22'],
  CONFIRMED: ['S14'],
  CANCELED: ['S14', 'S15', 'S16', 'S17'],
  NOSHOWED: ['S14', 'S15', 'S26'],
} as const satisfies Record<EhrEventType, readonly string[]>;

export function decideSiu(input: SiuPolicyInput, options: SiuPolicyOptions = {}): SiuDecision {
  if (input.messageType.toUpperCase() !== 'SIU') {
    return {
      kind: 'reject',
      error: 200,
      reason: `MSH-9: ${input.messageType || 'an empty message type'} is not supported; send SIU scheduling messages`,
    };
  }
  const status = statusKey(input.status);
  const trigger = input.trigger.toUpperCase();
  switch (trigger) {
    case 'S12':
      if (NOT_CONFIRMED.has(status)) return { kind: 'ignore', reason: `SCH-25 ${status}: the booking is not confirmed` };
      return { kind: 'event', eventType: 'BOOKED' };
    case 'S13':
      return { kind: 'event', eventType: 'RESCHEDULED' };
    case 'S14': {
      if (CANCELED.has(status))
        return { kind: 'event', eventType: 'CANCELED', ...(status === 'deleted' ? { subtype: 'deleted' as const } : {}) };
      if (NOSHOW.has(status)) return { kind: 'event', eventType: 'NOSHOWED' };
      if (UNDER_WAY.has(status)) return { kind: 'ignore', reason: `SCH-25 ${status}: the patient has arrived or been seen` };
      if ((options.confirmedStatuses ?? []).some((c) => statusKey(c) === status)) return { kind: 'event', eventType: 'CONFIRMED' };
      return { kind: 'event', eventType: 'MODIFIED' };
    }
    case 'S15':
      // A status that contradicts the trigger (Booked on a cancel) loses to it; athena sends no-shows as S15.
      return { kind: 'event', eventType: NOSHOW.has(status) ? 'NOSHOWED' : 'CANCELED' };
    case 'S16':
      if (input.startInPast === false) return { kind: 'event', eventType: 'CANCELED' };
      return { kind: 'ignore', reason: 'S16: discontinued after it began' };
    case 'S17':
      return { kind: 'event', eventType: 'CANCELED', subtype: 'deleted' };
    case 'S18':
    case 'S19':
    case 'S20':
    case 'S21':
    case 'S22':
      // Only a change of place (AIL) or person (AIP) is something the patient needs to hear about.
      if ((input.resourceActions ?? []).some((a) => a === 'A' || a === 'D' || a === 'U')) return { kind: 'event', eventType: 'MODIFIED' };
      return { kind: 'ignore', reason: `${trigger}: no location or provider changed` };
    case 'S23':
    case 'S24':
      return { kind: 'ignore', reason: `${trigger}: schedule slots, no patient appointment` };
    case 'S26':
      return { kind: 'event', eventType: 'NOSHOWED' };
    default:
      return { kind: 'reject', error: 201, reason: `MSH-9: trigger ${trigger || '(empty)'} is not supported` };
  }
}
