import express, { type Request, type Router } from 'express';
import type { Carrier, NumberSettings, TwilioNumber } from '../phones/carrier';
import { TwilioApiError, type MessageRecord } from './contracts';
import { formBody, formString, rfc2822, route, twilioAuth, type StandInCredentials } from './rest';

const API_VERSION = '2010-04-01';

function notFound(path: string): TwilioApiError {
  return new TwilioApiError(404, 20404, `The requested resource ${path} was not found`);
}

function messageJson(m: MessageRecord) {
  const uri = `/${API_VERSION}/Accounts/${m.accountSid}/Messages/${m.sid}`;
  return {
    account_sid: m.accountSid,
    api_version: API_VERSION,
    body: m.body,
    date_created: rfc2822(m.dateCreated),
    date_sent: m.dateSent ? rfc2822(m.dateSent) : null,
    date_updated: rfc2822(m.dateUpdated),
    direction: m.direction,
    error_code: m.errorCode,
    error_message: m.errorMessage,
    from: m.from,
    messaging_service_sid: m.messagingServiceSid ?? null,
    num_media: String(m.numMedia),
    num_segments: String(m.numSegments),
    price: null,
    price_unit: 'USD',
    sid: m.sid,
    status: m.status,
    subresource_uris: { media: `${uri}/Media.json`, feedback: `${uri}/Feedback.json` },
    to: m.to,
    uri: `${uri}.json`,
  };
}

function numberJson(accountSid: string, n: TwilioNumber) {
  const uri = `/${API_VERSION}/Accounts/${accountSid}/IncomingPhoneNumbers/${n.sid}`;
  return {
    account_sid: accountSid,
    address_requirements: 'none',
    address_sid: null,
    api_version: API_VERSION,
    beta: false,
    bundle_sid: null,
    capabilities: { fax: false, mms: true, sms: true, voice: true },
    date_created: rfc2822(n.dateCreated),
    date_updated: rfc2822(n.dateUpdated),
    emergency_address_sid: null,
    emergency_address_status: 'unregistered',
    emergency_status: 'Inactive',
    friendly_name: n.friendlyName,
    identity_sid: null,
    origin: 'twilio',
    phone_number: n.phoneNumber,
    sid: n.sid,
    sms_application_sid: '',
    sms_fallback_method: 'POST',
    sms_fallback_url: '',
    sms_method: n.smsMethod,
    sms_url: n.smsUrl,
    status: 'in-use',
    status_callback: '',
    status_callback_method: 'POST',
    subresource_uris: { assigned_add_ons: `${uri}/AssignedAddOns.json` },
    trunk_sid: null,
    type: 'local',
    uri: `${uri}.json`,
    voice_application_sid: '',
    voice_caller_id_lookup: false,
    voice_fallback_method: 'POST',
    voice_fallback_url: null,
    voice_method: n.voiceMethod,
    voice_receive_mode: 'voice',
    voice_url: n.voiceUrl,
  };
}

function queryString(req: Request, key: string): string | undefined {
  const v = req.query[key];
  return typeof v === 'string' ? v : undefined;
}

function positiveInt(req: Request, key: string, fallback: number, max: number): number {
  const raw = queryString(req, key);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new TwilioApiError(400, 20001, `Invalid ${key}: must be a non-negative integer`);
  return Math.min(Number(raw), max);
}

/**
 * One page of a 2010-04-01 list, newest first, in Twilio's envelope. Page tokens carry the SID the
 * page continues after (PA…) or ends before (PB…), so a page stays stable while new rows arrive.
 */
function page2010<T extends { sid: string }>(
  req: Request,
  items: T[],
  listUri: string,
  key: string,
  filters: Record<string, string>,
  render: (item: T) => unknown,
) {
  const pageSize = Math.max(1, positiveInt(req, 'PageSize', 50, 1000));
  const page = positiveInt(req, 'Page', 0, Number.MAX_SAFE_INTEGER);
  const token = queryString(req, 'PageToken') ?? '';
  let start = page * pageSize;
  const at = token.length > 2 ? items.findIndex((i) => i.sid === token.slice(2)) : -1;
  if (at >= 0 && token.startsWith('PA')) start = at + 1;
  if (at >= 0 && token.startsWith('PB')) start = Math.max(0, at - pageSize);
  const rows = items.slice(start, start + pageSize);
  const uri = (p: number, pageToken?: string) => {
    const q = new URLSearchParams({ ...filters, PageSize: String(pageSize), Page: String(p) });
    if (pageToken) q.set('PageToken', pageToken);
    return `${listUri}?${q.toString()}`;
  };
  const first = rows[0];
  const last = rows.at(-1);
  return {
    [key]: rows.map(render),
    end: rows.length > 0 ? start + rows.length - 1 : start,
    first_page_uri: uri(0),
    next_page_uri: last && start + rows.length < items.length ? uri(page + 1, `PA${last.sid}`) : null,
    page,
    page_size: pageSize,
    previous_page_uri: page > 0 && first ? uri(page - 1, `PB${first.sid}`) : null,
    start,
    uri: uri(page, token || undefined),
  };
}

