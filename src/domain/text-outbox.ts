import type { AppointmentState } from './appointment';
import type { AppointmentEvent } from './event';
import { isEhrEventType } from './event';
import type { LogEntry } from './event-log';
import { decideNotice, enqueueNotice, NOTICE_LEASE_MS, type Notice } from './notice';

/**
 * State-level steps of the text outbox (see notice.ts). Each returns the next state to write with
 * a conditional write, or null when there is nothing to change. Pure: callers pass the clock.
 */

export type TextPlan = 'claimed' | 'queued' | 'superseded' | `refused:${string}`;

function withTexts(
  log: LogEntry[] | undefined,
  texts: Map<string, string>,
  sent?: { id: string; at: string; kind: string },
): LogEntry[] | undefined {
  if (!log || texts.size === 0) return log;
  return log.map((e) => {
    if (!texts.has(e.id)) return e;
    const { text_at: _a, text_kind: _k, ...rest } = e;
    return { ...rest, text: texts.get(e.id), ...(sent?.id === e.id ? { text_at: sent.at, text_kind: sent.kind } : {}) };
  });
}

function bump(s: AppointmentState, nowIso: string): AppointmentState {
  return { ...s, revision: s.revision + 1, updated_at: nowIso };
}

/**
 * Decides the text an applied EHR event warrants and records the decision in `next`, the state
 * the event led to: claimed for `owner` (send it now), queued behind a text in flight, superseded
 * (the patient already knows) or refused. Patient and system events plan nothing.
 */
export function planText(
  next: AppointmentState,
  event: AppointmentEvent,
  owner: string,
  nowIso: string,
): { state: AppointmentState; plan?: TextPlan } {
  if (!isEhrEventType(event.event_type)) return { state: next };
  const decision = decideNotice(next, event.event_type, nowIso);
  if (decision.action !== 'text') {
    const text = decision.action === 'superseded' ? 'superseded' : `refused:${decision.reason}`;
    return { state: { ...next, log: withTexts(next.log, new Map([[event.event_id, text]])) }, plan: text as TextPlan };
  }
  const outbox = enqueueNotice(next.outbox, { id: event.event_id, kind: decision.kind, digest: decision.digest }, owner, nowIso);
  const texts = new Map<string, string>([[event.event_id, 'pending']]);
  return {
    state: { ...next, outbox, log: withTexts(next.log, texts) },
    plan: outbox.sending?.owner === owner && outbox.sending.id === event.event_id ? 'claimed' : 'queued',
  };
}

function finished(s: AppointmentState, notice: Notice, outcome: string, nowIso: string, told?: AppointmentState['told']): AppointmentState {
  const texts = new Map(notice.covers.map((id) => [id, id === notice.id ? outcome : 'superseded']));
  const outbox = s.outbox?.pending ? { pending: s.outbox.pending } : undefined;
  const { outbox: _old, ...rest } = s;
  const sent = outcome === 'sent' ? { id: notice.id, at: nowIso, kind: notice.kind } : undefined;
  return bump({ ...rest, ...(outbox ? { outbox } : {}), ...(told ? { told } : {}), log: withTexts(s.log, texts, sent) }, nowIso);
}

/** The text in flight was started (execution `executionSid`): the patient has been told. */
export function markSent(s: AppointmentState, noticeId: string, executionSid: string | undefined, nowIso: string): AppointmentState | null {
  const n = s.outbox?.sending;
  if (!n || n.id !== noticeId) return null;
  return finished(s, n, 'sent', nowIso, {
    kind: n.kind,
    digest: n.digest,
    id: n.id,
    at: nowIso,
    ...(executionSid ? { execution_sid: executionSid } : {}),
  });
}

/** The text in flight will never go out (opted out, landline, refused by Twilio). */
export function markRefused(s: AppointmentState, noticeId: string, reason: string, nowIso: string): AppointmentState | null {
  const n = s.outbox?.sending;
  if (!n || n.id !== noticeId) return null;
  return finished(s, n, `refused:${reason}`, nowIso);
}

/** The start failed for now: the text waits for a retry, unless a newer text already waits. */
export function releaseForRetry(s: AppointmentState, noticeId: string, retryAt: string, nowIso: string): AppointmentState | null {
  const n = s.outbox?.sending;
  if (!n || n.id !== noticeId) return null;
  const waiting = s.outbox?.pending;
  const { owner: _o, lease_until: _l, ...rest } = n;
  const pending: Notice = waiting
    ? { ...waiting, covers: [...n.covers, ...waiting.covers], attempts: n.attempts + 1 }
    : { ...rest, attempts: n.attempts + 1, not_before: retryAt };
  return bump({ ...s, outbox: { pending } }, nowIso);
}

/** Claims the waiting text when nothing is in flight and its time has come. */
export function claimPending(s: AppointmentState, owner: string, nowIso: string): AppointmentState | null {
  const p = s.outbox?.pending;
  if (!p || s.outbox?.sending || (p.not_before && p.not_before > nowIso)) return null;
  const { not_before: _n, ...rest } = p;
  return bump(
    { ...s, outbox: { sending: { ...rest, owner, lease_until: new Date(Date.parse(nowIso) + NOTICE_LEASE_MS).toISOString() } } },
    nowIso,
  );
}

/** Takes over a text whose dispatcher's lease ran out (it crashed, or is far too slow). */
export function takeOver(s: AppointmentState, owner: string, nowIso: string): AppointmentState | null {
  const n = s.outbox?.sending;
  if (!n || (n.lease_until && n.lease_until > nowIso)) return null;
  const sending: Notice = {
    ...n,
    owner,
    attempts: n.attempts + 1,
    lease_until: new Date(Date.parse(nowIso) + NOTICE_LEASE_MS).toISOString(),
  };
  return bump({ ...s, outbox: { ...s.outbox, sending } }, nowIso);
}
