import type { Router } from 'express';
import { LocalClock } from '../../src/local/clock';
import { Carrier } from '../../src/local/phones/carrier';
import { StudioEngine } from '../../src/local/studio/engine';
import { createStudioRouter } from '../../src/local/studio/router';
import { createMessagingRouter } from '../../src/local/twilio/messaging-router';
import { createMessagingServicesRouter } from '../../src/local/twilio/messaging-services-router';
import { LocalServerless } from '../../src/local/twilio/serverless';
import { createServerlessRouter, createServerlessUploadRouter } from '../../src/local/twilio/serverless-router';
import { LocalVerify } from '../../src/local/twilio/verify';
import { createVerifyRouter } from '../../src/local/twilio/verify-router';
import { FIXTURE_NOW } from '../fixtures/time';
import { specOperations, type Product, type SpecOperation } from './twilio-spec';

/** The stand-in's routers as the local stack mounts them, and the routes express holds for each. */

const ACCOUNT_SID = `AC${'7e'.repeat(16)}`;
const credentials = () => ({ accountSid: ACCOUNT_SID, authToken: 'a'.repeat(32) });

export function routers(): Record<Product | 'serverless-upload', Router> {
  const clock = new LocalClock({ startAt: FIXTURE_NOW });
  const carrier = new Carrier({ accountSid: ACCOUNT_SID, authToken: 'a'.repeat(32), clock });
  const studio = new StudioEngine({ accountSid: ACCOUNT_SID, authToken: 'a'.repeat(32), messages: carrier, clock });
  const verify = new LocalVerify({ accountSid: ACCOUNT_SID, sender: carrier, from: '+14155550100', clock });
  const serverless = new LocalServerless({ accountSid: ACCOUNT_SID, clock });
  studio.stop();
  return {
    api: createMessagingRouter(carrier, credentials),
    studio: createStudioRouter(studio, credentials),
    verify: createVerifyRouter(verify, credentials),
    serverless: createServerlessRouter(serverless, credentials),
    'serverless-upload': createServerlessUploadRouter(serverless, credentials),
    messaging: createMessagingServicesRouter(carrier, credentials),
  };
}

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
}

/** The routes express holds for a router: `POST /v1/Services/:service/Builds`. */
export function routesOf(router: Router): { method: string; path: string }[] {
  const stack = (router as unknown as { stack: Layer[] }).stack;
  return stack.flatMap((layer) => {
    const route = layer.route;
    if (!route) return [];
    const paths = Array.isArray(route.path) ? route.path : [route.path];
    return paths.flatMap((p) => Object.keys(route.methods).map((m) => ({ method: m.toUpperCase(), path: p })));
  });
}

/** `/Messages/:sid.json` and `/Messages/{Sid}.json` both become `/Messages/{}.json`. */
export const shape = (p: string) => p.replace(/:\w+/g, '{}').replace(/\{[^}]+\}/g, '{}');

/** The spec operation behind a route of the stand-in, if Twilio has one. */
export function operationOf(product: Product, route: { method: string; path: string }): SpecOperation | undefined {
  return (specOperations().get(product) ?? []).find((o) => o.method === route.method && shape(o.template) === shape(route.path));
}
