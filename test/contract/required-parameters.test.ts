import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_SID, API_KEY_SECRET, API_KEY_SID, startTwilioStandIn, TWILIO_NUMBER, type TwilioStandIn } from '../deploy/support';
import { operationOf, routers, routesOf } from './stand-in-routes';
import { findOperation, SPEC_FILES, type Product } from './twilio-spec';

const PRODUCT_NAMES = SPEC_FILES;

/**
 * For every stand-in operation whose spec names required form parameters: the complete request is
 * accepted, and the same request without any one of them is refused with 4xx and the error code
 * Twilio answers with. Where the codes come from:
 *  - 20001 "Missing required parameter <Name> in the post body": what Twilio's v1/v2 APIs answer
 *    (seen in public reports of real responses, e.g. Verify's `Channel`, Conversations' `FriendlyName`).
 *  - 21604 "A 'To' phone number is required.": the 2010-04-01 Messages error of Twilio's error dictionary.
 */

const ACCOUNT = `/2010-04-01/Accounts/${ACCOUNT_SID}`;
const PATIENT = '+14155550123';
const DEFINITION = JSON.stringify({
  description: 'probe',
  initial_state: 'Trigger',
  flags: { allow_concurrent_calls: true },
  states: [
    {
      name: 'Trigger',
      type: 'trigger',
      properties: {},
      transitions: [{ event: 'incomingMessage' }, { event: 'incomingRequest', next: 'ask' }],
    },
    {
      name: 'ask',
      type: 'send-and-wait-for-reply',
      properties: { from: '{{flow.channel.address}}', body: 'Reply YES', timeout: '3600' },
      transitions: [{ event: 'incomingMessage' }, { event: 'timeout' }, { event: 'deliveryFailure' }],
    },
  ],
});

let standIn: TwilioStandIn;
let counter = 0;
const unique = (prefix: string) => `${prefix}-${++counter}`;

async function call(method: 'GET' | 'POST', product: Product, path: string, form?: Record<string, string>) {
  const res = await fetch(`${standIn.apiBaseUrl}/${product}${path}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(`${API_KEY_SID}:${API_KEY_SECRET}`).toString('base64')}`,
      ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    },
    ...(form ? { body: new URLSearchParams(form).toString() } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : undefined) as Record<string, unknown> | undefined };
}

async function created(product: Product, path: string, form: Record<string, string>): Promise<string> {
  const r = await call('POST', product, path, form);
  if (r.status !== 201 || typeof r.json?.sid !== 'string') throw new Error(`setup ${path} answered ${r.status}: ${JSON.stringify(r.json)}`);
  return r.json.sid;
}

const service = () => created('serverless', '/v1/Services', { UniqueName: unique('probe'), FriendlyName: 'probe' });
const environment = async () => {
  const s = await service();
  return { s, e: await created('serverless', `/v1/Services/${s}/Environments`, { UniqueName: unique('env') }) };
};
const flow = () => created('studio', '/v2/Flows', { FriendlyName: 'probe', Status: 'published', Definition: DEFINITION });
const verifyService = () => created('verify', '/v2/Services', { FriendlyName: 'probe' });

interface Probe {
  product: Product;
  /** A fresh, complete request: every parameter the probe drops is in `form`. */
  request(): Promise<{ path: string; form: Record<string, string> }>;
  /** Twilio's code for a missing parameter (20001 unless the operation has its own). */
  code?: (name: string) => number;
}

const PROBES: Record<string, Probe> = {
  CreateService: {
    product: 'serverless',
    request: async () => ({ path: '/v1/Services', form: { UniqueName: unique('probe'), FriendlyName: 'Probe' } }),
  },
  CreateEnvironment: {
    product: 'serverless',
    request: async () => ({ path: `/v1/Services/${await service()}/Environments`, form: { UniqueName: unique('env') } }),
  },
  CreateFunction: {
    product: 'serverless',
    request: async () => ({ path: `/v1/Services/${await service()}/Functions`, form: { FriendlyName: 'fn' } }),
  },
  CreateAsset: {
    product: 'serverless',
    request: async () => ({ path: `/v1/Services/${await service()}/Assets`, form: { FriendlyName: 'asset' } }),
  },
  CreateVariable: {
    product: 'serverless',
    request: async () => {
      const { s, e } = await environment();
      return { path: `/v1/Services/${s}/Environments/${e}/Variables`, form: { Key: 'GREETING', Value: 'hello' } };
    },
  },
  CreateFlow: {
    product: 'studio',
    request: async () => ({ path: '/v2/Flows', form: { FriendlyName: 'probe', Status: 'published', Definition: DEFINITION } }),
  },
  UpdateFlow: { product: 'studio', request: async () => ({ path: `/v2/Flows/${await flow()}`, form: { Status: 'published' } }) },
  UpdateFlowValidate: {
    product: 'studio',
    request: async () => ({ path: '/v2/Flows/Validate', form: { FriendlyName: 'probe', Status: 'published', Definition: DEFINITION } }),
  },
  CreateExecution: {
    product: 'studio',
    request: async () => ({ path: `/v2/Flows/${await flow()}/Executions`, form: { To: PATIENT, From: TWILIO_NUMBER } }),
  },
  UpdateExecution: {
    product: 'studio',
    request: async () => {
      const f = await flow();
      const x = await created('studio', `/v2/Flows/${f}/Executions`, { To: PATIENT, From: TWILIO_NUMBER });
      return { path: `/v2/Flows/${f}/Executions/${x}`, form: { Status: 'ended' } };
    },
  },
  CreateService_verify: { product: 'verify', request: async () => ({ path: '/v2/Services', form: { FriendlyName: 'probe' } }) },
  CreateVerification: {
    product: 'verify',
    request: async () => ({ path: `/v2/Services/${await verifyService()}/Verifications`, form: { To: PATIENT, Channel: 'sms' } }),
  },
  UpdateVerification: {
    product: 'verify',
    request: async () => {
      const va = await verifyService();
      const ve = await created('verify', `/v2/Services/${va}/Verifications`, { To: PATIENT, Channel: 'sms' });
      return { path: `/v2/Services/${va}/Verifications/${ve}`, form: { Status: 'canceled' } };
    },
  },
  CreateMessage: {
    product: 'api',
    request: async () => ({ path: `${ACCOUNT}/Messages.json`, form: { To: PATIENT, From: TWILIO_NUMBER, Body: 'probe' } }),
    code: (name) => (name === 'To' ? 21604 : 20001),
  },
};

