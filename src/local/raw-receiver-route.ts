import express, { type Request, type Response } from 'express';
import { replyForError } from '../http/errors';
import { MAX_BODY_BYTES } from '../http/intake';
import { newRequestId } from '../http/reply';
import type { FunctionUrlEvent, FunctionUrlResult } from '../http/raw-receiver';

/**
 * `npm start`'s stand-in for the receiver's Function URL: `/raw/ehr/{events,hl7,fhir}` on the local
 * server. The HTTP request becomes the event a Function URL would deliver (the path without
 * `/raw`, the query string, headers, the body's bytes as base64) and goes to the same handler as
 * lambda/receiver.ts. Bodies over a few times the intake limit are cut off here, as the Function
 * URL's payload limit would; the limit the engines see is the intake's.
 */
export function createRawReceiverRouter(handle: (event: FunctionUrlEvent) => Promise<FunctionUrlResult>): express.Router {
  const r = express.Router();
  r.use(express.raw({ type: () => true, limit: 4 * MAX_BODY_BYTES }));
  r.use((req: Request, res: Response) => {
    handle(functionUrlEventFrom(req))
      .then((result) => {
        res.status(result.statusCode).set(result.headers).send(result.body);
      })
      .catch((err: unknown) => {
        const reply = replyForError(err, newRequestId(), 'local raw receiver failed');
        res
          .status(reply.status)
          .set(reply.headers ?? {})
          .json(reply.body);
      });
  });
  return r;
}

export function functionUrlEventFrom(req: Request): FunctionUrlEvent {
  const headers: Record<string, string> = {};
  // Function URLs join repeated headers with commas and lower-case the names.
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
  const query = req.originalUrl.indexOf('?');
  const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  return {
    rawPath: req.path,
    rawQueryString: query === -1 ? '' : req.originalUrl.slice(query + 1),
    headers,
    body: body.toString('base64'),
    isBase64Encoded: true,
    requestContext: { http: { method: req.method } },
  };
}
