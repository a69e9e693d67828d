import express, { type Router } from 'express';
import type { Carrier, MessagingService } from '../phones/carrier';
import { TwilioApiError } from './contracts';
import { formBody, formString, route, sendTwilioError, twilioAuth, type StandInCredentials } from './rest';

function serviceJson(accountSid: string, m: MessagingService) {
  return {
    sid: m.sid,
    account_sid: accountSid,
    friendly_name: m.friendlyName,
    status_callback: m.statusCallback === '' ? null : m.statusCallback,
    use_inbound_webhook_on_number: m.useInboundWebhookOnNumber ?? false,
    url: `https://messaging.twilio.com/v1/Services/${m.sid}`,
  };
}

/**
 * Fetch and update of a Messaging Service (Messaging v1), the part the deploy uses to point the
 * service's Delivery Status Callback at our status Function. Mount under the `messaging` product
 * prefix (`/messaging`), where the redirecting SDK client sends them.
 */
export function createMessagingServicesRouter(carrier: Carrier, credentials: () => StandInCredentials): Router {
  const router = express.Router();
  const notFound = (sid: string) => new TwilioApiError(404, 20404, `The requested resource /v1/Services/${sid} was not found`);
  router.use('/v1', twilioAuth(credentials));
  router.get(
    '/v1/Services/:sid',
    route((req, res) => {
      const m = carrier.getService(req.params.sid ?? '');
      if (!m) throw notFound(req.params.sid ?? '');
      res.json(serviceJson(carrier.accountSid, m));
    }),
  );
  router.post(
    '/v1/Services/:sid',
    formBody,
    route((req, res) => {
      const sid = req.params.sid ?? '';
      if (!carrier.getService(sid)) throw notFound(sid);
      const statusCallback = formString(req, 'StatusCallback');
      const friendlyName = formString(req, 'FriendlyName');
      const inbound = formString(req, 'UseInboundWebhookOnNumber');
      if (inbound !== undefined && inbound !== 'true' && inbound !== 'false') {
        throw new TwilioApiError(400, 20001, 'UseInboundWebhookOnNumber must be true or false');
      }
      const m = carrier.updateService(sid, {
        ...(statusCallback !== undefined ? { statusCallback } : {}),
        ...(friendlyName !== undefined ? { friendlyName } : {}),
        ...(inbound !== undefined ? { useInboundWebhookOnNumber: inbound === 'true' } : {}),
      });
      res.json(serviceJson(carrier.accountSid, m));
    }),
  );
  router.use((err: unknown, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (err instanceof TwilioApiError) sendTwilioError(res, err);
    else next(err);
  });
  return router;
}
