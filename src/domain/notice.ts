import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { AppointmentFacts } from './appointment';
import { EHR_EVENT_TYPES, type EhrEventType } from './event';
import type { BaseStatus } from './event-log';
import { isActive, isClosed, isRemindable } from './statuses';

/**
 * The transactional outbox of an appointment's texts, kept inside its state document so that the
 * intent to text is written by the same conditional write as the state change it follows from.
 *
 * At most one text per appointment is in flight (`sending`, claimed with a lease) and at most one
 * waits behind it (`pending`): a newer intent replaces the waiting one, so quick successive
 * changes become one text about the state as it then is. Every EHR event's log entry ends with the
 * outcome of its text: `sent`, `superseded` or `refused:<why>`.
 */

/** A text about an appointment is one of the EHR events' texts. */
export const NOTICE_KINDS = EHR_EVENT_TYPES;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

export const Notice = z.object({
  /** The event the text is for; the Studio execution carries it as `event_id`. */
  id: z.string(),
  kind: z.enum(NOTICE_KINDS),
  /** Digest of what the text says, to tell a new text from a repeat. */
  digest: z.string(),
  /** Every event whose text this one stands for (the newest is `id`). */
  covers: z.array(z.string()),
  created_at: z.string(),
  attempts: z.number().int(),
  /** sending: who claimed it and until when; another dispatcher may take over after that. */
  owner: z.string().optional(),
  lease_until: z.string().optional(),
  /** pending: not before this time (backoff after a failed start). */
  not_before: z.string().optional(),
});
export type Notice = z.infer<typeof Notice>;

export const Outbox = z.object({ sending: Notice.optional(), pending: Notice.optional() });
export type Outbox = z.infer<typeof Outbox>;

export const Told = z.object({
  kind: z.enum(NOTICE_KINDS),
  digest: z.string(),
  id: z.string(),
  at: z.string(),
  execution_sid: z.string().optional(),
});
export type Told = z.infer<typeof Told>;

/** How long a claimed text is protected before the sweep may finish it for a crashed dispatcher. */
export const NOTICE_LEASE_MS = 2 * 60_000;

function consistent(kind: EhrEventType, status: BaseStatus): boolean {
  switch (kind) {
    case 'BOOKED':
    case 'RESCHEDULED':
    case 'MODIFIED':
      return isActive(status);
    case 'CONFIRMED':
      return status === 'CONFIRMED';
    case 'CANCELED':
      return status === 'CANCELED';
    case 'NOSHOWED':
      return status === 'NOSHOWED';
  }
}

/** The text that tells the patient each status: `on` is a booking's or a change's (describingKind picks), null none. */
const KIND_OF_STATUS = {
  QUEUED: 'on',
  'REMINDED-1': 'on',
  'REMINDED-2': 'on',
  CONFIRMED: 'CONFIRMED',
  CANCELED: 'CANCELED',
  NOSHOWED: 'NOSHOWED',
  EXPIRED: null,
} as const satisfies Record<BaseStatus, NoticeKind | 'on' | null>;

/** Whether a text of the kind told the patient the appointment is off, so that the next "on" text is a new booking's. */
const SAYS_OFF = {
  BOOKED: false,
  RESCHEDULED: false,
  MODIFIED: false,
  CONFIRMED: false,
  CANCELED: true,
  NOSHOWED: true,
} as const satisfies Record<NoticeKind, boolean>;

/** The kind of text that tells the patient the current status, when the event's own kind would not. */
function describingKind(status: BaseStatus, told: Told | undefined): NoticeKind | undefined {
  const kind = KIND_OF_STATUS[status];
  if (kind !== 'on') return kind ?? undefined;
  return !told || SAYS_OFF[told.kind] ? 'BOOKED' : 'MODIFIED';
}

/**
 * Digest of what the patient knows after a text: whether the appointment is on, confirmed,
 * canceled or missed, and the details texts show. Two texts with the same digest say the same.
 */
