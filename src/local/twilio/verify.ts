import { randomInt } from 'node:crypto';
import { isE164, normaliseAddress } from '../phones/sms';
import { TwilioApiError, type MessageSender } from './contracts';
import { newSid } from './rest';

export interface VerifyService {
  sid: string;
  accountSid: string;
  friendlyName: string;
  codeLength: number;
  dateCreated: Date;
  dateUpdated: Date;
}

export type VerificationStatus = 'pending' | 'approved' | 'canceled' | 'expired' | 'max_attempts_reached';

/** A verification as the API shows it; the code itself never leaves LocalVerify except via lastCodeFor. */
export interface Verification {
  sid: string;
  serviceSid: string;
  accountSid: string;
  to: string;
  channel: 'sms';
  status: VerificationStatus;
  valid: boolean;
  sendCodeAttempts: { attemptSid: string; channel: 'sms'; time: Date }[];
  dateCreated: Date;
  dateUpdated: Date;
}

interface Pending extends Verification {
  code: string;
  checks: number;
  expiresAt: number;
}

export interface LocalVerifyOptions {
  accountSid: string;
  /** The carrier: codes go out as ordinary SMS to the virtual phone. */
  sender: MessageSender;
  /** The number codes are sent from (a function, so it may follow the carrier's numbers). */
  from: string | (() => string | undefined);
  clock: { now(): number };
  /** Twilio: a code is valid for 10 minutes. */
  ttlMs?: number;
  /** Twilio: 5 check attempts per verification (60202 after that). */
  maxChecks?: number;
  /** Twilio: 5 sends per verification (60203 after that). */
  maxSends?: number;
}

function invalid(param: string): TwilioApiError {
  return new TwilioApiError(400, 60200, `Invalid parameter \`${param}\``);
}

/** Twilio Verify v2 (SMS channel) with codes sent through the local carrier. */
export class LocalVerify {
  private readonly services = new Map<string, VerifyService>();
  /** Pending verifications by service SID, then by `To`. */
  private readonly pending = new Map<string, Map<string, Pending>>();
  private readonly ttlMs: number;
  private readonly maxChecks: number;
  private readonly maxSends: number;

  constructor(private readonly options: LocalVerifyOptions) {
    this.ttlMs = options.ttlMs ?? 10 * 60_000;
    this.maxChecks = options.maxChecks ?? 5;
    this.maxSends = options.maxSends ?? 5;
  }

  get accountSid(): string {
    return this.options.accountSid;
  }

  createService(input: { friendlyName: string; codeLength?: number }): VerifyService {
    const friendlyName = input.friendlyName.trim();
    if (friendlyName === '' || friendlyName.length > 30) throw invalid('FriendlyName');
    const codeLength = input.codeLength ?? 6;
    if (!Number.isInteger(codeLength) || codeLength < 4 || codeLength > 10) throw invalid('CodeLength');
    const now = this.now();
    const service: VerifyService = {
      sid: newSid('VA'),
      accountSid: this.accountSid,
      friendlyName,
      codeLength,
      dateCreated: now,
      dateUpdated: now,
    };
    this.services.set(service.sid, service);
    this.pending.set(service.sid, new Map());
    return { ...service };
  }

  service(sid: string): VerifyService | undefined {
    const s = this.services.get(sid);
    return s && { ...s };
  }

  listServices(): VerifyService[] {
    return [...this.services.values()].map((s) => ({ ...s }));
  }

  deleteService(sid: string): boolean {
    this.pending.delete(sid);
    return this.services.delete(sid);
  }

  /**
   * Sends a code by SMS. A new request for a `To` with a pending verification keeps its SID and
   * replaces its code (the old one stops working) and its expiry.
   */
  async startVerification(serviceSid: string, input: { to: string; channel: string }): Promise<Verification> {
    const service = this.requireService(serviceSid);
    const to = normaliseAddress(input.to);
    if (!isE164(to)) throw invalid('To');
    if (input.channel !== 'sms') throw new TwilioApiError(400, 60200, 'Invalid parameter `Channel`: the local stand-in supports sms only');
    const existing = this.live(serviceSid, to);
    if (existing && existing.sendCodeAttempts.length >= this.maxSends) throw new TwilioApiError(429, 60203, 'Max send attempts reached');

    const from = typeof this.options.from === 'function' ? this.options.from() : this.options.from;
    if (!from) throw new TwilioApiError(500, 20500, 'Local Verify has no sender number: add a phone number to the carrier');
    const code = String(randomInt(0, 10 ** service.codeLength)).padStart(service.codeLength, '0');
    // Sent before anything is stored, so a refused SMS (e.g. 21610) leaves no verification behind.
    await this.options.sender.send({ from, to, body: `Your ${service.friendlyName} verification code is: ${code}` });

    const now = this.now();
    const attempt = { attemptSid: newSid('VL'), channel: 'sms' as const, time: now };
    const v: Pending = existing ?? {
      sid: newSid('VE'),
      serviceSid,
      accountSid: this.accountSid,
      to,
      channel: 'sms',
      status: 'pending',
      valid: false,
      sendCodeAttempts: [],
      dateCreated: now,
      dateUpdated: now,
      code,
      checks: 0,
      expiresAt: 0,
    };
    v.code = code;
    v.expiresAt = now.getTime() + this.ttlMs;
    v.dateUpdated = now;
    v.sendCodeAttempts.push(attempt);
    this.pending.get(serviceSid)?.set(to, v);
    return view(v);
  }

