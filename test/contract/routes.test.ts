import { describe, expect, it } from 'vitest';
import { UNDESCRIBED_PRODUCTS } from './conformance';
import { operationOf, routers, routesOf, shape } from './stand-in-routes';
import { specOperations, type Product } from './twilio-spec';

/** Every route the stand-in serves is an operation of Twilio's spec, so the stand-in cannot grow an API Twilio lacks. */

describe('every route of the Twilio stand-in', () => {
  const all = routers();

  it('maps to an operation of Twilio’s OpenAPI spec (uploads are the one named exception)', () => {
    const unmatched: string[] = [];
    const matched: string[] = [];
    for (const [product, router] of Object.entries(all)) {
      const routes = routesOf(router);
      expect(routes.length, `${product} has routes`).toBeGreaterThan(0);
      if (product in UNDESCRIBED_PRODUCTS) continue;
      for (const r of routes) {
        const op = operationOf(product as Product, r);
        if (op) matched.push(`${r.method} /${product}${r.path} = ${op.operationId}`);
        else unmatched.push(`${r.method} /${product}${r.path}`);
      }
    }
    expect(unmatched).toEqual([]);
    // The stand-in serves far more than a handful of operations; an enumeration that found none would pass vacuously.
    expect(matched.length).toBeGreaterThan(40);
  });

  it('names the upload routes it leaves out, and they are the Function and Asset version uploads only', () => {
    expect(routesOf(all['serverless-upload'])).toEqual([
      { method: 'POST', path: '/v1/Services/:service/Functions/:resource/Versions' },
      { method: 'POST', path: '/v1/Services/:service/Assets/:resource/Versions' },
    ]);
  });

  it('would catch a route Twilio does not have', () => {
    const ops = specOperations().get('serverless') ?? [];
    expect(ops.some((o) => o.method === 'POST' && shape(o.template) === shape('/v1/Services/:service/Builds/:build/Retry'))).toBe(false);
    expect(ops.some((o) => o.method === 'POST' && shape(o.template) === shape('/v1/Services/:service/Builds'))).toBe(true);
  });
});
