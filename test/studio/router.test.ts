import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStudioRouter } from '../../src/local/studio/router';
import { createTwilioClient, type TwilioClient } from '../../src/twilio/client';
import { ACCOUNT_SID, AUTH_TOKEN, PATIENT, TWILIO_NUMBER, flow, inbound, makeEngine, reminderFlow, trigger } from './support';
import { assertConformance } from '../contract/conformance';
import { recordExchanges, type Exchange } from '../contract/exchange-recorder';

/** The Studio v2 REST surface driven by the real twilio SDK 6.2.0 through its redirecting client. */

const { engine, messages } = makeEngine();
const exchanges: Exchange[] = [];
let server: Server;
let client: TwilioClient;
let base: string;

beforeAll(async () => {
  const app = express();
  app.use(recordExchanges(exchanges));
  app.use(
    '/studio',
    createStudioRouter(engine, () => ({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN })),
  );
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  client = createTwilioClient({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, apiBaseUrl: base });
});

afterAll(async () => {
  engine.stop();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assertConformance(exchanges, 'Studio stand-in of the router tests');
});

function basicAuth(): string {
  return `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}`;
}

/** The RestException the SDK throws, with `details` read as the JSON object Twilio sends. */
async function restError(
  p: Promise<unknown>,
): Promise<{ status: number; code?: number; message: string; details?: Record<string, unknown> }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof twilio.RestException) {
      const details: unknown = err.details;
      return { status: err.status, code: err.code, message: err.message, ...(isRecord(details) ? { details } : {}) };
    }
    throw err;
  }
  throw new Error('expected a RestException');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

