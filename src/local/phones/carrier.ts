import { describeError, log } from '../../log';
import {
  TwilioApiError,
  type InboundWebhookParams,
  type MessageRecord,
  type MessageSender,
  type MessageStatus,
  type OutboundMessageRequest,
  type StudioInbound,
} from '../twilio/contracts';
import { newSid } from '../twilio/rest';
import { AccountNumbers } from './account-numbers';
import { inboundWebhookParams, signedRequest, statusCallbackParams } from './webhooks';
import { DELIVERY_FAILURES, type CarrierOptions, type DeliveryFailureCode, type PhoneSummary, type TwilioNumber } from './carrier-types';
import {
  classifyKeyword,
  countSegments,
  isE164,
  MAX_BODY_LENGTH,
  normaliseAddress,
  OPT_IN_CONFIRMATION,
  OPT_OUT_CONFIRMATION,
  parseTwimlMessages,
  type OptOutType,
} from './sms';

export {
  DELIVERY_FAILURES,
  type CarrierEvents,
  type CarrierOptions,
  type DeliveryFailureCode,
  type MessagingService,
  type NumberSettings,
  type PhoneSummary,
  type TwilioNumber,
} from './carrier-types';

interface Entry {
  record: MessageRecord;
  mediaUrls: string[];
  statusCallback?: string;
}

/** `https://webhooks.twilio.com/v1/Accounts/{AC}/Flows/{FW}`: Studio's inbound webhook (docs/studio-engine.md §4.2). */
const STUDIO_WEBHOOK = /^https:\/\/webhooks\.twilio\.com\/v1\/Accounts\/(AC[0-9a-fA-F]{32})\/Flows\/(FW[0-9a-fA-F]{32})\/?$/;

/** The phone a message belongs to: the recipient of outbound, the sender of inbound. */
export function conversationPhone(record: MessageRecord): string {
  return record.direction === 'inbound' ? record.from : record.to;
}

function copy(record: MessageRecord): MessageRecord {
  return { ...record };
}

/**
 * The local carrier: the account's Twilio numbers, every virtual phone's conversation, delivery,
 * Twilio's default opt-out handling and inbound routing (webhook or Studio). Logs carry SIDs only.
 */
export class Carrier extends AccountNumbers implements MessageSender {
  /** The Studio engine inbound messages are handed to when a number's webhook is a flow. */
  studio: StudioInbound | undefined;

  private readonly authToken: string;
  private readonly fetchFn: typeof fetch;
  private readonly webhookTimeoutMs: number;

  private readonly messageLog: Entry[] = [];
  private readonly bySid = new Map<string, Entry>();
  private readonly conversations = new Map<string, MessageRecord[]>();
  private readonly optOuts = new Set<string>();
  private readonly failures = new Map<string, DeliveryFailureCode>();
  private readonly pending = new Set<Promise<unknown>>();

  constructor(options: CarrierOptions) {
    super(options.accountSid, options.clock);
    this.authToken = options.authToken;
    this.studio = options.studio;
    this.fetchFn = options.fetch ?? fetch;
    this.webhookTimeoutMs = options.webhookTimeoutMs ?? 15_000;
  }

  // ---- simulated handsets

  /** Texts to `phone` fail with `code` from now on (undefined: delivered again). */
  setDeliveryFailure(phone: string, code: DeliveryFailureCode | undefined): void {
    const p = normaliseAddress(phone);
    if (code === undefined) this.failures.delete(p);
    else this.failures.set(p, code);
  }

  deliveryFailure(phone: string): DeliveryFailureCode | undefined {
    return this.failures.get(normaliseAddress(phone));
  }

  // ---- messages

