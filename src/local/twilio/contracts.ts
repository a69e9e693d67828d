/**
 * Contracts between the pieces of the local Twilio stand-in. Real Twilio is one system; locally it
 * is three: the REST surface (what the `twilio` SDK calls), the carrier (virtual phones, delivery,
 * opt-out keywords, inbound routing) and the Studio engine. They meet only through these types.
 */

/** Twilio's REST error body: `{ code, message, more_info, status, details? }`. */
export class TwilioApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  toJSON() {
    return {
      code: this.code,
      message: this.message,
      more_info: `https://www.twilio.com/docs/errors/${this.code}`,
      status: this.status,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

export interface OutboundMessageRequest {
  from: string;
  to: string;
  body: string;
  mediaUrl?: string[];
  statusCallback?: string;
}

export type MessageStatus = 'accepted' | 'queued' | 'sent' | 'delivered' | 'undelivered' | 'failed' | 'received';

/** A Message as the stand-in keeps it (camelCase); the REST layer renders Twilio's snake_case JSON. */
export interface MessageRecord {
  sid: string;
  accountSid: string;
  from: string;
  to: string;
  body: string;
  status: MessageStatus;
  direction: 'outbound-api' | 'inbound';
  errorCode: number | null;
  errorMessage: string | null;
  /** Set when the message was sent through a Messaging Service (From was its MG… SID). */
  messagingServiceSid?: string;
  numSegments: number;
  numMedia: number;
  dateCreated: Date;
  dateUpdated: Date;
  dateSent: Date | null;
}

/** Sends an SMS from a Twilio number to a phone; used by the Messages API and by Studio widgets. */
export interface MessageSender {
  /** Throws TwilioApiError for what Twilio refuses (e.g. 21610 when the recipient opted out). */
  send(request: OutboundMessageRequest): Promise<MessageRecord>;
}

/** The parameters Twilio POSTs to an SMS webhook (Body, From, To, MessageSid, OptOutType, …). */
export type InboundWebhookParams = Record<string, string>;

/** What the carrier calls when an inbound SMS reaches a number whose webhook is a Studio flow. */
export interface StudioInbound {
  handleInboundMessage(
    flowSid: string,
    params: InboundWebhookParams,
  ): Promise<{ outcome: 'resumed' | 'started' | 'ignored'; executionSid?: string }>;
}