export function noticeDigest(status: BaseStatus, f: AppointmentFacts): string {
  // Reminders sent or not, the patient knows the same thing: the appointment is on.
  const standing = isRemindable(status) ? 'ON' : status;
  // A canceled or missed appointment's details no longer matter to the patient: only that it is off.
  const off = isClosed(standing);
  const said = off
    ? [standing, f.appointment_datetime_utc]
    : [
        standing,
        f.patient_first_name,
        f.provider_first_name,
        f.provider_last_name,
        f.appointment_datetime_utc,
        f.appointment_timezone,
        f.appointment_location,
        f.provider_callback_phone,
      ];
  return createHash('sha256').update(JSON.stringify(said)).digest('base64url').slice(0, 22);
}

export interface NoticeSubject {
  facts: AppointmentFacts;
  status: BaseStatus;
  opted_out: boolean;
  /** Twilio reported the phone cannot receive texts (see appointment.ts Undeliverable). */
  undeliverable?: unknown;
  told?: Told;
  outbox?: Outbox;
}

export type NoticeDecision =
  | { action: 'text'; kind: NoticeKind; digest: string }
  | { action: 'superseded' }
  | { action: 'refused'; reason: 'opted-out' | 'undeliverable' | 'expired' | 'past' };

/**
 * What the patient should be told after an EHR event of type `type`, given the state it led to.
 * The text always describes the current state: a late or out-of-place event gets the text of the
 * state (or none, when the patient already knows), never one that contradicts the record.
 */
/** How long after the appointment time a cancellation or no-show still gets its text. */
export const STALE_AFTER_MS = 24 * 3_600_000;

export function decideNotice(s: NoticeSubject, type: EhrEventType, nowIso: string): NoticeDecision {
  if (s.opted_out) return { action: 'refused', reason: 'opted-out' };
  if (s.undeliverable) return { action: 'refused', reason: 'undeliverable' };
  const kind = consistent(type, s.status) ? type : describingKind(s.status, s.told);
  if (!kind) return { action: 'refused', reason: 'expired' };
  if (isActive(s.status) && s.facts.appointment_datetime_utc <= nowIso) return { action: 'refused', reason: 'past' };
  // A cancellation or no-show is worth a text on the day ("we missed you"), not about an
  // appointment long gone (an EHR replaying old records, a backfill).
  if (Date.parse(s.facts.appointment_datetime_utc) < Date.parse(nowIso) - STALE_AFTER_MS) return { action: 'refused', reason: 'past' };
  const digest = noticeDigest(s.status, s.facts);
  const latest = s.outbox?.pending ?? s.outbox?.sending ?? s.told;
  if (latest?.digest === digest) return { action: 'superseded' };
  return { action: 'text', kind, digest };
}

/**
 * Puts a new text in the outbox: claimed for `owner` when nothing is in flight, otherwise waiting
 * behind the one in flight (replacing any text already waiting, whose events it now covers).
 */
export function enqueueNotice(
  outbox: Outbox | undefined,
  n: { id: string; kind: NoticeKind; digest: string },
  owner: string,
  nowIso: string,
): Outbox {
  const waiting = outbox?.pending;
  const notice: Notice = { ...n, covers: [...(waiting?.covers ?? []), n.id], created_at: nowIso, attempts: waiting?.attempts ?? 0 };
  if (outbox?.sending) return { sending: outbox.sending, pending: notice };
  return { sending: { ...notice, owner, lease_until: new Date(Date.parse(nowIso) + NOTICE_LEASE_MS).toISOString() } };
}

/** When the sweep must look at the outbox (a lease running out, a retry coming due). */
export function outboxDueAt(outbox: Outbox | undefined): string | undefined {
  const times = [outbox?.sending?.lease_until, outbox?.pending?.not_before ?? outbox?.pending?.created_at].filter((t): t is string => !!t);
  return times.sort()[0];
}