  /** The Messages API: what Twilio refuses throws a TwilioApiError, nothing is recorded then. */
  async send(request: OutboundMessageRequest): Promise<MessageRecord> {
    const to = normaliseAddress(request.to);
    const requested = normaliseAddress(request.from);
    const service = requested.startsWith('MG') ? this.services.get(requested) : undefined;
    if (requested.startsWith('MG') && !service) throw new TwilioApiError(400, 21701, `The Messaging Service ${requested} does not exist`);
    if (service && service.phoneNumbers.length === 0)
      throw new TwilioApiError(400, 21704, 'The Messaging Service contains no phone numbers');
    // A service sends from its sender pool; locally that is its first number.
    const from = service ? (service.phoneNumbers[0] ?? '') : requested;
    const body = request.body;
    const mediaUrls = request.mediaUrl ?? [];
    if (!isE164(to)) throw new TwilioApiError(400, 21211, `The 'To' number ${request.to} is not a valid phone number.`);
    if (from === '') throw new TwilioApiError(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message.");
    if (!this.findNumber(from)) {
      throw new TwilioApiError(
        400,
        21606,
        `The From phone number ${request.from} is not a valid, SMS-capable inbound phone number or short code for your account.`,
      );
    }
    if (to === from) throw new TwilioApiError(400, 21266, "'To' and 'From' number cannot be the same.");
    if (body === '' && mediaUrls.length === 0) throw new TwilioApiError(400, 21602, 'Message body is required.');
    if (body.length > MAX_BODY_LENGTH) {
      throw new TwilioApiError(400, 21617, `The concatenated message body exceeds the ${MAX_BODY_LENGTH} character limit.`);
    }
    if (this.isOptedOut(from, to)) throw new TwilioApiError(400, 21610, 'Attempt to send to unsubscribed recipient');
    // A message sent through a service reports to the service's callback unless it names its own.
    const statusCallback = request.statusCallback ?? (service?.statusCallback || undefined);
    return this.deliver({
      from,
      to,
      body,
      mediaUrls,
      ...(statusCallback ? { statusCallback } : {}),
      ...(service ? { service: service.sid } : {}),
    });
  }

  /**
   * An SMS from a virtual phone to one of the account's numbers, as a carrier hands it to Twilio:
   * opt-out keywords are applied at once; the confirmation text and the webhook / Studio routing
   * follow in the background (`idle()` waits for them). Returns the recorded inbound message.
   */
  async receive(fromPhone: string, toNumber: string, body: string): Promise<MessageRecord> {
    const phone = normaliseAddress(fromPhone);
    if (!isE164(phone)) throw new TwilioApiError(400, 21211, 'The phone is not a valid E.164 number.');
    const number = this.findNumber(toNumber);
    if (!number) throw new TwilioApiError(404, 20404, "The 'To' number is not one of this account's numbers.");
    if (body.length > MAX_BODY_LENGTH) {
      throw new TwilioApiError(400, 21617, `The concatenated message body exceeds the ${MAX_BODY_LENGTH} character limit.`);
    }
    const now = new Date(this.clock.now());
    const record: MessageRecord = {
      sid: newSid('SM'),
      accountSid: this.accountSid,
      from: phone,
      to: number.phoneNumber,
      body,
      status: 'received',
      direction: 'inbound',
      errorCode: null,
      errorMessage: null,
      numSegments: countSegments(body),
      numMedia: 0,
      dateCreated: now,
      dateUpdated: now,
      dateSent: now,
    };
    this.store({ record, mediaUrls: [] });

    const optOutType = classifyKeyword(body, this.isOptedOut(number.phoneNumber, phone));
    if (optOutType === 'STOP') this.optOuts.add(optOutKey(number.phoneNumber, phone));
    if (optOutType === 'START') this.optOuts.delete(optOutKey(number.phoneNumber, phone));
    this.track(this.afterInbound(record, optOutType));
    return copy(record);
  }

  isOptedOut(number: string, phone: string): boolean {
    return this.optOuts.has(optOutKey(normaliseAddress(number), normaliseAddress(phone)));
  }

  /** The account's message log, oldest first (the REST list reverses it, as Twilio lists newest first). */
  messages(): MessageRecord[] {
    return this.messageLog.map((e) => copy(e.record));
  }

  message(sid: string): MessageRecord | undefined {
    const e = this.bySid.get(sid);
    return e && copy(e.record);
  }

  mediaUrls(sid: string): string[] {
    return [...(this.bySid.get(sid)?.mediaUrls ?? [])];
  }

  /** Removes a message from the account's log; the phone keeps what it received. */
  deleteMessage(sid: string): boolean {
    const e = this.bySid.get(sid);
    if (!e) return false;
    this.bySid.delete(sid);
    this.messageLog.splice(this.messageLog.indexOf(e), 1);
    return true;
  }

  /** Twilio's redaction: `POST Messages/{sid}.json Body=""` blanks the stored body. */
  redactMessage(sid: string): MessageRecord | undefined {
    const e = this.bySid.get(sid);
    if (!e) return undefined;
    e.record.body = '';
    e.record.dateUpdated = new Date(this.clock.now());
    return copy(e.record);
  }

  /** Everything a virtual phone sent and received, oldest first. */
  conversation(phone: string): MessageRecord[] {
    return (this.conversations.get(normaliseAddress(phone)) ?? []).map(copy);
  }

  phones(): PhoneSummary[] {
    return [...this.conversations.entries()].map(([phone, messages]) => ({
      phone,
      messageCount: messages.length,
      lastMessageAt: messages.at(-1)?.dateCreated ?? null,
      optedOutOf: [...this.numbers.values()].map((n) => n.phoneNumber).filter((n) => this.isOptedOut(n, phone)),
      ...(this.failures.has(phone) ? { deliveryFailure: this.failures.get(phone) } : {}),
    }));
  }

  /** Resolves once every delivery, status callback, webhook and Studio hand-off in flight is done. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  // ---- internals

  private store(entry: Entry): void {
    this.messageLog.push(entry);
    this.bySid.set(entry.record.sid, entry);
    const phone = conversationPhone(entry.record);
    const list = this.conversations.get(phone) ?? [];
    list.push(entry.record);
    this.conversations.set(phone, list);
    this.emit('message', copy(entry.record));
  }

  private track(work: Promise<unknown>): void {
    const p = work.catch((err: unknown) => log('error', 'carrier background work failed', { error: describeError(err) }));
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /**
   * Records an outbound message as queued (accepted, when a Messaging Service sends it) and moves
   * it on shortly after: to sent and delivered, or to sent and undelivered with the phone's error.
   */
  private deliver(m: {
    from: string;
    to: string;
    body: string;
    mediaUrls: string[];
    statusCallback?: string;
    service?: string;
  }): MessageRecord {
    const now = new Date(this.clock.now());
    const record: MessageRecord = {
      sid: newSid(m.mediaUrls.length > 0 ? 'MM' : 'SM'),
      accountSid: this.accountSid,
      from: m.from,
      to: m.to,
      body: m.body,
      status: m.service ? 'accepted' : 'queued',
      direction: 'outbound-api',
      errorCode: null,
      errorMessage: null,
      ...(m.service ? { messagingServiceSid: m.service } : {}),
      numSegments: countSegments(m.body),
      numMedia: m.mediaUrls.length,
      dateCreated: now,
      dateUpdated: now,
      dateSent: null,
    };
    const entry: Entry = { record, mediaUrls: m.mediaUrls, ...(m.statusCallback ? { statusCallback: m.statusCallback } : {}) };
    this.store(entry);
    const snapshot = copy(record);
    this.track(this.progress(entry));
    return snapshot;
  }

  private async progress(entry: Entry): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    const failure = this.failures.get(entry.record.to);
    // No callback for the initial status; a service's message is queued first (Twilio's lifecycle).
    const steps: MessageStatus[] = [
      ...(entry.record.status === 'accepted' ? (['queued'] as const) : []),
      'sent',
      failure ? 'undelivered' : 'delivered',
    ];
    for (const status of steps) {
      this.setStatus(entry, status, status === 'undelivered' ? failure : undefined);
      if (entry.statusCallback) await this.postStatusCallback(entry, status);
    }
  }