/** `DateSent`, `DateSent<`, `DateSent>`: a date (YYYY-MM-DD, whole UTC day) or an ISO date-time. */
function dateSentFilter(req: Request): { filters: Record<string, string>; test: (d: Date | null) => boolean } {
  const filters: Record<string, string> = {};
  const checks: ((t: number) => boolean)[] = [];
  for (const [key, op] of [
    ['DateSent', '='],
    ['DateSent<', '<'],
    ['DateSent>', '>'],
  ] as const) {
    const raw = queryString(req, key);
    if (raw === undefined) continue;
    const dayOnly = /^\d{4}-\d{2}-\d{2}$/.test(raw);
    const t = Date.parse(dayOnly ? `${raw}T00:00:00Z` : raw);
    if (Number.isNaN(t)) throw new TwilioApiError(400, 20001, `Invalid ${key}: expected YYYY-MM-DD or an ISO 8601 date-time`);
    filters[key] = raw;
    const day = Date.parse(`${new Date(t).toISOString().slice(0, 10)}T00:00:00Z`);
    const nextDay = day + 86_400_000;
    if (op === '=') checks.push((x) => x >= day && x < nextDay);
    if (op === '<') checks.push(dayOnly ? (x) => x < nextDay : (x) => x <= t);
    if (op === '>') checks.push(dayOnly ? (x) => x >= day : (x) => x >= t);
  }
  return {
    filters,
    test: (d) => checks.length === 0 || (d !== null && checks.every((c) => c(d.getTime()))),
  };
}

function method(req: Request, key: string): 'GET' | 'POST' | undefined {
  const v = formString(req, key);
  if (v === undefined) return undefined;
  const upper = v.toUpperCase();
  if (upper !== 'GET' && upper !== 'POST') throw new TwilioApiError(400, 20001, `${key} must be GET or POST`);
  return upper;
}

function numberSettings(req: Request): NumberSettings {
  const settings: NumberSettings = {};
  const smsUrl = formString(req, 'SmsUrl');
  const smsMethod = method(req, 'SmsMethod');
  const friendlyName = formString(req, 'FriendlyName');
  const voiceUrl = formString(req, 'VoiceUrl');
  const voiceMethod = method(req, 'VoiceMethod');
  if (smsUrl !== undefined) {
    if (smsUrl !== '' && !URL.canParse(smsUrl)) throw new TwilioApiError(400, 21502, `SmsUrl is not a valid URL: ${smsUrl}`);
    settings.smsUrl = smsUrl;
  }
  if (smsMethod) settings.smsMethod = smsMethod;
  if (friendlyName !== undefined) settings.friendlyName = friendlyName;
  if (voiceUrl !== undefined) settings.voiceUrl = voiceUrl;
  if (voiceMethod) settings.voiceMethod = voiceMethod;
  return settings;
}

/**
 * The Messages and IncomingPhoneNumbers resources of the 2010-04-01 API, served by the carrier.
 * Mount under the `api` product prefix (`/api`), where the redirecting SDK client sends them.
 */