/** `CreateService_verify` is Verify's CreateService: operation ids repeat across products. */
const operationId = (key: string) => key.replace(/_.*$/, '');

beforeAll(async () => {
  standIn = await startTwilioStandIn({ buildMs: 0 });
});

afterAll(() => standIn.close());

describe('required-parameter probes of the Twilio stand-in', () => {
  for (const [key, probe] of Object.entries(PROBES)) {
    it(`${key}: the complete request is accepted; without any one required parameter it is refused with Twilio's code`, async () => {
      const { path, form } = await probe.request();
      const op = findOperation(probe.product, 'POST', path);
      expect(op?.operationId).toBe(operationId(key));
      const required = op?.requiredFormParameters ?? [];
      expect(required.length).toBeGreaterThan(0);
      for (const name of required) expect(Object.keys(form), `the probe's request carries ${name}`).toContain(name);

      const complete = await call('POST', probe.product, path, form);
      expect(complete.status, JSON.stringify(complete.json)).toBeLessThan(300);

      for (const name of required) {
        // A fresh request each time: the complete one may have used up a unique name or ended an execution.
        const fresh = await probe.request();
        const { [name]: _dropped, ...rest } = fresh.form;
        const r = await call('POST', probe.product, fresh.path, rest);
        const code = probe.code?.(name) ?? 20001;
        expect({ name, status: r.status, code: r.json?.code }).toEqual({ name, status: 400, code });
        expect(String(r.json?.message)).toContain(code === 20001 ? `Missing required parameter ${name}` : `'${name}'`);
      }
    });
  }
});

describe('the probes', () => {
  it('cover every route of the stand-in whose Twilio operation has required parameters', () => {
    const needed = new Set<string>();
    for (const [product, router] of Object.entries(routers())) {
      if (!(product in PRODUCT_NAMES)) continue;
      for (const route of routesOf(router)) {
        const op = operationOf(product as Product, route);
        if (op && op.requiredFormParameters.length > 0) needed.add(`${product} ${op.operationId}`);
      }
    }
    const probed = new Set(Object.entries(PROBES).map(([key, p]) => `${p.product} ${operationId(key)}`));
    expect([...needed].filter((n) => !probed.has(n))).toEqual([]);
    expect(needed.size).toBeGreaterThan(10);
  });
});

describe('the upload host (not in the spec, so probed by hand)', () => {
  it('refuses a Function version upload without Path, Visibility or Content with 400 and 20001, and accepts the complete one', async () => {
    const s = await service();
    const fn = await created('serverless', `/v1/Services/${s}/Functions`, { FriendlyName: 'fn' });
    const upload = async (parts: { Path?: string; Visibility?: string; Content?: string }) => {
      const form = new FormData();
      if (parts.Path !== undefined) form.set('Path', parts.Path);
      if (parts.Visibility !== undefined) form.set('Visibility', parts.Visibility);
      if (parts.Content !== undefined) form.set('Content', new Blob([parts.Content], { type: 'application/javascript' }), 'fn.js');
      const res = await fetch(`${standIn.apiBaseUrl}/serverless-upload/v1/Services/${s}/Functions/${fn}/Versions`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${API_KEY_SID}:${API_KEY_SECRET}`).toString('base64')}` },
        body: form,
      });
      return { status: res.status, json: (await res.json()) as { code?: number; message?: string } };
    };
    const complete = { Path: '/fn', Visibility: 'public', Content: 'exports.handler = (c, e, cb) => cb(null, 1);' };
    expect((await upload(complete)).status).toBe(201);
    for (const name of ['Path', 'Visibility', 'Content'] as const) {
      const { [name]: _dropped, ...rest } = complete;
      const r = await upload(rest);
      expect({ name, status: r.status, code: r.json.code }).toEqual({ name, status: 400, code: 20001 });
      expect(r.json.message).toBe(`Missing required parameter ${name} in the post body`);
    }
  });
});