  private setStatus(entry: Entry, status: MessageStatus, failure?: DeliveryFailureCode): void {
    const now = new Date(this.clock.now());
    if (failure) {
      entry.record.errorCode = failure;
      entry.record.errorMessage = DELIVERY_FAILURES[failure];
    }
    entry.record.status = status;
    entry.record.dateUpdated = now;
    if (status === 'sent') entry.record.dateSent = now;
    this.emit('status', copy(entry.record));
  }

  private async postStatusCallback(entry: Entry, status: MessageStatus): Promise<void> {
    const r = entry.record;
    const params = statusCallbackParams(r, status);
    try {
      const res = await this.signedRequest(entry.statusCallback ?? '', 'POST', params);
      if (!res.ok) log('warn', 'status callback answered with an error', { message_sid: r.sid, status: res.status });
    } catch (err) {
      log('warn', 'status callback failed', { message_sid: r.sid, error: describeError(err) });
    }
  }

  private async afterInbound(record: MessageRecord, optOutType: OptOutType | undefined): Promise<void> {
    // The one text Twilio sends on its own: the STOP / START confirmation (HELP is the app's to answer).
    if (optOutType === 'STOP' || optOutType === 'START') {
      this.deliver({
        from: record.to,
        to: record.from,
        body: optOutType === 'STOP' ? OPT_OUT_CONFIRMATION : OPT_IN_CONFIRMATION,
        mediaUrls: [],
      });
    }
    const params = inboundWebhookParams(record, optOutType);
    const number = this.findNumber(record.to);
    if (!number?.smsUrl) return;

    const studio = STUDIO_WEBHOOK.exec(number.smsUrl);
    if (studio) {
      await this.toStudio(record, studio[1] ?? '', studio[2] ?? '', params);
      return;
    }
    await this.toWebhook(record, number, params);
  }

