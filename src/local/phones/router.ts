import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { TwilioApiError, type MessageRecord } from '../twilio/contracts';
import { conversationPhone, DELIVERY_FAILURES, type Carrier } from './carrier';
import { isE164, MAX_BODY_LENGTH, normaliseAddress } from './sms';
import { normalisePhone, type CountryCode } from '../../domain/phone';

/**
 * A phone number in any format the EHR intake accepts for `patient_phone` (normalisePhone, with
 * the stack's DEFAULT_PHONE_COUNTRY), so the number a newcomer booked with finds its phone. E.164
 * is taken as it is, without the validity check: virtual phones may use fictional numbers.
 */
function phoneNumber(defaultCountry: CountryCode) {
  return z.string().transform((input, ctx) => {
    const compact = normaliseAddress(input);
    if (isE164(compact)) return compact;
    const national = normalisePhone(input, defaultCountry);
    if (national.ok) return national.value;
    ctx.addIssue({
      code: 'custom',
      message: `must be a phone number: E.164 such as +14155550134, or a ${defaultCountry} number such as (415) 555-0134`,
    });
    return z.NEVER;
  });
}

/** The request shapes of the phones API for a stack whose DEFAULT_PHONE_COUNTRY is `defaultCountry`. */
export function phoneRequests(defaultCountry: CountryCode = 'US') {
  const phone = phoneNumber(defaultCountry);
  return {
    PhoneParam: z.object({ phone }),
    InboundSms: z.object({
      to: phone.optional(),
      body: z
        .string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string') })
        .min(1, 'must not be empty')
        .max(MAX_BODY_LENGTH, `must be at most ${MAX_BODY_LENGTH} characters`),
    }),
  };
}

/** `{"error_code": 30006}` makes texts to the phone fail as Twilio reports a landline; `null` heals it. */
export const DeliverySetting = z.object({
  error_code: z.union([z.literal(30003), z.literal(30005), z.literal(30006), z.null()], { error: 'must be 30003, 30005, 30006 or null' }),
});

class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue?.path.join('.') ?? '';
  throw new RequestError(400, 'invalid-request', `${field || 'request'} ${issue?.message ?? 'is invalid'}`, field || undefined);
}

export function messageView(m: MessageRecord) {
  return {
    sid: m.sid,
    direction: m.direction,
    from: m.from,
    to: m.to,
    body: m.body,
    status: m.status,
    error_code: m.errorCode,
    num_segments: m.numSegments,
    date_created: m.dateCreated.toISOString(),
    date_sent: m.dateSent?.toISOString() ?? null,
  };
}

/**
 * The virtual phones (JSON, for the admin page and tests): their conversations, sending an SMS as a
 * phone, and a live stream of a phone's messages.
 */
export function createPhonesRouter(carrier: Carrier, options: { defaultCountry?: CountryCode } = {}): Router {
  const { PhoneParam, InboundSms } = phoneRequests(options.defaultCountry);
  const router = express.Router();
  router.use(express.json({ limit: '64kb' }));

  router.get('/numbers', (_req, res) => {
    res.json({
      numbers: carrier
        .listNumbers()
        .map((n) => ({ sid: n.sid, phone_number: n.phoneNumber, friendly_name: n.friendlyName, sms_url: n.smsUrl })),
    });
  });

  router.get('/phones', (_req, res) => {
    res.json({
      phones: carrier.phones().map((p) => ({
        phone: p.phone,
        message_count: p.messageCount,
        last_message_at: p.lastMessageAt?.toISOString() ?? null,
        opted_out_of: p.optedOutOf,
        delivery_failure: p.deliveryFailure ?? null,
      })),
    });
  });

  router.get('/phones/:phone/messages', (req, res) => {
    const { phone } = parse(PhoneParam, req.params);
    res.json({ phone, messages: carrier.conversation(phone).map(messageView) });
  });

  router.post('/phones/:phone/messages', (req, res, next) => {
    const { phone } = parse(PhoneParam, req.params);
    const input = parse(InboundSms, req.body ?? {});
    const to = input.to ?? carrier.listNumbers()[0]?.phoneNumber;
    if (!to) throw new RequestError(409, 'no-number', 'the carrier has no Twilio number to send to yet', 'to');
    if (!carrier.findNumber(to)) throw new RequestError(404, 'unknown-number', "to is not one of the account's Twilio numbers", 'to');
    carrier
      .receive(phone, to, input.body)
      .then((m) => res.status(202).json({ message: messageView(m) }))
      .catch(next);
  });

  router.get('/phones/:phone/delivery', (req, res) => {
    const { phone } = parse(PhoneParam, req.params);
    const code = carrier.deliveryFailure(phone);
    res.json({ phone, error_code: code ?? null, error_message: code ? DELIVERY_FAILURES[code] : null });
  });

  router.put('/phones/:phone/delivery', (req, res) => {
    const { phone } = parse(PhoneParam, req.params);
    const { error_code } = parse(DeliverySetting, req.body ?? {});
    carrier.setDeliveryFailure(phone, error_code ?? undefined);
    res.json({ phone, error_code, error_message: error_code ? DELIVERY_FAILURES[error_code] : null });
  });

  router.get('/phones/:phone/stream', (req, res) => {
    const { phone } = parse(PhoneParam, req.params);
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    res.write(': connected\n\n');
    const forward = (event: 'message' | 'status') => (m: MessageRecord) => {
      if (conversationPhone(m) === phone) res.write(`event: ${event}\ndata: ${JSON.stringify(messageView(m))}\n\n`);
    };
    const onMessage = forward('message');
    const onStatus = forward('status');
    carrier.on('message', onMessage);
    carrier.on('status', onStatus);
    const heartbeat = setInterval(() => res.write(': ping\n\n'), 15_000);
    heartbeat.unref();
    req.on('close', () => {
      clearInterval(heartbeat);
      carrier.off('message', onMessage);
      carrier.off('status', onStatus);
    });
  });

  router.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const e = err as { type?: string };
    if (err instanceof RequestError) {
      res.status(err.status).json({ error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } });
    } else if (err instanceof TwilioApiError) {
      res.status(err.status).json({ error: { code: `twilio-${err.code}`, message: err.message } });
    } else if (e.type === 'entity.parse.failed') {
      res.status(400).json({ error: { code: 'invalid-json', message: 'the body is not valid JSON' } });
    } else if (e.type === 'entity.too.large') {
      res.status(413).json({ error: { code: 'payload-too-large', message: 'the body is too large' } });
    } else next(err);
  });
  return router;
}
