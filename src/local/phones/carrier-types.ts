import type { MessageRecord, StudioInbound } from '../twilio/contracts';

/* The local carrier's resources and options (carrier.ts keeps the behaviour). */

/** A Twilio phone number owned by the account (the IncomingPhoneNumbers resource, camelCase). */
export interface TwilioNumber {
  sid: string;
  phoneNumber: string;
  friendlyName: string;
  smsUrl: string;
  smsMethod: 'GET' | 'POST';
  voiceUrl: string;
  voiceMethod: 'GET' | 'POST';
  dateCreated: Date;
  dateUpdated: Date;
}

export interface NumberSettings {
  smsUrl?: string;
  smsMethod?: 'GET' | 'POST';
  friendlyName?: string;
  voiceUrl?: string;
  voiceMethod?: 'GET' | 'POST';
}

/** A Messaging Service (MG…): a sender pool and the status callback for everything sent through it. */
export interface MessagingService {
  sid: string;
  friendlyName: string;
  /** Where Twilio posts the status of every message sent through the service ("Delivery Status Callback"). */
  statusCallback: string;
  /** The account numbers in its sender pool, in the order added (the first one sends locally). */
  phoneNumbers: string[];
  /** "Defer to sender's webhook": replies go to the number's own webhook (the flow), not the service's. */
  useInboundWebhookOnNumber?: boolean;
}

/**
 * What happens to texts to a virtual phone: delivered (default), or refused by the handset's
 * network with one of Twilio's carrier errors after `sent`, as a landline (30006) is.
 */
export const DELIVERY_FAILURES = {
  30003: 'Unreachable destination handset',
  30005: 'Unknown destination handset',
  30006: 'Landline or unreachable carrier',
} as const;
export type DeliveryFailureCode = keyof typeof DELIVERY_FAILURES;

export interface PhoneSummary {
  phone: string;
  messageCount: number;
  lastMessageAt: Date | null;
  /** Account numbers this phone has opted out of. */
  optedOutOf: string[];
  /** Set when texts to this phone fail (see setDeliveryFailure). */
  deliveryFailure?: DeliveryFailureCode;
}

export interface CarrierEvents {
  /** A message entered a phone's conversation (outbound queued, or inbound received). */
  message: [MessageRecord];
  /** A message's delivery status changed. */
  status: [MessageRecord];
}

export interface CarrierOptions {
  accountSid: string;
  /** Signs webhooks (X-Twilio-Signature) as Twilio does with the account's auth token. */
  authToken: string;
  clock: { now(): number };
  /** The Studio engine; may be set later through `carrier.studio`. */
  studio?: StudioInbound;
  fetch?: typeof fetch;
  /** Twilio gives a webhook 15 s to answer. */
  webhookTimeoutMs?: number;
}
