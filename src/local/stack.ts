import { originMarker } from '../messaging/origin-marker';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import { installClock } from '../runtime/clock';
import { FunctionsConfig } from '../config/config';
import { loadFlowTemplate, renderFlow } from '../../studio/render-flow';
import { LocalClock } from './clock';
import { createEhrSandboxRouter, EhrSandbox } from './ehr-sandbox';
import { createFunctionsApp, functionsGatewayMethods, jsonErrorHandler } from './functions-server';
import { Carrier } from './phones/carrier';
import { createPhonesRouter } from './phones/router';
import { beyondLoopbackWarning, localOnly } from './loopback';
import { LOCAL_S3_CREDENTIALS, startEmbeddedS3, type EmbeddedS3 } from './s3/embedded-s3';
import { isAddressInUse, PortInUseError } from './busy-port';
import { StudioEngine } from './studio/engine';
import { createStudioRouter } from './studio/router';
import { webhookUrl } from './studio/wire';
import { createMessagingRouter } from './twilio/messaging-router';
import { createMessagingServicesRouter } from './twilio/messaging-services-router';
import type { StandInCredentials } from './twilio/rest';
import { LocalServerless } from './twilio/serverless';
import { createServerlessRouter, createServerlessUploadRouter } from './twilio/serverless-router';
import { LocalVerify } from './twilio/verify';
import { createVerifyRouter } from './twilio/verify-router';
import { makeSweepHandler, sweepDepsFromEnv } from '../runtime/sweep';
import { makeReceiverHandler, receiverDepsFromEnv } from '../runtime/receiver';
import { createRawReceiverRouter } from './raw-receiver-route';
import type { SweepCounts, SweepDeps } from '../use-cases/sweep-run';
import {
  defined,
  LOCAL_ADMIN_PHONE,
  LOCAL_BUCKET,
  LOCAL_CLINIC_ZONE,
  LOCAL_CUSTOMER_NAME,
  LOCAL_FHIR_CLIENT_ID,
  LOCAL_TWILIO_NUMBER,
  localClockRouter,
  localFhirSettings,
  localSecrets,
  portFrom,
} from './stack-settings';

export interface LocalStackOptions {
  /** Where data and generated local secrets live (git-ignored `.local/` for `npm start`). */
  dataDir: string;
  /** The built Twilio Functions service (build/service). */
  serviceDir: string;
  port?: number;
  host?: string;
  /** Values from `.env` / the environment; local plumbing (S3 endpoint, bucket) is always ours. */
  env?: Record<string, string | undefined>;
  /**
   * The instant (epoch ms) the stack's clock starts at; it runs on at real speed from there. Tests
   * pin it so that what they book is in the future whatever today's date is. Real time by default.
   */
  clockStart?: number;
  /** Where the warning about listening beyond loopback goes (stderr by default). */
  warn?: (message: string) => void;
  /**
   * The embedded S3 server is restarted when it dies; this hears when restarting failed
   * repeatedly and the stack is left without storage (`npm start` exits). Logged otherwise.
   */
  onStorageLost?: (err: Error) => void;
  /** Runs before the Twilio stand-in's routers (tests record the exchanges to check them against Twilio's specs). */
  twilioMiddleware?: express.RequestHandler;
}

export interface LocalStack {
  url: string;
  port: number;
  s3: EmbeddedS3;
  /** The environment the Functions run with (contains local secrets; never log it). */
  env: Record<string, string>;
  bucket: string;
  clock: LocalClock;
  carrier: Carrier;
  studio: StudioEngine;
  verify: LocalVerify;
  /** Serverless v1 (what `npm run deploy` talks to), empty until something deploys to it. */
  serverless: LocalServerless;
  ehr: EhrSandbox;
  flowSid: string;
  /** Waits until no local message delivery, webhook or Studio step is in flight. */
  settle(): Promise<void>;
  /** Runs the reminder sweep now: the Lambda's handler, against the embedded S3 and local Twilio. */
  sweep(): Promise<SweepCounts>;
  /** The sweep's dependencies as the handler builds them (for tests that drive runSweep directly). */
  sweepDeps(): Promise<SweepDeps>;
  stop(): Promise<void>;
}

