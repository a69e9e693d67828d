/** SMS facts the carrier needs: addresses, segment counting, opt-out keywords, TwiML replies. */

/**
 * Structural E.164 only (the product's one rule): fictional 555 numbers are fine locally, real
 * numbering plans are not checked. Twilio accepts common punctuation in numbers; so does the stand-in.
 */
export { isE164, compactPhone as normaliseAddress } from '../../domain/e164';

/** Twilio's body limit for one (concatenated) message. */
export const MAX_BODY_LENGTH = 1600;

const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM7_EXTENDED = '^{}\\[~]|€\f';

/**
 * Segments as a handset counts them: GSM-7 holds 160 septets alone or 153 per part when split
 * (extension characters take two); anything outside GSM-7 makes the whole message UCS-2, 70 or 67
 * UTF-16 units per part.
 */
export function countSegments(body: string): number {
  let septets = 0;
  let gsm = true;
  for (const ch of body) {
    if (GSM7_BASIC.includes(ch)) septets += 1;
    else if (GSM7_EXTENDED.includes(ch)) septets += 2;
    else {
      gsm = false;
      break;
    }
  }
  if (gsm) return septets <= 160 ? 1 : Math.ceil(septets / 153);
  const units = body.length;
  return units <= 70 ? 1 : Math.ceil(units / 67);
}

export type OptOutType = 'STOP' | 'START' | 'HELP';

/** Twilio's default (Advanced Opt-Out) keyword sets. */
const STOP_WORDS = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT']);
const START_WORDS = new Set(['START', 'UNSTOP']);
const HELP_WORDS = new Set(['HELP', 'INFO']);

/**
 * The keyword a whole message amounts to: trimmed, case-insensitive, trailing punctuation ignored.
 * YES re-subscribes only someone who is opted out; otherwise it is an ordinary reply.
 */
export function classifyKeyword(body: string, optedOut: boolean): OptOutType | undefined {
  const word = body
    .trim()
    .replace(/[\s.!?,;:]+$/u, '')
    .toUpperCase();
  if (STOP_WORDS.has(word)) return 'STOP';
  if (START_WORDS.has(word) || (word === 'YES' && optedOut)) return 'START';
  if (HELP_WORDS.has(word)) return 'HELP';
  return undefined;
}

/** Twilio's standard confirmations, sent by the carrier itself (the app may not text an opted-out phone). */
export const OPT_OUT_CONFIRMATION =
  'You have successfully been unsubscribed. You will not receive any more messages from this number. Reply START to resubscribe.';
export const OPT_IN_CONFIRMATION =
  'You have successfully been re-subscribed to messages from this number. Reply HELP for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply.';

export interface TwimlMessage {
  body: string;
  to?: string;
  from?: string;
}

/** CDATA becomes escaped text first, so tag stripping and entity decoding treat it as text. */
function escapeCdata(text: string): string {
  return text.replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, (_m, inner: string) =>
    inner.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'),
  );
}

function decodeXml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|lt|gt|amp|quot|apos);/gi, (_m, e: string) => {
    const k = e.toLowerCase();
    if (k.startsWith('#x')) return String.fromCodePoint(parseInt(k.slice(2), 16));
    if (k.startsWith('#')) return String.fromCodePoint(parseInt(k.slice(1), 10));
    return { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }[k] ?? '';
  });
}

function attributes(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/([A-Za-z_][\w.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    out[(m[1] ?? '').toLowerCase()] = decodeXml(m[2] ?? m[3] ?? '');
  }
  return out;
}

/**
 * The <Message> verbs of a TwiML messaging response, in order. A deliberately small reader: it
 * understands what MessagingResponse produces (text or <Body>, to/from attributes, <Media> ignored).
 */
export function parseTwimlMessages(xml: string): TwimlMessage[] {
  const out: TwimlMessage[] = [];
  for (const m of xml.matchAll(/<Message\b([^>]*?)(?:\/>|>([\s\S]*?)<\/Message\s*>)/g)) {
    const attrs = attributes(m[1] ?? '');
    const inner = escapeCdata(m[2] ?? '');
    const bodyTag = /<Body\b[^>]*>([\s\S]*?)<\/Body\s*>/.exec(inner);
    const raw = bodyTag ? (bodyTag[1] ?? '') : inner.replace(/<Media\b[^>]*>[\s\S]*?<\/Media\s*>/g, '').replace(/<[^>]+>/g, '');
    out.push({
      body: decodeXml(raw).trim(),
      ...(attrs.to ? { to: attrs.to } : {}),
      ...(attrs.from ? { from: attrs.from } : {}),
    });
  }
  return out;
}
