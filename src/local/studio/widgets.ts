import { TwilioApiError, type MessageRecord, type MessageSender } from '../twilio/contracts';
import { rfc2822 } from '../twilio/rest';
import { chooseBranch } from './conditions';
import type { FlowState, StateOfType } from './flow-schema';
import {
  parseJsonObject,
  sendOutbound,
  splitCredentials,
  type OutboundOptions,
  type OutboundRequest,
  type OutboundResult,
} from './outbound-http';
import type { ExecutionLogEntry, StudioContext } from './types';

/**
 * The widgets the local engine runs (docs/studio-engine.md §2). Each one reads rendered properties,
 * writes its ctx under `widgets.<name>` and answers with the event to take, or asks to park.
 */

/** §2.3: Console default and the value used when `timeout` renders empty. */
export const DEFAULT_WAIT_SECONDS = 3600;

export interface WidgetEnv {
  accountSid: string;
  ctx: StudioContext;
  render: (template: string) => Promise<string>;
  now(): number;
  messages: MessageSender;
  http: Omit<OutboundOptions, 'redirect'>;
  note(entry: Omit<ExecutionLogEntry, 'at' | 'widget'>): void;
}

type Transition = FlowState['transitions'][number];

export type WidgetOutcome =
  { kind: 'event'; event: string; transition?: Transition } | { kind: 'park'; deadline: number; outboundSid: string };

const event = (name: string, transition?: Transition): WidgetOutcome => ({
  kind: 'event',
  event: name,
  ...(transition ? { transition } : {}),
});

/** The Message resource in PascalCase, as Studio stores it in `outbound` (§2.2). */
function outboundResource(m: MessageRecord, requestedFrom: string): Record<string, unknown> {
  const viaService = requestedFrom.startsWith('MG');
  return {
    Sid: m.sid,
    AccountSid: m.accountSid,
    MessagingServiceSid: viaService ? requestedFrom : null,
    To: m.to,
    From: viaService ? null : m.from,
    Body: m.body,
    Status: m.status,
    Direction: m.direction,
    NumSegments: String(m.numSegments),
    NumMedia: String(m.numMedia),
    ErrorCode: m.errorCode,
    ErrorMessage: m.errorMessage,
    ApiVersion: '2010-04-01',
    Price: null,
    PriceUnit: 'USD',
    DateCreated: rfc2822(m.dateCreated),
    DateUpdated: rfc2822(m.dateUpdated),
    DateSent: m.dateSent ? rfc2822(m.dateSent) : null,
    Uri: `/2010-04-01/Accounts/${m.accountSid}/Messages/${m.sid}.json`,
  };
}

type MessageState = StateOfType<'send-message'> | StateOfType<'send-and-wait-for-reply'>;

async function sendFromWidget(s: MessageState, env: WidgetEnv, to: string): Promise<{ record: MessageRecord; from: string } | undefined> {
  const p = s.properties;
  if (p.message_type === 'content_template') {
    env.note({ level: 'error', code: 81011, message: 'content templates are not supported by the local stand-in' });
    return undefined;
  }
  const from = await env.render(p.from);
  const body = await env.render(p.body ?? '');
  const media = p.media_url ? (await env.render(p.media_url)).trim() : '';
  try {
    const record = await env.messages.send({ from, to, body, ...(media ? { mediaUrl: [media] } : {}) });
    return { record, from };
  } catch (err) {
    const code = err instanceof TwilioApiError ? err.code : 81011;
    env.note({ level: 'error', code, message: `message not sent: ${err instanceof Error ? err.message : 'unknown error'}` });
    return undefined;
  }
}

async function sendMessage(s: StateOfType<'send-message'>, env: WidgetEnv): Promise<WidgetOutcome> {
  const to = await env.render(s.properties.to ?? '{{contact.channel.address}}');
  const sent = await sendFromWidget(s, env, to);
  env.ctx.widgets[s.name] = sent ? { outbound: outboundResource(sent.record, sent.from) } : {};
  // §2.2: `sent` means the Messages API accepted it, not that it was delivered.
  return event(sent ? 'sent' : 'failed');
}