export function createMessagingRouter(carrier: Carrier, credentials: () => StandInCredentials): Router {
  const router = express.Router();
  const account = `/${API_VERSION}/Accounts/:ac`;

  router.use(`/${API_VERSION}`, twilioAuth(credentials));
  router.use(account, (req, _res, next) => {
    const ac = req.params.ac;
    if (ac !== credentials().accountSid || ac !== carrier.accountSid) {
      next(notFound(`/${API_VERSION}/Accounts/${ac}`));
      return;
    }
    next();
  });

  router.post(
    `${account}/Messages.json`,
    formBody,
    route(async (req, res) => {
      // With MessagingServiceSid the service picks the sender from its pool (From is then optional).
      const mg = formString(req, 'MessagingServiceSid');
      const raw = (req.body as Record<string, unknown>).MediaUrl;
      const mediaUrl = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).filter((u): u is string => typeof u === 'string');
      const statusCallback = formString(req, 'StatusCallback');
      if (statusCallback && !URL.canParse(statusCallback)) {
        throw new TwilioApiError(400, 21609, 'Invalid StatusCallback: it is not a valid URL');
      }
      const to = formString(req, 'To');
      if (to === undefined || to === '') throw new TwilioApiError(400, 21604, "A 'To' phone number is required.");
      const message = await carrier.send({
        to,
        from: mg ?? formString(req, 'From') ?? '',
        body: formString(req, 'Body') ?? '',
        ...(mediaUrl.length > 0 ? { mediaUrl } : {}),
        ...(statusCallback ? { statusCallback } : {}),
      });
      res.status(201).json(messageJson(message));
    }),
  );

  router.get(
    `${account}/Messages.json`,
    route((req, res) => {
      const to = queryString(req, 'To');
      const from = queryString(req, 'From');
      const dates = dateSentFilter(req);
      const items = carrier
        .messages()
        .reverse()
        .filter((m) => (to === undefined || m.to === to) && (from === undefined || m.from === from) && dates.test(m.dateSent));
      const filters = { ...(to !== undefined ? { To: to } : {}), ...(from !== undefined ? { From: from } : {}), ...dates.filters };
      res.json(page2010(req, items, `/${API_VERSION}/Accounts/${carrier.accountSid}/Messages.json`, 'messages', filters, messageJson));
    }),
  );

  router.get(
    `${account}/Messages/:sid.json`,
    route((req, res) => {
      const m = carrier.message(req.params.sid ?? '');
      if (!m) throw notFound(`/${API_VERSION}/Accounts/${carrier.accountSid}/Messages/${req.params.sid}.json`);
      res.json(messageJson(m));
    }),
  );

  router.post(
    `${account}/Messages/:sid.json`,
    formBody,
    route((req, res) => {
      const sid = req.params.sid ?? '';
      if (!carrier.message(sid)) throw notFound(`/${API_VERSION}/Accounts/${carrier.accountSid}/Messages/${sid}.json`);
      if (formString(req, 'Body') !== '') {
        throw new TwilioApiError(400, 20001, 'Only redaction is supported locally: send Body as an empty string');
      }
      const m = carrier.redactMessage(sid);
      if (m) res.json(messageJson(m));
    }),
  );

  router.delete(
    `${account}/Messages/:sid.json`,
    route((req, res) => {
      if (!carrier.deleteMessage(req.params.sid ?? '')) {
        throw notFound(`/${API_VERSION}/Accounts/${carrier.accountSid}/Messages/${req.params.sid}.json`);
      }
      res.status(204).end();
    }),
  );

  router.get(
    `${account}/IncomingPhoneNumbers.json`,
    route((req, res) => {
      const phone = queryString(req, 'PhoneNumber');
      const friendly = queryString(req, 'FriendlyName');
      const digits = (s: string) => s.replace(/[^\d]/g, '');
      const items = carrier
        .listNumbers()
        .reverse()
        .filter(
          (n) =>
            (phone === undefined || digits(n.phoneNumber).includes(digits(phone))) &&
            (friendly === undefined || n.friendlyName.includes(friendly)),
        );
      const filters = {
        ...(phone !== undefined ? { PhoneNumber: phone } : {}),
        ...(friendly !== undefined ? { FriendlyName: friendly } : {}),
      };
      res.json(
        page2010(
          req,
          items,
          `/${API_VERSION}/Accounts/${carrier.accountSid}/IncomingPhoneNumbers.json`,
          'incoming_phone_numbers',
          filters,
          (n) => numberJson(carrier.accountSid, n),
        ),
      );
    }),
  );

  router.post(
    `${account}/IncomingPhoneNumbers.json`,
    formBody,
    route((req, res) => {
      const phoneNumber = formString(req, 'PhoneNumber');
      if (!phoneNumber) {
        throw new TwilioApiError(
          400,
          21452,
          'The local stand-in provisions a number only when PhoneNumber is given (AreaCode search is not available)',
        );
      }
      const sid = carrier.addNumber(phoneNumber, numberSettings(req));
      const n = carrier.getNumber(sid);
      if (n) res.status(201).json(numberJson(carrier.accountSid, n));
    }),
  );

  router.get(
    `${account}/IncomingPhoneNumbers/:sid.json`,
    route((req, res) => {
      const n = carrier.getNumber(req.params.sid ?? '');
      if (!n) throw notFound(`/${API_VERSION}/Accounts/${carrier.accountSid}/IncomingPhoneNumbers/${req.params.sid}.json`);
      res.json(numberJson(carrier.accountSid, n));
    }),
  );

  router.post(
    `${account}/IncomingPhoneNumbers/:sid.json`,
    formBody,
    route((req, res) => {
      const n = carrier.updateNumber(req.params.sid ?? '', numberSettings(req));
      res.json(numberJson(carrier.accountSid, n));
    }),
  );

  router.use(`/${API_VERSION}`, (req, _res, next) => next(notFound(`/${API_VERSION}${req.path}`)));
  router.use((err: unknown, _req: Request, res: express.Response, next: express.NextFunction) => {
    if (err instanceof TwilioApiError) res.status(err.status).json(err.toJSON());
    else next(err);
  });
  return router;
}
