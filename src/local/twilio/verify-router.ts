import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { TwilioApiError } from './contracts';
import { formBody, formString, iso, requireForm, route, twilioAuth, type StandInCredentials } from './rest';
import type { LocalVerify, Verification, VerifyService } from './verify';

const BASE = 'https://verify.twilio.com/v2';

function serviceJson(s: VerifyService) {
  const url = `${BASE}/Services/${s.sid}`;
  return {
    sid: s.sid,
    account_sid: s.accountSid,
    friendly_name: s.friendlyName,
    code_length: s.codeLength,
    lookup_enabled: false,
    psd2_enabled: false,
    skip_sms_to_landlines: false,
    dtmf_input_required: true,
    tts_name: null,
    do_not_share_warning_enabled: false,
    custom_code_enabled: false,
    push: { include_date: false, apn_credential_sid: null, fcm_credential_sid: null },
    totp: { issuer: s.friendlyName, time_step: 30, code_length: 6, skew: 1 },
    default_template_sid: null,
    whatsapp: { msg_service_sid: null, from: null },
    verify_event_subscription_enabled: false,
    date_created: iso(s.dateCreated),
    date_updated: iso(s.dateUpdated),
    url,
    links: {
      verification_checks: `${url}/VerificationCheck`,
      verifications: `${url}/Verifications`,
    },
  };
}

/** Fields a Verification and a VerificationCheck share on the wire. */
function sharedJson(v: Verification) {
  return {
    sid: v.sid,
    service_sid: v.serviceSid,
    account_sid: v.accountSid,
    to: v.to,
    channel: v.channel,
    status: v.status,
    valid: v.valid,
    amount: null,
    payee: null,
    date_created: iso(v.dateCreated),
    date_updated: iso(v.dateUpdated),
  };
}

function verificationJson(v: Verification) {
  return {
    ...sharedJson(v),
    lookup: { carrier: null },
    send_code_attempts: v.sendCodeAttempts.map((a) => ({ attempt_sid: a.attemptSid, channel: a.channel, time: iso(a.time) })),
    sna: null,
    url: `${BASE}/Services/${v.serviceSid}/Verifications/${v.sid}`,
  };
}

function checkJson(v: Verification) {
  return {
    ...sharedJson(v),
    sna_attempts_error_codes: [],
  };
}

function param(req: Request, key: string): string {
  return req.params[key] ?? '';
}

/**
 * Verify v2 (Services, Verifications, VerificationCheck). Mount under the `verify` product prefix
 * (`/verify`), where the redirecting SDK client sends `https://verify.twilio.com/v2/…`.
 */
export function createVerifyRouter(verify: LocalVerify, credentials: () => StandInCredentials): Router {
  const router = express.Router();
  router.use('/v2', twilioAuth(credentials));

  router.post(
    '/v2/Services',
    formBody,
    route((req, res) => {
      const codeLength = formString(req, 'CodeLength');
      if (codeLength !== undefined && !/^\d+$/.test(codeLength)) throw new TwilioApiError(400, 60200, 'Invalid parameter `CodeLength`');
      const s = verify.createService({
        friendlyName: requireForm(req, 'FriendlyName'),
        ...(codeLength !== undefined ? { codeLength: Number(codeLength) } : {}),
      });
      res.status(201).json(serviceJson(s));
    }),
  );

  router.get(
    '/v2/Services',
    route((_req, res) => {
      const services = verify.listServices();
      const url = `${BASE}/Services?PageSize=50&Page=0`;
      res.json({
        services: services.map(serviceJson),
        meta: { page: 0, page_size: 50, first_page_url: url, previous_page_url: null, url, next_page_url: null, key: 'services' },
      });
    }),
  );

  router.get(
    '/v2/Services/:va',
    route((req, res) => {
      const s = verify.service(param(req, 'va'));
      if (!s) throw new TwilioApiError(404, 20404, `The requested resource /Services/${param(req, 'va')} was not found`);
      res.json(serviceJson(s));
    }),
  );

  router.delete(
    '/v2/Services/:va',
    route((req, res) => {
      if (!verify.deleteService(param(req, 'va'))) {
        throw new TwilioApiError(404, 20404, `The requested resource /Services/${param(req, 'va')} was not found`);
      }
      res.status(204).end();
    }),
  );

  router.post(
    '/v2/Services/:va/Verifications',
    formBody,
    route(async (req, res) => {
      const v = await verify.startVerification(param(req, 'va'), { to: requireForm(req, 'To'), channel: requireForm(req, 'Channel') });
      res.status(201).json(verificationJson(v));
    }),
  );

  router.get(
    '/v2/Services/:va/Verifications/:ve',
    route((req, res) => {
      res.json(verificationJson(verify.verification(param(req, 'va'), param(req, 've'))));
    }),
  );

  router.post(
    '/v2/Services/:va/Verifications/:ve',
    formBody,
    route((req, res) => {
      res.json(verificationJson(verify.updateVerification(param(req, 'va'), param(req, 've'), requireForm(req, 'Status'))));
    }),
  );

  router.post(
    '/v2/Services/:va/VerificationCheck',
    formBody,
    route((req, res) => {
      const to = formString(req, 'To');
      const verificationSid = formString(req, 'VerificationSid');
      // Twilio's spec requires no parameter here (Silent Network Auth checks send SnaClientToken
      // instead of Code); the stand-in checks codes only, so a check without one is invalid.
      const code = formString(req, 'Code');
      if (code === undefined || code === '')
        throw new TwilioApiError(400, 60200, 'Invalid parameter `Code`: the local stand-in checks codes only (no SnaClientToken)');
      const v = verify.checkVerification(param(req, 'va'), {
        code,
        ...(to ? { to } : {}),
        ...(verificationSid ? { verificationSid } : {}),
      });
      res.json(checkJson(v));
    }),
  );

  router.use('/v2', (req, _res, next) => next(new TwilioApiError(404, 20404, `The requested resource ${req.path} was not found`)));
  router.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (err instanceof TwilioApiError) res.status(err.status).json(err.toJSON());
    else next(err);
  });
  return router;
}
