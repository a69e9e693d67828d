import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import twilio from 'twilio';
import { LocalClock } from '../../src/local/clock';
import { createEhrSandboxRouter, EhrSandbox, type EhrSandboxOptions } from '../../src/local/ehr-sandbox';
import { Carrier } from '../../src/local/phones/carrier';
import { createPhonesRouter } from '../../src/local/phones/router';
import type { InboundWebhookParams, StudioInbound } from '../../src/local/twilio/contracts';
import { createMessagingRouter } from '../../src/local/twilio/messaging-router';
import type { StandInCredentials } from '../../src/local/twilio/rest';
import { LocalVerify } from '../../src/local/twilio/verify';
import { createVerifyRouter } from '../../src/local/twilio/verify-router';
import { createTwilioClient, type TwilioClient } from '../../src/twilio/client';
import { FIXTURE_NOW } from '../fixtures/time';
import { assertConformance } from '../contract/conformance';
import { recordExchanges, type Exchange } from '../contract/exchange-recorder';

export interface Listening {
  url: string;
  close(): Promise<void>;
}

/** Serves an express app on 127.0.0.1, port 0. */
export async function listen(app: express.Express): Promise<Listening> {
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export const ACCOUNT_SID = `AC${'a1'.repeat(16)}`;
export const AUTH_TOKEN = 'f'.repeat(32);
export const CLINIC = '+15550001000';
export const OTHER_NUMBER = '+15550002000';

/** Records what Studio would have been given; the Studio engine itself is not under test here. */
export class RecordingStudio implements StudioInbound {
  readonly calls: { flowSid: string; params: InboundWebhookParams }[] = [];
  async handleInboundMessage(flowSid: string, params: InboundWebhookParams) {
    this.calls.push({ flowSid, params });
    return { outcome: 'started' as const, executionSid: `FN${'0'.repeat(32)}` };
  }
}

export interface StandIn extends Listening {
  clock: LocalClock;
  carrier: Carrier;
  verify: LocalVerify;
  ehr: EhrSandbox;
  studio: RecordingStudio;
  client: TwilioClient;
  credentials: StandInCredentials;
  /** Every exchange with the Twilio routes; close() checks them against Twilio's OpenAPI specs. */
  exchanges: Exchange[];
}

/** The messaging side of the local Twilio stand-in, composed as the local stack would. */
export async function startStandIn(options: { ehr?: EhrSandboxOptions } = {}): Promise<StandIn> {
  const clock = new LocalClock({ startAt: FIXTURE_NOW });
  const studio = new RecordingStudio();
  const credentials: StandInCredentials = { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN };
  const carrier = new Carrier({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, clock, studio });
  carrier.addNumber(CLINIC, { friendlyName: 'Clinic' });
  carrier.addNumber(OTHER_NUMBER);
  const verify = new LocalVerify({ accountSid: ACCOUNT_SID, sender: carrier, from: () => carrier.listNumbers()[0]?.phoneNumber, clock });
  const ehr = new EhrSandbox(options.ehr);

  const exchanges: Exchange[] = [];
  const app = express();
  app.use(recordExchanges(exchanges));
  app.use(
    '/api',
    createMessagingRouter(carrier, () => credentials),
  );
  app.use(
    '/verify',
    createVerifyRouter(verify, () => credentials),
  );
  app.use('/local', createPhonesRouter(carrier));
  app.use('/ehr-sandbox', createEhrSandboxRouter(ehr));
  const server = await listen(app);
  const client = createTwilioClient({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, apiBaseUrl: server.url });
  const close = async () => {
    await server.close();
    assertConformance(exchanges, 'Twilio stand-in of the local tests');
  };
  return { ...server, close, clock, carrier, verify, ehr, studio, client, credentials, exchanges };
}

export interface WebhookCall {
  path: string;
  params: Record<string, string>;
  signatureValid: boolean;
}

/** A real app-side webhook: checks X-Twilio-Signature with the SDK and answers with TwiML. */
export async function startWebhook(
  reply: (params: Record<string, string>) => string | undefined,
): Promise<Listening & { calls: WebhookCall[] }> {
  const calls: WebhookCall[] = [];
  const app = express();
  let base = '';
  app.post(['/sms', '/status'], express.urlencoded({ extended: false }), (req, res) => {
    const params = req.body as Record<string, string>;
    const signatureValid = twilio.validateRequest(AUTH_TOKEN, req.header('X-Twilio-Signature') ?? '', `${base}${req.originalUrl}`, params);
    calls.push({ path: req.path, params, signatureValid });
    if (!signatureValid) {
      res.status(403).end();
      return;
    }
    const twiml = new twilio.twiml.MessagingResponse();
    const text = req.path === '/sms' ? reply(params) : undefined;
    if (text !== undefined) twiml.message(text);
    res.type('text/xml').send(twiml.toString());
  });
  app.get('/sms-get', (req, res) => {
    const params = req.query as Record<string, string>;
    const signatureValid = twilio.validateRequest(AUTH_TOKEN, req.header('X-Twilio-Signature') ?? '', `${base}${req.originalUrl}`, {});
    calls.push({ path: req.path, params, signatureValid });
    const twiml = new twilio.twiml.MessagingResponse();
    const text = signatureValid ? reply(params) : undefined;
    if (text !== undefined) twiml.message(text);
    res
      .status(signatureValid ? 200 : 403)
      .type('text/xml')
      .send(twiml.toString());
  });
  const server = await listen(app);
  base = server.url;
  return { ...server, calls };
}

/** The conversation as the phones API shows it. */
export async function conversation(
  base: string,
  phone: string,
): Promise<{ direction: string; body: string; status: string; sid: string }[]> {
  const res = await fetch(`${base}/local/phones/${encodeURIComponent(phone)}/messages`);
  if (!res.ok) throw new Error(`phones API answered ${res.status}`);
  return ((await res.json()) as { messages: { direction: string; body: string; status: string; sid: string }[] }).messages;
}