  /**
   * Checks a code: right → approved and consumed (later checks find nothing, 20404); wrong →
   * still pending; after `maxChecks` checks → 60202; expired or unknown → 20404.
   */
  checkVerification(serviceSid: string, input: { to?: string; verificationSid?: string; code: string }): Verification {
    this.requireService(serviceSid);
    if (!input.code) throw invalid('Code');
    let v: Pending | undefined;
    if (input.verificationSid) v = this.bySid(serviceSid, input.verificationSid);
    else if (input.to) v = this.live(serviceSid, normaliseAddress(input.to));
    else throw new TwilioApiError(400, 60200, 'Invalid parameter: either `To` or `VerificationSid` is required');
    if (!v) throw new TwilioApiError(404, 20404, `The requested resource /Services/${serviceSid}/VerificationCheck was not found`);
    if (v.checks >= this.maxChecks) throw new TwilioApiError(429, 60202, 'Max check attempts reached');

    v.checks += 1;
    v.dateUpdated = this.now();
    if (input.code === v.code) {
      v.status = 'approved';
      v.valid = true;
      this.pending.get(serviceSid)?.delete(v.to);
    }
    return view(v);
  }

  verification(serviceSid: string, sid: string): Verification {
    this.requireService(serviceSid);
    const v = this.bySid(serviceSid, sid);
    if (!v) throw new TwilioApiError(404, 20404, `The requested resource /Services/${serviceSid}/Verifications/${sid} was not found`);
    return view(v);
  }

  /** `Status=canceled` or `approved` ends a pending verification (Twilio's update). */
  updateVerification(serviceSid: string, sid: string, status: string): Verification {
    const found = this.verification(serviceSid, sid);
    if (status !== 'canceled' && status !== 'approved') throw invalid('Status');
    const v = this.bySid(serviceSid, sid);
    if (!v) return found;
    v.status = status;
    v.valid = status === 'approved';
    v.dateUpdated = this.now();
    this.pending.get(serviceSid)?.delete(v.to);
    return view(v);
  }

  /** The code most recently sent to a phone and still pending (the admin page shows it). */
  lastCodeFor(phone: string): string | undefined {
    const to = normaliseAddress(phone);
    let latest: Pending | undefined;
    for (const serviceSid of this.pending.keys()) {
      const v = this.live(serviceSid, to);
      if (v && (!latest || v.dateUpdated >= latest.dateUpdated)) latest = v;
    }
    return latest?.code;
  }

  private now(): Date {
    return new Date(this.options.clock.now());
  }

  private requireService(sid: string): VerifyService {
    const s = this.services.get(sid);
    if (!s) throw new TwilioApiError(404, 20404, `The requested resource /Services/${sid} was not found`);
    return s;
  }

  /** The pending verification for `to`, dropping it once its code has expired on the clock. */
  private live(serviceSid: string, to: string): Pending | undefined {
    const byTo = this.pending.get(serviceSid);
    const v = byTo?.get(to);
    if (v && this.options.clock.now() > v.expiresAt) {
      byTo?.delete(to);
      return undefined;
    }
    return v;
  }

  private bySid(serviceSid: string, sid: string): Pending | undefined {
    for (const v of this.pending.get(serviceSid)?.values() ?? []) if (v.sid === sid) return this.live(serviceSid, v.to);
    return undefined;
  }
}

function view(v: Pending): Verification {
  return {
    sid: v.sid,
    serviceSid: v.serviceSid,
    accountSid: v.accountSid,
    to: v.to,
    channel: v.channel,
    status: v.status,
    valid: v.valid,
    sendCodeAttempts: v.sendCodeAttempts.map((a) => ({ ...a })),
    dateCreated: v.dateCreated,
    dateUpdated: v.dateUpdated,
  };
}
