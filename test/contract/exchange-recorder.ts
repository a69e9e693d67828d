import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * Records what the Twilio stand-in was asked and what it answered, at the HTTP level, so the
 * contract check sees exactly what a client saw. Mount it in front of the product routers (where
 * `/api`, `/studio`, `/verify`, `/serverless` and `/serverless-upload` begin); other paths pass
 * through unrecorded.
 */

export interface Exchange {
  /** The stand-in's product prefix: `api`, `studio`, `verify`, `serverless`, `messaging` or `serverless-upload`. */
  product: string;
  method: string;
  /** The path as Twilio would see it, e.g. `/v1/Services/ZS…/Builds`. */
  path: string;
  query: Record<string, unknown>;
  /** The form fields of a url-encoded body; undefined for other bodies (multipart uploads). */
  form: Record<string, unknown> | undefined;
  status: number;
  /** The JSON the stand-in answered with, if it answered JSON. */
  body: unknown;
}

const PRODUCTS = new Set(['api', 'studio', 'verify', 'serverless', 'serverless-upload', 'messaging']);

export function recordExchanges(sink: Exchange[]): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    // req.url is relative to where this middleware is mounted; the routers below rewrite it.
    const url = new URL(req.url, 'http://stand-in');
    const [, product = '', ...rest] = url.pathname.split('/');
    if (!PRODUCTS.has(product)) {
      next();
      return;
    }
    let body: unknown;
    const json = res.json.bind(res);
    res.json = (value: unknown) => {
      body = value;
      return json(value);
    };
    res.on('finish', () => {
      const parsed = req.body as unknown;
      sink.push({
        product,
        method: req.method,
        path: `/${rest.join('/')}`,
        query: Object.fromEntries([...new Set(url.searchParams.keys())].map((k) => [k, url.searchParams.getAll(k)])),
        form:
          parsed !== null && typeof parsed === 'object' && !Buffer.isBuffer(parsed)
            ? { ...(parsed as Record<string, unknown>) }
            : undefined,
        status: res.statusCode,
        body,
      });
    });
    next();
  };
}