describe('Studio v2 REST through the twilio SDK', () => {
  let flowSid = '';

  it('validates a definition: valid → { valid: true }, invalid → 400 with details.errors', async () => {
    const ok = await client.studio.v2.flowValidate.update({ friendlyName: 'Reminders', status: 'published', definition: reminderFlow() });
    expect(ok.valid).toBe(true);

    const bad = reminderFlow();
    (bad.states as Record<string, Record<string, unknown>>[])[1]!.properties!.timeout = 3600;
    const err = await restError(client.studio.v2.flowValidate.update({ friendlyName: 'Reminders', status: 'published', definition: bad }));
    expect(err.status).toBe(400);
    expect(err.code).toBe(20001);
    expect(err.details?.errors).toEqual([
      expect.objectContaining({ property_path: '#/states/1/properties/timeout', message: expect.any(String) }),
    ]);
  });

  it('creates, lists, fetches and updates a flow', async () => {
    const created = await client.studio.v2.flows.create({
      friendlyName: 'Reminders',
      status: 'published',
      definition: reminderFlow(),
      commitMessage: 'first',
    });
    flowSid = created.sid;
    expect(created.sid).toMatch(/^FW[0-9a-f]{32}$/);
    expect(created).toMatchObject({
      accountSid: ACCOUNT_SID,
      revision: 1,
      valid: true,
      errors: [],
      status: 'published',
      commitMessage: 'first',
    });
    expect(created.webhookUrl).toBe(`https://webhooks.twilio.com/v1/Accounts/${ACCOUNT_SID}/Flows/${flowSid}`);
    expect(created.definition).toEqual(reminderFlow());
    expect(created.dateCreated).toBeInstanceOf(Date);
    expect(created.links.executions).toBe(`https://studio.twilio.com/v2/Flows/${flowSid}/Executions`);

    const listed = await client.studio.v2.flows.list();
    expect(listed.map((f) => f.sid)).toContain(flowSid);
    expect(listed.find((f) => f.sid === flowSid)?.definition).toBeNull();

    expect((await client.studio.v2.flows(flowSid).fetch()).definition).toEqual(reminderFlow());
    const updated = await client.studio.v2.flows(flowSid).update({ status: 'published', commitMessage: 'again' });
    expect(updated.revision).toBe(2);
    expect((await client.studio.v2.flows(flowSid).revisions('LatestPublished').fetch()).revision).toBe(2);
    expect((await client.studio.v2.flows(flowSid).revisions('1').fetch()).commitMessage).toBe('first');
    // twilio-node 6.2.0's revisions.list() throws while building instances (FlowRevisionPage
    // passes no revision), so the list envelope is checked over plain HTTP.
    const res = await fetch(`${base}/studio/v2/Flows/${flowSid}/Revisions`, { headers: { authorization: basicAuth() } });
    const body = (await res.json()) as { revisions: { revision: number }[]; meta: { key: string; page_size: number } };
    expect(body.revisions.map((r) => r.revision)).toEqual([2, 1]);
    expect(body.meta).toMatchObject({ key: 'revisions', page_size: 50 });
  });

  let executionSid = '';

  it('starts an execution and exposes its context and steps', async () => {
    const x = await client.studio.v2
      .flows(flowSid)
      .executions.create({ to: PATIENT, from: TWILIO_NUMBER, parameters: { first_name: 'Ana' } });
    executionSid = x.sid;
    expect(x.sid).toMatch(/^FN[0-9a-f]{32}$/);
    expect(x).toMatchObject({ flowSid, accountSid: ACCOUNT_SID, status: 'active', contactChannelAddress: PATIENT, flowVersion: 2 });
    expect(x.links).toEqual({ steps: `${x.url}/Steps`, execution_context: `${x.url}/Context` });
    expect(messages.bodies().at(-1)).toBe('Hi Ana, reply YES to confirm.');

    await engine.handleInboundMessage(flowSid, inbound('yes'));
    const ctx = await client.studio.v2.flows(flowSid).executions(x.sid).executionContext().fetch();
    expect(ctx).toMatchObject({ flowSid, executionSid: x.sid, accountSid: ACCOUNT_SID });
    expect(ctx.context.widgets.ask.inbound.Body).toBe('yes');
    expect(ctx.context.flow.data).toEqual({ first_name: 'Ana' });

    const steps = await client.studio.v2.flows(flowSid).executions(x.sid).steps.list();
    expect(steps.map((s) => [s.name, s.transitionedFrom, s.transitionedTo])).toEqual([
      ['incomingRequest', 'Trigger', 'ask'],
      ['incomingMessage', 'ask', 'route'],
      ['match', 'route', 'thanks'],
      ['sent', 'thanks', 'Ended'],
    ]);
    const step = await client.studio.v2.flows(flowSid).executions(x.sid).steps(steps[1]!.sid).fetch();
    expect(step).toMatchObject({ executionSid: x.sid, type: 'send-and-wait-for-reply', name: 'incomingMessage' });
    const stepCtx = await client.studio.v2.flows(flowSid).executions(x.sid).steps(steps[1]!.sid).stepContext().fetch();
    expect(stepCtx.stepSid).toBe(steps[1]!.sid);
    expect(stepCtx.context.widgets.ask.inbound.Body).toBe('yes');
    expect((await client.studio.v2.flows(flowSid).executions(x.sid).fetch()).status).toBe('ended');
  });

  it('surfaces the one-active-execution rule as RestException 20409, then ends and retries', async () => {
    const first = await client.studio.v2.flows(flowSid).executions.create({ to: PATIENT, from: TWILIO_NUMBER });
    const err = await restError(client.studio.v2.flows(flowSid).executions.create({ to: PATIENT, from: TWILIO_NUMBER }));
    expect(err).toMatchObject({ status: 409, code: 20409, details: { conflicting_execution_sid: first.sid } });
    expect(err.message).toContain('is already active for this contact');

    const ended = await client.studio.v2.flows(flowSid).executions(first.sid).update({ status: 'ended' });
    expect(ended.status).toBe('ended');
    expect((await restError(client.studio.v2.flows(flowSid).executions(first.sid).update({ status: 'ended' }))).status).toBe(409);

    const retry = await client.studio.v2.flows(flowSid).executions.create({ to: PATIENT, from: TWILIO_NUMBER });
    expect(retry.status).toBe('active');
    // Twilio's list has no Status filter: the statuses are read from the listed executions.
    const listed = await client.studio.v2.flows(flowSid).executions.list();
    expect(listed.filter((e) => e.status === 'active').map((e) => e.sid)).toEqual([retry.sid]);
    expect(listed.filter((e) => e.status === 'ended').map((e) => e.sid)).toEqual(expect.arrayContaining([first.sid, executionSid]));
  });

  it('pages lists the way the SDK follows them', async () => {
    const all = await client.studio.v2.flows(flowSid).executions.list();
    const paged = await client.studio.v2.flows(flowSid).executions.list({ pageSize: 1 });
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect(paged.map((e) => e.sid)).toEqual(all.map((e) => e.sid));
  });

  it('deletes an execution and a flow', async () => {
    expect(await client.studio.v2.flows(flowSid).executions(executionSid).remove()).toBe(true);
    expect((await restError(client.studio.v2.flows(flowSid).executions(executionSid).fetch())).status).toBe(404);
    const temp = await client.studio.v2.flows.create({ friendlyName: 'temp', status: 'draft', definition: flow([trigger({})]) });
    expect(await client.studio.v2.flows(temp.sid).remove()).toBe(true);
    expect((await restError(client.studio.v2.flows(temp.sid).fetch())).code).toBe(20404);
  });

  it('answers malformed requests and unknown paths with Twilio JSON errors', async () => {
    const post = (path: string, form: Record<string, string>) =>
      fetch(`${base}/studio/v2${path}`, {
        method: 'POST',
        headers: { authorization: basicAuth(), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form),
      });
    const notJson = await post('/Flows', { FriendlyName: 'x', Status: 'draft', Definition: '{not json' });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ status: 400, code: 20001, message: expect.stringContaining('Definition') });
    const badStatus = await post('/Flows', { FriendlyName: 'x', Status: 'live', Definition: '{}' });
    expect(badStatus.status).toBe(400);
    const arrayParams = await post(`/Flows/${flowSid}/Executions`, { To: '+15550009999', From: TWILIO_NUMBER, Parameters: '[1,2]' });
    expect(await arrayParams.json()).toMatchObject({ status: 400, message: 'Parameters must be a JSON object' });
    const missingTo = await post(`/Flows/${flowSid}/Executions`, { From: TWILIO_NUMBER });
    expect(missingTo.status).toBe(400);
    const unknown = await fetch(`${base}/studio/v2/Nothing`, { headers: { authorization: basicAuth() } });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 20404, status: 404 });
  });

  it('refuses a wrong auth token and an unpublished flow', async () => {
    const wrong = createTwilioClient({ accountSid: ACCOUNT_SID, authToken: 'b'.repeat(32), apiBaseUrl: base });
    expect(await restError(wrong.studio.v2.flows.list())).toMatchObject({ status: 401, code: 20003 });
    const draft = await client.studio.v2.flows.create({ friendlyName: 'draft', status: 'draft', definition: reminderFlow() });
    expect((await restError(client.studio.v2.flows(draft.sid).executions.create({ to: PATIENT, from: TWILIO_NUMBER }))).status).toBe(400);
  });
});
