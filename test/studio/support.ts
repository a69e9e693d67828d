import { LocalClock } from '../../src/local/clock';
import { TwilioApiError, type MessageRecord, type MessageSender, type OutboundMessageRequest } from '../../src/local/twilio/contracts';
import { newSid } from '../../src/local/twilio/rest';
import { StudioEngine } from '../../src/local/studio/engine';
import type { StudioEngineOptions } from '../../src/local/studio/engine-types';
import { FIXTURE_NOW } from '../fixtures/time';

export const ACCOUNT_SID = `AC${'1'.repeat(32)}`;
export const AUTH_TOKEN = 'a'.repeat(32);
export const TWILIO_NUMBER = '+15550001111';
export const PATIENT = '+15550002222';

/** A fake carrier that records what the engine sends; it can be told to refuse the next send. */
export class RecordingSender implements MessageSender {
  readonly sent: MessageRecord[] = [];
  private refusal: TwilioApiError | undefined;
  private gate: Promise<void> | undefined;
  /** Sends currently held at the gate. */
  waiting = 0;

  /** Holds every send until the returned function is called (to catch an execution mid-widget). */
  hold(): () => void {
    let release: () => void = () => undefined;
    this.gate = new Promise<void>((resolve) => (release = resolve));
    return () => {
      this.gate = undefined;
      release();
    };
  }

  refuseNext(err = new TwilioApiError(400, 21610, 'Attempt to send to unsubscribed recipient')): void {
    this.refusal = err;
  }

  async send(req: OutboundMessageRequest): Promise<MessageRecord> {
    if (this.gate) {
      this.waiting++;
      await this.gate;
      this.waiting--;
    }
    if (this.refusal) {
      const err = this.refusal;
      this.refusal = undefined;
      throw err;
    }
    const at = new Date();
    const record: MessageRecord = {
      sid: newSid('SM'),
      accountSid: ACCOUNT_SID,
      from: req.from,
      to: req.to,
      body: req.body,
      status: 'queued',
      direction: 'outbound-api',
      errorCode: null,
      errorMessage: null,
      numSegments: 1,
      numMedia: req.mediaUrl?.length ?? 0,
      dateCreated: at,
      dateUpdated: at,
      dateSent: null,
    };
    this.sent.push(record);
    return record;
  }

  bodies(): string[] {
    return this.sent.map((m) => m.body);
  }
}

export function makeEngine(overrides: Partial<StudioEngineOptions> = {}) {
  const clock = new LocalClock({ startAt: FIXTURE_NOW });
  const messages = new RecordingSender();
  const engine = new StudioEngine({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, messages, clock, ...overrides });
  return { engine, clock, messages };
}

type Json = Record<string, unknown>;

/** A Console-style trigger whose chosen events lead to `next`. */
export function trigger(next: { incomingRequest?: string; incomingMessage?: string }): Json {
  return {
    name: 'Trigger',
    type: 'trigger',
    properties: { offset: { x: 0, y: 0 } },
    transitions: [
      { event: 'incomingMessage', ...(next.incomingMessage ? { next: next.incomingMessage } : {}) },
      { event: 'incomingCall' },
      { event: 'incomingConversationMessage' },
      { event: 'incomingRequest', ...(next.incomingRequest ? { next: next.incomingRequest } : {}) },
      { event: 'incomingParent' },
    ],
  };
}

export function flow(states: Json[]): Json {
  return { description: 'test flow', initial_state: 'Trigger', flags: { allow_concurrent_calls: true }, states };
}

export function condition(subject: string, type: string, value: string): Json {
  return { friendly_name: `${type} ${value}`, arguments: [subject], type, value };
}

/** The reminder flow of docs/studio-engine.md §9, slightly extended: ask, route the reply, thank. */
export function reminderFlow(timeout = '3600'): Json {
  return flow([
    trigger({ incomingRequest: 'ask', incomingMessage: 'greet' }),
    {
      name: 'ask',
      type: 'send-and-wait-for-reply',
      properties: { from: '{{flow.channel.address}}', timeout, body: 'Hi {{flow.data.first_name}}, reply YES to confirm.' },
      transitions: [{ event: 'incomingMessage', next: 'route' }, { event: 'timeout', next: 'nudge' }, { event: 'deliveryFailure' }],
    },
    {
      name: 'route',
      type: 'split-based-on',
      properties: { input: '{{widgets.ask.inbound.Body}}' },
      transitions: [
        { event: 'noMatch', next: 'sorry' },
        { event: 'match', next: 'thanks', conditions: [condition('{{widgets.ask.inbound.Body}}', 'matches_any_of', 'yes,y')] },
      ],
    },
    message('thanks', 'Confirmed.'),
    message('sorry', 'Sorry, we did not understand.'),
    message('nudge', 'Still there?'),
    message('greet', 'Hello! You wrote: {{trigger.message.Body}}'),
  ]);
}

export function message(name: string, body: string, next?: string): Json {
  return {
    name,
    type: 'send-message',
    properties: { from: '{{flow.channel.address}}', to: '{{contact.channel.address}}', body },
    transitions: [{ event: 'sent', ...(next ? { next } : {}) }, { event: 'failed' }],
  };
}

export function inbound(body: string, from = PATIENT, to = TWILIO_NUMBER): Record<string, string> {
  return {
    Body: body,
    From: from,
    To: to,
    MessageSid: newSid('SM'),
    SmsStatus: 'received',
    NumMedia: '0',
    AccountSid: ACCOUNT_SID,
    ApiVersion: '2010-04-01',
  };
}
