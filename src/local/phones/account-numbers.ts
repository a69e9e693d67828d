import { EventEmitter } from 'node:events';
import { TwilioApiError } from '../twilio/contracts';
import { newSid } from '../twilio/rest';
import type { CarrierEvents, MessagingService, NumberSettings, TwilioNumber } from './carrier-types';
import { isE164, normaliseAddress } from './sms';

function copyNumber(n: TwilioNumber): TwilioNumber {
  return { ...n };
}

/** US-style display name Twilio gives a new number, e.g. `(555) 000-1111`. */
function defaultFriendlyName(e164: string): string {
  const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164);
  return m ? `(${m[1]}) ${m[2]}-${m[3]}` : e164;
}

/**
 * The account's side of the local carrier: its phone numbers (IncomingPhoneNumbers) and Messaging
 * Services with their sender pools. The carrier (carrier.ts) adds the handsets and the messages.
 */
export class AccountNumbers extends EventEmitter<CarrierEvents> {
  protected readonly numbers = new Map<string, TwilioNumber>();
  protected readonly services = new Map<string, MessagingService>();

  constructor(
    readonly accountSid: string,
    protected readonly clock: { now(): number },
  ) {
    super();
  }

  // ---- the account's numbers

  addNumber(e164: string, settings: NumberSettings = {}): string {
    const phoneNumber = normaliseAddress(e164);
    if (!isE164(phoneNumber)) throw new TwilioApiError(400, 21421, 'PhoneNumber is invalid.');
    if (this.findNumber(phoneNumber)) throw new TwilioApiError(400, 21422, 'PhoneNumber Requested is Not Available.');
    const now = new Date(this.clock.now());
    const n: TwilioNumber = {
      sid: newSid('PN'),
      phoneNumber,
      friendlyName: settings.friendlyName ?? defaultFriendlyName(phoneNumber),
      smsUrl: settings.smsUrl ?? '',
      smsMethod: settings.smsMethod ?? 'POST',
      voiceUrl: settings.voiceUrl ?? '',
      voiceMethod: settings.voiceMethod ?? 'POST',
      dateCreated: now,
      dateUpdated: now,
    };
    this.numbers.set(n.sid, n);
    return n.sid;
  }

  /** The account's numbers, oldest first (the first is the default sender of virtual phones). */
  listNumbers(): TwilioNumber[] {
    return [...this.numbers.values()].map(copyNumber);
  }

  getNumber(sid: string): TwilioNumber | undefined {
    const n = this.numbers.get(sid);
    return n && copyNumber(n);
  }

  findNumber(e164: string): TwilioNumber | undefined {
    const wanted = normaliseAddress(e164);
    for (const n of this.numbers.values()) if (n.phoneNumber === wanted) return copyNumber(n);
    return undefined;
  }

  updateNumber(sid: string, settings: NumberSettings): TwilioNumber {
    const n = this.numbers.get(sid);
    if (!n)
      throw new TwilioApiError(
        404,
        20404,
        `The requested resource /2010-04-01/Accounts/${this.accountSid}/IncomingPhoneNumbers/${sid}.json was not found`,
      );
    if (settings.smsUrl !== undefined) n.smsUrl = settings.smsUrl;
    if (settings.smsMethod !== undefined) n.smsMethod = settings.smsMethod;
    if (settings.friendlyName !== undefined) n.friendlyName = settings.friendlyName;
    if (settings.voiceUrl !== undefined) n.voiceUrl = settings.voiceUrl;
    if (settings.voiceMethod !== undefined) n.voiceMethod = settings.voiceMethod;
    n.dateUpdated = new Date(this.clock.now());
    return copyNumber(n);
  }

  // ---- Messaging Services

  createService(settings: { friendlyName: string; statusCallback?: string }): string {
    const sid = newSid('MG');
    this.services.set(sid, { sid, friendlyName: settings.friendlyName, statusCallback: settings.statusCallback ?? '', phoneNumbers: [] });
    return sid;
  }

  getService(sid: string): MessagingService | undefined {
    const m = this.services.get(sid);
    return m && { ...m, phoneNumbers: [...m.phoneNumbers] };
  }

  updateService(
    sid: string,
    settings: { statusCallback?: string; friendlyName?: string; useInboundWebhookOnNumber?: boolean },
  ): MessagingService {
    const m = this.services.get(sid);
    if (!m) throw new TwilioApiError(404, 20404, `The requested resource /v1/Services/${sid} was not found`);
    if (settings.statusCallback !== undefined) m.statusCallback = settings.statusCallback;
    if (settings.friendlyName !== undefined) m.friendlyName = settings.friendlyName;
    if (settings.useInboundWebhookOnNumber !== undefined) m.useInboundWebhookOnNumber = settings.useInboundWebhookOnNumber;
    return { ...m, phoneNumbers: [...m.phoneNumbers] };
  }

  /** Adds one of the account's numbers to the service's sender pool. */
  addNumberToService(serviceSid: string, e164: string): void {
    const m = this.services.get(serviceSid);
    const n = this.findNumber(e164);
    if (!m) throw new TwilioApiError(404, 20404, `The requested resource /v1/Services/${serviceSid} was not found`);
    if (!n) throw new TwilioApiError(400, 21421, 'PhoneNumber is not one of the account numbers.');
    if (!m.phoneNumbers.includes(n.phoneNumber)) m.phoneNumbers.push(n.phoneNumber);
  }
}
