import type { Express, NextFunction, Request, Response } from 'express';
import { LocalDevelopmentServer } from '@twilio/runtime-handler/dev';
import { getListOfFunctionsAndAssets } from '@twilio-labs/serverless-api/dist/utils/fs';
import { replyForError } from '../http/errors';
import { errorReply, newRequestId } from '../http/reply';

/**
 * The Twilio Functions of `serviceDir` (the built service), served in this process by Twilio's
 * own local runtime (@twilio/runtime-handler), so `context`, `event` and `Twilio.Response` behave
 * as they do when deployed. Not forked per request and not live-reloading: fast and closable.
 * The runtime keeps global state, so one functions app per process.
 */
export async function createFunctionsApp(options: {
  serviceDir: string;
  env: Record<string, string>;
  /** Public base URL (what DOMAIN_NAME and signature checks see). */
  url: string;
  port: number;
}): Promise<Express> {
  const routes = await getListOfFunctionsAndAssets(options.serviceDir, {
    functionsFolderNames: ['functions'],
    assetsFolderNames: ['assets'],
  });
  const server = new LocalDevelopmentServer(options.port, {
    baseDir: options.serviceDir,
    env: options.env,
    port: options.port,
    url: options.url,
    detailedLogs: false,
    live: false,
    logs: false,
    legacyMode: false,
    appName: 'patient-appointment-management',
    forkProcess: false,
    enableDebugLogs: false,
    routes,
  });
  return server.getApp();
}

/**
 * What the Functions gateway does before a Function runs and the local runtime does not: it
 * serves only GET, POST and OPTIONS, and refuses a GET that carries a body (403). Functions
 * never see the method, so without this PUT or PATCH would look like POST to them locally.
 */
export function functionsGatewayMethods(req: Request, res: Response, next: NextFunction): void {
  if (!['GET', 'HEAD', 'POST', 'OPTIONS'].includes(req.method)) {
    res
      .status(405)
      .set('Allow', 'GET, POST, OPTIONS')
      .json({ error: { code: 'method-not-allowed', message: `${req.method} is not served by Twilio Functions` } });
    return;
  }
  const framed = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (req.method === 'GET' && framed) {
    res.status(403).json({ error: { code: 'forbidden', message: 'a GET request must not carry a body' } });
    return;
  }
  next();
}

/**
 * Errors raised before a Function runs (body parsing) would otherwise be answered with an HTML
 * page; integration engines get the same JSON error shape as from the Functions.
 */
export function jsonErrorHandler(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) return next(err);
  const e = err as { type?: string; status?: number };
  const requestId = newRequestId();
  // The same codes and statuses as the Functions (src/http/errors.ts), with a request id.
  const reply =
    e.type === 'entity.too.large'
      ? errorReply('payload-too-large', 'the body is too large', requestId)
      : e.type === 'entity.parse.failed'
        ? errorReply('invalid-json', 'the body is not valid JSON', requestId)
        : e.status && e.status < 500
          ? errorReply('invalid-request', 'the request could not be read', requestId)
          : replyForError(err, requestId, 'local functions server failed');
  res
    .status(reply.status)
    .set(reply.headers ?? {})
    .json(reply.body);
}