async function sendAndWait(s: StateOfType<'send-and-wait-for-reply'>, env: WidgetEnv): Promise<WidgetOutcome> {
  const rendered = (await env.render(s.properties.timeout)).trim();
  let seconds = DEFAULT_WAIT_SECONDS;
  if (/^\d+$/.test(rendered)) seconds = Number(rendered);
  else if (rendered !== '') env.note({ level: 'warn', message: `timeout is not a whole number of seconds; using ${DEFAULT_WAIT_SECONDS}` });
  // §2.3: no `to` in the definition; the recipient is the execution's contact.
  const sent = await sendFromWidget(s, env, env.ctx.contact.channel.address);
  env.ctx.widgets[s.name] = sent ? { outbound: outboundResource(sent.record, sent.from) } : {};
  if (!sent || sent.record.status === 'failed' || sent.record.status === 'undelivered') return event('deliveryFailure');
  return { kind: 'park', deadline: env.now() + seconds * 1000, outboundSid: sent.record.sid };
}

async function setVariables(s: StateOfType<'set-variables'>, env: WidgetEnv): Promise<WidgetOutcome> {
  // Rendered against the context as it was before the widget (§4.3), then written together.
  const values: Record<string, unknown> = {};
  for (const v of s.properties.variables) {
    const text = await env.render(v.value);
    values[v.key] = s.properties.parse_as_json ? parseOrKeep(text) : text;
  }
  env.ctx.flow.variables = { ...(env.ctx.flow.variables ?? {}), ...values };
  // §2.5: mirrored under widgets.<name>.
  env.ctx.widgets[s.name] = { ...values };
  return event('next');
}

function parseOrKeep(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function split(s: StateOfType<'split-based-on'>, env: WidgetEnv): Promise<WidgetOutcome> {
  const outcome = await chooseBranch(s, env.render);
  for (const n of outcome.notes) env.note({ level: 'warn', message: n });
  env.ctx.widgets[s.name] = {};
  return event(outcome.event, outcome.transition);
}

async function renderParameters(list: { key: string; value: string }[] | undefined, env: WidgetEnv): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const p of list ?? []) out[p.key] = await env.render(p.value);
  return out;
}

function responseCtx(r: Extract<OutboundResult, { kind: 'response' }>): Record<string, unknown> {
  return { status_code: r.status, content_type: r.contentType, body: r.body };
}

const TWILIO_HOST = /(^|\.)twilio\.com$/i;

async function httpRequest(s: StateOfType<'make-http-request'>, env: WidgetEnv): Promise<WidgetOutcome> {
  const p = s.properties;
  const params = await renderParameters(p.parameters, env);
  const target = splitCredentials((await env.render(p.url)).trim());
  const contentType = p.content_type ?? 'application/x-www-form-urlencoded;charset=utf-8';
  const isForm = /x-www-form-urlencoded/i.test(contentType);
  let url: URL;
  try {
    url = new URL(target.url);
  } catch {
    env.note({ level: 'error', code: 81014, message: 'URL is not valid' });
    env.ctx.widgets[s.name] = {};
    return event('failed');
  }
  // §2.6 (chosen): GET (and JSON/raw POST) parameters go to the query string; form POST to the body.
  if (p.method === 'GET' || !isForm) for (const [k, v] of Object.entries(params)) url.searchParams.append(k, v);
  const req: OutboundRequest = {
    method: p.method,
    url: url.toString(),
    contentType,
    ...(target.basicAuth ? { basicAuth: target.basicAuth } : {}),
  };
  if (p.method === 'POST') {
    if (isForm && (Object.keys(params).length > 0 || !p.body)) req.form = params;
    else req.body = await env.render(p.body ?? '');
  }
  if (p.add_twilio_auth) {
    // §2.6: "Authenticate with Twilio" only for Twilio API URLs; otherwise the request is not sent.
    if (!TWILIO_HOST.test(url.hostname)) {
      env.note({ level: 'error', code: 81014, message: 'add_twilio_auth is only allowed for Twilio API URLs' });
      env.ctx.widgets[s.name] = {};
      return event('failed');
    }
    req.basicAuth = { user: env.accountSid, password: env.http.authToken };
  }
  const r = await sendOutbound(req, { ...env.http, redirect: 'follow' });
  if (r.kind === 'error') {
    env.note({ level: 'error', code: 81014, message: `HTTP request failed (${r.reason})` });
    // §2.6 (chosen): a transport failure leaves an empty map.
    env.ctx.widgets[s.name] = {};
    return event('failed');
  }
  const parsed = parseJsonObject(r.contentType, r.body);
  env.ctx.widgets[s.name] = { ...responseCtx(r), ...(parsed ? { parsed } : {}) };
  const ok = r.status >= 200 && r.status < 300;
  if (!ok) env.note({ level: 'error', code: 81014, message: `HTTP request answered ${r.status}` });
  return event(ok ? 'success' : 'failed');
}