/** Starts everything `npm start` runs: embedded S3, the Functions, and the local stand-ins. */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const host = options.host ?? '127.0.0.1';
  const secrets = localSecrets(options.dataDir);
  const given = defined(options.env ?? {});
  const s3Port = portFrom(given, 'S3_PORT', 0);
  const s3 = await startEmbeddedS3({
    directory: path.join(options.dataDir, 's3'),
    buckets: [LOCAL_BUCKET],
    port: s3Port,
    supervise: {
      onDied: (why) => console.error(`embedded S3 stopped unexpectedly (${why}); restarting it on the same port`),
      onRestarted: () => console.error('embedded S3 is running again'),
      onGaveUp: options.onStorageLost ?? ((err) => console.error(err.message)),
    },
  }).catch((err: unknown) => {
    // The stack starts the embedded S3 server on startEmbeddedS3's default host, 127.0.0.1.
    throw isAddressInUse(err) ? new PortInUseError('S3_PORT', s3Port, '127.0.0.1') : err;
  });
  try {
    const outer = express();
    outer.disable('x-powered-by');
    const server = http.createServer(outer);
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(isAddressInUse(err) ? new PortInUseError('PORT', options.port ?? 0, host) : err));
      server.listen(options.port ?? 0, host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    const url = `http://${host === '0.0.0.0' || host === '::' ? 'localhost' : host}:${port}`;
    const warning = beyondLoopbackWarning(host, port);
    if (warning) (options.warn ?? console.warn)(warning);

    const accountSid = given.ACCOUNT_SID ?? `AC${'0'.repeat(32)}`;
    const authToken = given.AUTH_TOKEN ?? secrets.AUTH_TOKEN;
    const twilioNumber = given.TWILIO_PHONE_NUMBER ?? LOCAL_TWILIO_NUMBER;
    const customerName = given.CUSTOMER_NAME ?? LOCAL_CUSTOMER_NAME;
    const ieSecret = given.IE_SIGNING_SECRET ?? secrets.IE_SIGNING_SECRET;
    // As deployed, the sweep uses an API key rather than the account's auth token.
    const sweepKey = { sid: `SK${'5'.repeat(32)}`, secret: secrets.API_KEY_SECRET };
    const credentials: StandInCredentials = { accountSid, authToken, apiKeys: [sweepKey] };

    // The local Twilio: a carrier with virtual phones, Studio, Verify, and the sandbox EHR.
    const clock = new LocalClock({ startAt: options.clockStart });
    installClock(clock);
    const carrier = new Carrier({ accountSid, authToken, clock });
    const studio = new StudioEngine({ accountSid, authToken, messages: carrier, clock });
    carrier.studio = studio;
    studio.start();
    const verify = new LocalVerify({ accountSid, sender: carrier, from: twilioNumber, clock });
    // The admin page's login codes (its name is what the SMS says the code is for).
    const verifyService = verify.createService({ friendlyName: customerName.slice(0, 30).trim() || 'Admin login' });
    const ehr = new EhrSandbox({
      secret: ieSecret,
      clock,
      fhir: { token: secrets.FHIR_TOKEN, clients: [{ id: LOCAL_FHIR_CLIENT_ID, secret: secrets.FHIR_CLIENT_SECRET ?? '' }] },
    });
    const serverless = new LocalServerless({ accountSid, clock });
    const ieEndpoint = given.IE_ENDPOINT ?? `${url}/__local/ehr/requests`;

    const flow = studio.createFlow({
      friendlyName: 'patient-appointment-management',
      status: 'published',
      definition: renderFlow(loadFlowTemplate(), { functionsBaseUrl: url, ieEndpoint, customerName, originMarker: originMarker(ieSecret) }),
    });
    if (!flow.valid) throw new Error(`studio/flow.json is not valid: ${JSON.stringify(flow.errors)}`);
    carrier.addNumber(twilioNumber, { smsUrl: webhookUrl(accountSid, flow.sid), friendlyName: customerName });
    // As deployed: the number is in a Messaging Service whose status callback is /twilio/status,
    // and executions start with the service as From, so every text the flow sends reports back.
    // `LOCAL_STATUS_CALLBACKS=off` (the intake bench) leaves the callback out, so the receipts' own
    // load does not share this machine with the intake being measured.
    const callbacks = given.LOCAL_STATUS_CALLBACKS !== 'off';
    const messagingService = carrier.createService({
      friendlyName: customerName,
      ...(callbacks ? { statusCallback: `${url}/twilio/status` } : {}),
    });
    carrier.addNumberToService(messagingService, twilioNumber);

    const env: Record<string, string> = {
      ...given,
      ACCOUNT_SID: accountSid,
      AUTH_TOKEN: authToken,
      EHR_API_KEY: given.EHR_API_KEY ?? secrets.EHR_API_KEY,
      S3_BUCKET: LOCAL_BUCKET,
      S3_ENDPOINT: s3.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
      TWILIO_API_BASE_URL: `${url}/__twilio`,
      TWILIO_PHONE_NUMBER: twilioNumber,
      TWILIO_FLOW_SID: flow.sid,
      TWILIO_MESSAGING_SERVICE_SID: messagingService,
      IE_ENDPOINT: ieEndpoint,
      IE_SIGNING_SECRET: ieSecret,
      CUSTOMER_NAME: customerName,
      EHR_DEFAULT_TIMEZONE: given.EHR_DEFAULT_TIMEZONE ?? LOCAL_CLINIC_ZONE,
      ADMINISTRATOR_PHONE: given.ADMINISTRATOR_PHONE ?? LOCAL_ADMIN_PHONE,
      VERIFY_SERVICE_SID: verifyService.sid,
      SESSION_SECRET: given.SESSION_SECRET ?? secrets.SESSION_SECRET,
      APPLICATION_PASSWORD: given.APPLICATION_PASSWORD ?? secrets.APPLICATION_PASSWORD,
      ...localFhirSettings(given, `${url}/__local/ehr/fhir`, secrets),
    };

    const functions = await createFunctionsApp({ serviceDir: options.serviceDir, env, url, port });
    const sweepDeps = () =>
      sweepDepsFromEnv({
        ...env,
        TWILIO_ACCOUNT_SID: accountSid,
        TWILIO_API_KEY_SID: sweepKey.sid,
        TWILIO_API_KEY_SECRET: sweepKey.secret,
      });
    const sweep = makeSweepHandler(sweepDeps);
    // The raw-body receiver (lambda/receiver.ts) with the Functions' settings and the sweep's API key.
    const receiver = makeReceiverHandler(() =>
      receiverDepsFromEnv({
        ...env,
        TWILIO_ACCOUNT_SID: accountSid,
        TWILIO_API_KEY_SID: sweepKey.sid,
        TWILIO_API_KEY_SECRET: sweepKey.secret,
      }),
    );
    const sweepEverySeconds = Number(given.SWEEP_INTERVAL_SECONDS ?? 30);
    const sweepTimer =
      sweepEverySeconds > 0
        ? setInterval(() => {
            sweep({ 'detail-type': 'Local Scheduled Event' }).catch((err: unknown) =>
              console.error(`local sweep failed: ${(err as Error).message}`),
            );
          }, sweepEverySeconds * 1000)
        : undefined;
    sweepTimer?.unref();
    // The stand-ins hand out login codes and fake Twilio itself: this machine only, or an admin session.
    outer.use(
      ['/__local', '/__twilio'],
      localOnly(() => env.SESSION_SECRET ?? ''),
    );
    outer.post('/__local/sweep', (_req, res) => {
      sweep({ 'detail-type': 'Local Sweep Now' })
        .then((counts) => res.json({ counts }))
        .catch((err: unknown) => res.status(500).json({ error: { code: 'sweep-failed', message: (err as Error).message } }));
    });
    const twilioApi = express.Router();
    if (options.twilioMiddleware) twilioApi.use(options.twilioMiddleware);
    twilioApi.use(
      '/api',
      createMessagingRouter(carrier, () => credentials),
    );
    twilioApi.use(
      '/messaging',
      createMessagingServicesRouter(carrier, () => credentials),
    );
    twilioApi.use(
      '/studio',
      createStudioRouter(studio, () => credentials),
    );
    twilioApi.use(
      '/verify',
      createVerifyRouter(verify, () => credentials),
    );
    twilioApi.use(
      '/serverless',
      createServerlessRouter(serverless, () => credentials),
    );
    twilioApi.use(
      '/serverless-upload',
      createServerlessUploadRouter(serverless, () => credentials),
    );
    outer.use('/__twilio', twilioApi);
    outer.use('/__local/ehr', createEhrSandboxRouter(ehr));
    outer.use('/__local/clock', express.json(), localClockRouter(clock));
    // The admin page's local panel: which virtual phone is the administrator's (no secrets here).
    outer.get('/__local/stack', (_req, res) => {
      res.json({
        local: true,
        administrator_phone: env.ADMINISTRATOR_PHONE,
        twilio_number: twilioNumber,
        s3_endpoint: s3.endpoint,
        bucket: LOCAL_BUCKET,
      });
    });
    // The phones API reads numbers as the intake does, in the Functions' DEFAULT_PHONE_COUNTRY.
    const phoneCountry = FunctionsConfig.shape.DEFAULT_PHONE_COUNTRY.safeParse(given.DEFAULT_PHONE_COUNTRY);
    outer.use('/__local', createPhonesRouter(carrier, { defaultCountry: phoneCountry.success ? phoneCountry.data : 'US' }));
    outer.use('/raw', createRawReceiverRouter(receiver));
    // Deployed, Twilio serves the index.html asset at the service root; the local runtime does not.
    outer.get('/', (req, _res, next) => {
      req.url = '/index.html';
      next();
    });
    outer.use(functionsGatewayMethods, functions);
    outer.use(jsonErrorHandler);

    return {
      url,
      port,
      s3,
      env,
      bucket: LOCAL_BUCKET,
      clock,
      carrier,
      studio,
      verify,
      serverless,
      ehr,
      flowSid: flow.sid,
      settle: async () => {
        for (let i = 0; i < 5; i += 1) {
          await carrier.idle();
          await studio.idle();
        }
      },
      sweep: () => sweep({ 'detail-type': 'Local Sweep Now' }),
      sweepDeps,
      stop: async () => {
        if (sweepTimer) clearInterval(sweepTimer);
        studio.stop();
        installClock(undefined);
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await s3.stop();
      },
    };
  } catch (err) {
    await s3.stop();
    throw err;
  }
}