  private async toStudio(record: MessageRecord, accountSid: string, flowSid: string, params: InboundWebhookParams): Promise<void> {
    if (accountSid !== this.accountSid) {
      log('warn', 'inbound message for a flow of another account was dropped', { message_sid: record.sid, flow_sid: flowSid });
      return;
    }
    if (!this.studio) {
      log('warn', 'inbound message for a Studio flow, but no Studio engine is attached', { message_sid: record.sid, flow_sid: flowSid });
      return;
    }
    const result = await this.studio.handleInboundMessage(flowSid, params);
    log('debug', 'inbound message handed to Studio', {
      message_sid: record.sid,
      flow_sid: flowSid,
      outcome: result.outcome,
      ...(result.executionSid ? { execution_sid: result.executionSid } : {}),
    });
  }

  private async toWebhook(record: MessageRecord, number: TwilioNumber, params: InboundWebhookParams): Promise<void> {
    let text: string;
    try {
      const res = await this.signedRequest(number.smsUrl, number.smsMethod, params);
      text = await res.text();
      if (!res.ok) {
        // Twilio's error 11200: the webhook answered with an HTTP error; nothing is sent back.
        log('warn', 'SMS webhook answered with an error', { message_sid: record.sid, status: res.status, code: '11200' });
        return;
      }
    } catch (err) {
      log('warn', 'SMS webhook could not be reached', { message_sid: record.sid, code: '11200', error: describeError(err) });
      return;
    }
    for (const reply of parseTwimlMessages(text)) {
      try {
        await this.send({ from: reply.from ?? number.phoneNumber, to: reply.to ?? record.from, body: reply.body });
      } catch (err) {
        if (!(err instanceof TwilioApiError)) throw err;
        log('warn', 'TwiML reply refused', { message_sid: record.sid, code: String(err.code) });
      }
    }
  }

  private signedRequest(url: string, method: 'GET' | 'POST', params: Record<string, string>): Promise<Response> {
    return signedRequest({ authToken: this.authToken, fetch: this.fetchFn, timeoutMs: this.webhookTimeoutMs }, url, method, params);
  }
}

function optOutKey(number: string, phone: string): string {
  return `${number}|${phone}`;
}
