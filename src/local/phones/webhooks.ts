import twilio from 'twilio';
import type { InboundWebhookParams, MessageRecord, MessageStatus } from '../twilio/contracts';
import type { OptOutType } from './sms';

/* What the local carrier posts to the app, shaped and signed as Twilio's webhooks are. */

/** A message status callback's form fields. */
export function statusCallbackParams(r: MessageRecord, status: MessageStatus): Record<string, string> {
  return {
    AccountSid: r.accountSid,
    ApiVersion: '2010-04-01',
    From: r.from,
    To: r.to,
    MessageSid: r.sid,
    SmsSid: r.sid,
    MessageStatus: status,
    SmsStatus: status,
    ...(r.messagingServiceSid ? { MessagingServiceSid: r.messagingServiceSid } : {}),
    ...(r.errorCode !== null ? { ErrorCode: String(r.errorCode) } : {}),
  };
}

/** An inbound SMS webhook's form fields (OptOutType when Twilio's opt-out layer recognised a keyword). */
export function inboundWebhookParams(record: MessageRecord, optOutType: OptOutType | undefined): InboundWebhookParams {
  return {
    MessageSid: record.sid,
    SmsSid: record.sid,
    SmsMessageSid: record.sid,
    AccountSid: record.accountSid,
    From: record.from,
    To: record.to,
    Body: record.body,
    NumMedia: '0',
    NumSegments: String(record.numSegments),
    SmsStatus: 'received',
    ApiVersion: '2010-04-01',
    ...(optOutType ? { OptOutType: optOutType } : {}),
  };
}

export interface Signer {
  authToken: string;
  fetch: typeof fetch;
  timeoutMs: number;
}

/** A request signed as Twilio signs it (X-Twilio-Signature): POST params in the body, GET params in the query. */
export function signedRequest(signer: Signer, url: string, method: 'GET' | 'POST', params: Record<string, string>): Promise<Response> {
  const form = new URLSearchParams(params).toString();
  const target = method === 'GET' ? `${url}${url.includes('?') ? '&' : '?'}${form}` : url;
  const signature = twilio.getExpectedTwilioSignature(signer.authToken, target, method === 'GET' ? {} : params);
  return signer.fetch(target, {
    method,
    headers: {
      'X-Twilio-Signature': signature,
      'User-Agent': 'TwilioProxy/1.1',
      Accept: '*/*',
      ...(method === 'POST' ? { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' } : {}),
    },
    ...(method === 'POST' ? { body: form } : {}),
    signal: AbortSignal.timeout(signer.timeoutMs),
  });
}