async function runFunction(s: StateOfType<'run-function'>, env: WidgetEnv): Promise<WidgetOutcome> {
  const form = await renderParameters(s.properties.parameters, env);
  const target = splitCredentials((await env.render(s.properties.url)).trim());
  const previous = env.ctx.widgets[s.name]?.parsed;
  const kept: Record<string, unknown> = previous !== null && typeof previous === 'object' ? { ...previous } : {};
  const r = await sendOutbound(
    {
      method: 'POST',
      url: target.url,
      form,
      contentType: 'application/x-www-form-urlencoded',
      ...(target.basicAuth ? { basicAuth: target.basicAuth } : {}),
    },
    { ...env.http, redirect: 'manual' },
  );
  // §2.7: a re-run merges new `parsed` keys into the old object; a non-JSON answer leaves it as it was.
  const keepParsed = previous !== undefined ? { parsed: kept } : {};
  if (r.kind === 'error') {
    env.note({ level: 'error', code: 81017, message: `Function call failed (${r.reason})` });
    env.ctx.widgets[s.name] = { ...keepParsed };
    return event('fail');
  }
  const parsed = parseJsonObject(r.contentType, r.body);
  const concurrency = r.headers.get('x-twilio-function-concurrency');
  env.ctx.widgets[s.name] = {
    ...responseCtx(r),
    ...(parsed ? { parsed: { ...kept, ...parsed } } : keepParsed),
    ...(concurrency !== null ? { headers: { 'x-twilio-function-concurrency': concurrency } } : {}),
  };
  // §2.7: success is 2xx/3xx within 10 s; anything else is `fail`.
  const ok = r.status >= 200 && r.status < 400;
  if (!ok) env.note({ level: 'error', code: 81017, message: `Function answered ${r.status}` });
  return event(ok ? 'success' : 'fail');
}

/** The event a widget takes when its properties cannot be rendered; undefined ends the execution. */
export const FAILURE_EVENT: Partial<Record<FlowState['type'], string>> = {
  'send-message': 'failed',
  'send-and-wait-for-reply': 'deliveryFailure',
  'make-http-request': 'failed',
  'run-function': 'fail',
};

export class UnsupportedWidgetError extends Error {}

export async function executeWidget(s: FlowState, env: WidgetEnv): Promise<WidgetOutcome> {
  switch (s.type) {
    case 'send-message':
      return sendMessage(s, env);
    case 'send-and-wait-for-reply':
      return sendAndWait(s, env);
    case 'set-variables':
      return setVariables(s, env);
    case 'split-based-on':
      return split(s, env);
    case 'make-http-request':
      return httpRequest(s, env);
    case 'run-function':
      return runFunction(s, env);
    case 'add-twiml-redirect':
    case 'capture-payments':
    case 'connect-call-to':
    case 'connect-virtual-agent-v2':
    case 'connect-virtual-agent':
    case 'enqueue-call':
    case 'fork-stream':
    case 'gather-input-on-call':
    case 'make-outgoing-call-v1':
    case 'make-outgoing-call-v2':
    case 'record-call':
    case 'record-voicemail':
    case 'resume-conversation':
    case 'run-conversation-relay':
    case 'run-subflow':
    case 'say-play':
    case 'send-to-flex':
    case 'start-conversation':
    case 'trigger':
      // §2.9: voice widgets (and subflows, triggers as a target) cannot run offline.
      throw new UnsupportedWidgetError(`widget type "${s.type}" cannot run in the local Studio engine`);
  }
}
