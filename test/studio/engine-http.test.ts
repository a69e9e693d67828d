import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AUTH_TOKEN, PATIENT, TWILIO_NUMBER, flow, makeEngine, trigger } from './support';

/**
 * make-http-request and run-function against a real HTTP server on loopback (§2.6, §2.7): the
 * signature is checked with twilio's own validateRequest.
 */

interface Seen {
  method: string;
  path: string;
  contentType: string;
  authorization: string | undefined;
  form: Record<string, string>;
  raw: string;
  signatureValid: boolean;
}

let server: Server;
let base: string;
const seen: Seen[] = [];
let seqCalls = 0;

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

beforeAll(async () => {
  server = createServer((req, res) => {
    void (async () => {
      const raw = await readBody(req);
      const contentType = req.headers['content-type'] ?? '';
      const form = contentType.startsWith('application/x-www-form-urlencoded') ? Object.fromEntries(new URLSearchParams(raw)) : {};
      const url = `${base}${req.url ?? ''}`;
      const signatureValid = twilio.validateRequest(AUTH_TOKEN, String(req.headers['x-twilio-signature'] ?? ''), url, form);
      const path = (req.url ?? '').split('?')[0] ?? '';
      seen.push({ method: req.method ?? '', path, contentType, authorization: req.headers.authorization, form, raw, signatureValid });
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(body));
      };
      switch (path) {
        case '/echo':
          return json(200, {
            method: req.method,
            query: Object.fromEntries(new URL(url).searchParams),
            form,
            raw,
            signatureValid,
            person: { name: 'Ana' },
          });
        case '/array':
          return json(200, [1, 2, 3]);
        case '/text':
          res.writeHead(200, { 'Content-Type': 'text/plain' });
          return res.end('plain words');
        case '/redirect':
          res.writeHead(302, { Location: '/echo?redirected=1' });
          return res.end();
        case '/big':
          res.writeHead(200, { 'Content-Type': 'text/plain' });
          return res.end('x'.repeat(70 * 1024));
        case '/error':
          return json(500, { message: 'boom' });
        case '/slow':
          setTimeout(() => json(200, { late: true }), 1500);
          return;
        case '/seq': {
          seqCalls += 1;
          if (seqCalls === 1) return json(200, { foo: 'one' });
          if (seqCalls === 2) {
            res.writeHead(404, { 'Content-Type': 'text/plain' });
            return res.end('Not here');
          }
          return json(200, { created: true });
        }
        default:
          res.writeHead(404);
          res.end();
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen.length = 0;
  seqCalls = 0;
});

type Json = Record<string, unknown>;

function http(properties: Json): Json {
  return { name: 'call', type: 'make-http-request', properties, transitions: [{ event: 'success' }, { event: 'failed' }] };
}

function fn(url: string, parameters: { key: string; value: string }[] = []): Json {
  return { name: 'fn', type: 'run-function', properties: { url, parameters }, transitions: [{ event: 'success' }, { event: 'fail' }] };
}

/** Runs a one-widget flow; answers the event it took and its ctx. */
async function runOne(widget: Json, opts: { parameters?: Json; httpTimeoutMs?: number } = {}) {
  const { engine } = makeEngine(opts.httpTimeoutMs ? { httpTimeoutMs: opts.httpTimeoutMs } : {});
  const name = String(widget.name);
  const flowSid = engine.createFlow({
    friendlyName: 'http',
    status: 'published',
    definition: flow([trigger({ incomingRequest: name }), widget]),
  }).sid;
  const x = await engine.startExecution({
    flowSid,
    to: PATIENT,
    from: TWILIO_NUMBER,
    parameters: { first_name: 'Ana', n: 2, ...opts.parameters },
  });
  const step = engine.listSteps(flowSid, x.sid).at(-1);
  return { event: step?.name, ctx: engine.getContext(flowSid, x.sid).widgets[name], log: engine.getExecutionLog(flowSid, x.sid) };
}

describe('make-http-request (§2.6)', () => {
  it('GETs with parameters in the query string, signed, and parses a JSON object', async () => {
    const r = await runOne(
      http({ method: 'GET', url: `${base}/echo?fixed=1`, parameters: [{ key: 'name', value: '{{flow.data.first_name}}' }] }),
    );
    expect(r.event).toBe('success');
    expect(r.ctx).toMatchObject({ status_code: 200, content_type: 'application/json; charset=utf-8' });
    expect(r.ctx?.parsed).toMatchObject({
      method: 'GET',
      query: { fixed: '1', name: 'Ana' },
      signatureValid: true,
      person: { name: 'Ana' },
    });
    expect(JSON.parse(String(r.ctx?.body))).toEqual(r.ctx?.parsed);
    expect(Object.keys(r.ctx ?? {}).sort()).toEqual(['body', 'content_type', 'parsed', 'status_code']);
  });

  it('POSTs form parameters in the body with a valid X-Twilio-Signature', async () => {
    const r = await runOne(
      http({
        method: 'POST',
        url: `${base}/echo`,
        content_type: 'application/x-www-form-urlencoded;charset=utf-8',
        parameters: [
          { key: 'first', value: '{{flow.data.first_name}}' },
          { key: 'double', value: '{{flow.data.n | times: 2}}' },
        ],
      }),
    );
    expect(r.event).toBe('success');
    expect(seen[0]).toMatchObject({ method: 'POST', form: { first: 'Ana', double: '4' }, signatureValid: true });
    expect(seen[0]?.contentType).toMatch(/^application\/x-www-form-urlencoded/);
  });

  it('sends a JSON body verbatim after rendering it', async () => {
    const r = await runOne(
      http({
        method: 'POST',
        url: `${base}/echo`,
        content_type: 'application/json;charset=utf-8',
        body: '{"name":"{{flow.data.first_name}}","n":{{flow.data.n}}}',
      }),
    );
    expect(r.event).toBe('success');
    expect(JSON.parse(seen[0]?.raw ?? '')).toEqual({ name: 'Ana', n: 2 });
    expect(seen[0]?.contentType).toBe('application/json;charset=utf-8');
    expect(seen[0]?.signatureValid).toBe(true);
  });

  it('does not parse a top-level array or a text response', async () => {
    const arr = await runOne(http({ method: 'GET', url: `${base}/array` }));
    expect(arr.event).toBe('success');
    expect(arr.ctx).toEqual({ status_code: 200, content_type: 'application/json; charset=utf-8', body: '[1,2,3]' });
    const text = await runOne(http({ method: 'GET', url: `${base}/text` }));
    expect(text.ctx).toEqual({ status_code: 200, content_type: 'text/plain', body: 'plain words' });
  });

  it('follows redirects', async () => {
    const r = await runOne(http({ method: 'GET', url: `${base}/redirect` }));
    expect(r.event).toBe('success');
    expect(r.ctx?.parsed).toMatchObject({ query: { redirected: '1' } });
  });

  it('fails on a 500 but keeps the response in ctx', async () => {
    const r = await runOne(http({ method: 'GET', url: `${base}/error` }));
    expect(r.event).toBe('failed');
    expect(r.ctx).toMatchObject({ status_code: 500, parsed: { message: 'boom' } });
  });

  it('fails on a response over 64 kB and on a timeout, leaving an empty ctx', async () => {
    const big = await runOne(http({ method: 'GET', url: `${base}/big` }));
    expect(big.event).toBe('failed');
    expect(big.ctx).toEqual({});
    const slow = await runOne(http({ method: 'GET', url: `${base}/slow` }), { httpTimeoutMs: 200 });
    expect(slow.event).toBe('failed');
    expect(slow.ctx).toEqual({});
    expect(slow.log.entries).toContainEqual(expect.objectContaining({ code: 81014, message: expect.stringContaining('timeout') }));
  });

  it('moves credentials from the URL to a Basic Authorization header', async () => {
    const r = await runOne(http({ method: 'GET', url: base.replace('http://', 'http://clinic:s3cret@') + '/echo' }));
    expect(r.event).toBe('success');
    expect(seen[0]?.authorization).toBe(`Basic ${Buffer.from('clinic:s3cret').toString('base64')}`);
  });

  it('does not send "Authenticate with Twilio" requests to a non-Twilio host', async () => {
    const r = await runOne(http({ method: 'GET', url: `${base}/echo`, add_twilio_auth: true }));
    expect(r.event).toBe('failed');
    expect(seen).toHaveLength(0);
  });
});

describe('run-function (§2.7)', () => {
  it('POSTs form parameters with a valid signature and parses the JSON answer', async () => {
    const r = await runOne(
      fn(`${base}/echo`, [
        { key: 'event', value: '{{flow.data}}' },
        { key: 'who', value: '{{contact.channel.address}}' },
      ]),
    );
    expect(r.event).toBe('success');
    expect(seen[0]).toMatchObject({ method: 'POST', signatureValid: true, form: { event: '{first_name=Ana, n=2}', who: PATIENT } });
    expect(r.ctx).toMatchObject({ status_code: 200, parsed: { signatureValid: true } });
  });

  it('takes fail (not failed) on a 500 and on a timeout', async () => {
    expect((await runOne(fn(`${base}/error`))).event).toBe('fail');
    const slow = await runOne(fn(`${base}/slow`), { httpTimeoutMs: 200 });
    expect(slow.event).toBe('fail');
    expect(slow.log.entries).toContainEqual(expect.objectContaining({ code: 81017 }));
  });

  it('merges parsed across re-runs and keeps it through a non-JSON answer', async () => {
    const { engine } = makeEngine();
    const definition = flow([
      trigger({ incomingRequest: 'fn' }),
      {
        name: 'fn',
        type: 'run-function',
        properties: { url: `${base}/seq` },
        transitions: [
          { event: 'success', next: 'done?' },
          { event: 'fail', next: 'fn' },
        ],
      },
      {
        name: 'done?',
        type: 'split-based-on',
        properties: { input: '{{widgets.fn.parsed.created}}' },
        transitions: [
          { event: 'noMatch', next: 'fn' },
          {
            event: 'match',
            conditions: [
              { friendly_name: 'created', arguments: ['{{widgets.fn.parsed.created}}'], type: 'is_not_blank', value: 'Is Not Blank' },
            ],
          },
        ],
      },
    ]);
    const flowSid = engine.createFlow({ friendlyName: 'seq', status: 'published', definition }).sid;
    const x = await engine.startExecution({ flowSid, to: PATIENT, from: TWILIO_NUMBER });
    expect(seen).toHaveLength(3);
    expect(engine.getContext(flowSid, x.sid).widgets.fn).toMatchObject({ status_code: 200, parsed: { foo: 'one', created: true } });
    const failStep = engine.listSteps(flowSid, x.sid).find((s) => s.name === 'fail');
    expect(failStep?.context.widgets.fn).toEqual({
      status_code: 404,
      content_type: 'text/plain',
      body: 'Not here',
      parsed: { foo: 'one' },
    });
  });
});
