import { parseEhrEvent, type AppointmentEvent } from '../../src/domain/event';
import type { ReminderPolicy } from '../../src/domain/reminder-plan';
import { FlowStartError, type FlowStarter, type FlowStartRequest, type FlowStartResult } from '../../src/messaging/flow-starter';
import { ehrEvent } from '../fixtures/events';

/** Reminders 48h and 24h before, sent at any hour. */
export const policy: ReminderPolicy = {
  firstLeadMinutes: 2880,
  secondLeadMinutes: 1440,
  outreachStartMinutes: 0,
  outreachFinishMinutes: 1440,
};

/** A clock the test moves by hand. */
export function manualClock(iso: string) {
  let at = Date.parse(iso);
  return {
    now: () => new Date(at),
    set: (next: string) => {
      at = Date.parse(next);
    },
    advance: (ms: number) => {
      at += ms;
    },
  };
}

/** An EHR event of the fixture booking (Tue 1 Dec 2026, 09:30 in Los Angeles), varied by `overrides`. */
export function ehr(overrides: Record<string, unknown> = {}): AppointmentEvent {
  const parsed = parseEhrEvent(ehrEvent({ event_datetime_utc: '2026-11-25T15:59:00Z', ...overrides }), { defaultCountry: 'US' });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.event;
}

export type FlowAnswer = 'start' | 'opted-out' | 'retryable' | 'permanent';

/**
 * Studio as the use cases see it: answers each start with the next of `answers` (then 'start'),
 * after `delayMs` (a round trip, so concurrent callers interleave), and remembers what it started,
 * so `wasStarted` tells the truth.
 */
export class FakeFlows implements FlowStarter {
  readonly starts: FlowStartRequest[] = [];
  readonly asked: string[] = [];
  private readonly started = new Set<string>();

  constructor(
    private readonly answers: FlowAnswer[] = [],
    private readonly delayMs = 0,
  ) {}

  async start(request: FlowStartRequest): Promise<FlowStartResult> {
    const answer = this.answers.shift() ?? 'start';
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (answer === 'retryable') throw new FlowStartError('Studio answered 503', true, 503);
    if (answer === 'permanent') throw new FlowStartError('Studio answered 400', false, 400);
    if (answer === 'opted-out') return { kind: 'not-started', reason: 'opted-out' };
    this.starts.push(request);
    this.started.add(request.event.event_id);
    return { kind: 'started', executionSid: `FN${String(this.starts.length).padStart(32, '0')}` };
  }

  /** As if a dispatcher that then died had started the flow for `eventId`. */
  startedElsewhere(eventId: string): void {
    this.started.add(eventId);
  }

  async wasStarted(query: { to: string; eventId: string; since: string }): Promise<boolean> {
    this.asked.push(query.eventId);
    return this.started.has(query.eventId);
  }
}
