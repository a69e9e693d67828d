import { describe, expect, it } from 'vitest';
import { TwilioApiError } from '../../src/local/twilio/contracts';
import { EXECUTION_LIFETIME_MS, MAX_CONSECUTIVE_RUNS, MAX_STEPS } from '../../src/local/studio/engine-types';
import { PATIENT, TWILIO_NUMBER, condition, flow, inbound, makeEngine, message, reminderFlow, trigger } from './support';

type Json = Record<string, unknown>;

function publish(engine: ReturnType<typeof makeEngine>['engine'], definition: Json): string {
  return engine.createFlow({ friendlyName: 'test', status: 'published', definition }).sid;
}

async function rejection(p: Promise<unknown> | (() => unknown)): Promise<TwilioApiError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    if (err instanceof TwilioApiError) return err;
    throw err;
  }
  throw new Error('expected a TwilioApiError');
}

/** REST trigger → set-variables → split → send-message (§2.1–2.5). */
function pipelineFlow(): Json {
  return flow([
    trigger({ incomingRequest: 'init' }),
    {
      name: 'init',
      type: 'set-variables',
      properties: {
        variables: [
          { key: 'greeting', value: 'Hi {{flow.data.first_name}}' },
          { key: 'kind', value: '{{flow.data.event_type | downcase}}' },
        ],
      },
      transitions: [{ event: 'next', next: 'by_type' }],
    },
    {
      name: 'by_type',
      type: 'split-based-on',
      properties: { input: '{{flow.variables.kind}}' },
      transitions: [
        { event: 'noMatch', next: 'other' },
        { event: 'match', next: 'booked', conditions: [condition('{{flow.variables.kind}}', 'equal_to', 'BOOKED')] },
      ],
    },
    message('booked', '{{flow.variables.greeting}}, you are booked ({{widgets.init.kind}}).'),
    message('other', 'Something else happened.'),
  ]);
}

describe('StudioEngine: REST executions', () => {
  it('runs trigger → set-variables → split → send-message and records every step', async () => {
    const { engine, messages } = makeEngine();
    const flowSid = publish(engine, pipelineFlow());
    const created = await engine.startExecution({
      flowSid,
      to: PATIENT,
      from: TWILIO_NUMBER,
      parameters: { first_name: 'Ana', event_type: 'BOOKED' },
    });

    expect(created.sid).toMatch(/^FN[0-9a-f]{32}$/);
    expect(created.status).toBe('active');
    expect(messages.sent).toHaveLength(1);
    expect(messages.sent[0]).toMatchObject({ from: TWILIO_NUMBER, to: PATIENT, body: 'Hi Ana, you are booked (booked).' });

    const x = engine.getExecution(flowSid, created.sid);
    expect(x.status).toBe('ended');
    expect(x.flowVersion).toBe(1);
    const ctx = engine.getContext(flowSid, created.sid);
    expect(ctx.flow).toMatchObject({
      sid: created.sid,
      flow_sid: flowSid,
      channel: { address: TWILIO_NUMBER },
      data: { first_name: 'Ana' },
    });
    expect(ctx.contact.channel.address).toBe(PATIENT);
    expect(ctx.trigger.request).toEqual({ to: PATIENT, from: TWILIO_NUMBER, parameters: { first_name: 'Ana', event_type: 'BOOKED' } });
    expect(ctx.flow.variables).toEqual({ greeting: 'Hi Ana', kind: 'booked' });
    expect(ctx.widgets.init).toEqual({ greeting: 'Hi Ana', kind: 'booked' });
    expect(ctx.widgets.by_type).toEqual({});
    expect(ctx.widgets.booked?.outbound).toMatchObject({
      Sid: messages.sent[0]?.sid,
      Status: 'queued',
      Body: messages.sent[0]?.body,
      To: PATIENT,
      From: TWILIO_NUMBER,
    });

    const steps = engine.listSteps(flowSid, created.sid);
    expect(steps.map((s) => [s.name, s.transitionedFrom, s.transitionedTo, s.type])).toEqual([
      ['incomingRequest', 'Trigger', 'init', 'trigger'],
      ['next', 'init', 'by_type', 'set-variables'],
      ['match', 'by_type', 'booked', 'split-based-on'],
      ['sent', 'booked', 'Ended', 'send-message'],
    ]);
    expect(steps.every((s) => /^FT[0-9a-f]{32}$/.test(s.sid))).toBe(true);
    // The step context is a snapshot taken when the step happened.
    expect(engine.getStepContext(flowSid, created.sid, steps[0]!.sid).flow.variables).toBeUndefined();
    expect(engine.getStepContext(flowSid, created.sid, steps[1]!.sid).flow.variables).toEqual({ greeting: 'Hi Ana', kind: 'booked' });
  });

  it('takes noMatch and leaves flow.data out when there are no Parameters', async () => {
    const { engine, messages } = makeEngine();
    const flowSid = publish(engine, pipelineFlow());
    const x = await engine.startExecution({ flowSid, to: PATIENT, from: TWILIO_NUMBER });
    expect(messages.bodies()).toEqual(['Something else happened.']);
    const ctx = engine.getContext(flowSid, x.sid);
    expect('data' in ctx.flow).toBe(false);
    expect(ctx.trigger.request).toEqual({ to: PATIENT, from: TWILIO_NUMBER });
  });

  it('ends at once when the trigger event is unwired', async () => {
    const { engine } = makeEngine();
    const flowSid = publish(engine, flow([trigger({})]));
    const x = await engine.startExecution({ flowSid, to: PATIENT, from: TWILIO_NUMBER });
    expect(engine.listSteps(flowSid, x.sid).map((s) => [s.transitionedFrom, s.transitionedTo])).toEqual([['Trigger', 'Ended']]);
    expect(engine.getExecution(flowSid, x.sid).status).toBe('ended');
  });

  it('takes failed when the carrier refuses a send-message', async () => {
    const { engine, messages } = makeEngine();
    const flowSid = publish(
      engine,
      flow([trigger({ incomingRequest: 'm' }), message('m', 'hello', 'after'), message('after', 'not reached')]),
    );
    messages.refuseNext();
    const x = await engine.startExecution({ flowSid, to: PATIENT, from: TWILIO_NUMBER });
    expect(engine.listSteps(flowSid, x.sid).at(-1)).toMatchObject({ name: 'failed', transitionedFrom: 'm', transitionedTo: 'Ended' });
    expect(engine.getExecutionLog(flowSid, x.sid).entries).toContainEqual(
      expect.objectContaining({ widget: 'm', code: 21610, level: 'error' }),
    );
    expect(messages.sent).toHaveLength(0);
  });

  it('rejects unknown and never-published flows, and uses the latest published revision', async () => {
    const { engine, messages } = makeEngine();
    expect((await rejection(engine.startExecution({ flowSid: `FW${'0'.repeat(32)}`, to: PATIENT, from: TWILIO_NUMBER }))).status).toBe(404);

    const one = flow([trigger({ incomingRequest: 'm' }), message('m', 'revision one')]);
    const draftSid = engine.createFlow({ friendlyName: 'd', status: 'draft', definition: one }).sid;
    expect((await rejection(engine.startExecution({ flowSid: draftSid, to: PATIENT, from: TWILIO_NUMBER }))).status).toBe(400);

    const flowSid = publish(engine, one);
    const two = engine.updateFlow(flowSid, {
      status: 'draft',
      definition: flow([trigger({ incomingRequest: 'm' }), message('m', 'revision two')]),
    });
    expect(two.revision).toBe(2);
    await engine.startExecution({ flowSid, to: PATIENT, from: TWILIO_NUMBER });
    const three = engine.updateFlow(flowSid, {
      status: 'published',
      definition: flow([trigger({ incomingRequest: 'm' }), message('m', 'revision three')]),
    });
    expect(three.revision).toBe(3);
    const x = await engine.startExecution({ flowSid, to: PATIENT, from: TWILIO_NUMBER });
    expect(messages.bodies()).toEqual(['revision one', 'revision three']);
    expect(engine.getExecution(flowSid, x.sid).flowVersion).toBe(3);
  });

  it('keeps an invalid draft with its errors but refuses to publish it', () => {
    const { engine } = makeEngine();
    const bad = flow([trigger({ incomingRequest: 'nowhere' })]);
    const draft = engine.createFlow({ friendlyName: 'd', status: 'draft', definition: bad });
    expect(draft.valid).toBe(false);
    expect(draft.errors[0]?.property_path).toBe('#/states/0/transitions/3/next');
    const err = (() => {
      try {
        engine.updateFlow(draft.sid, { status: 'published' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(TwilioApiError);
    expect(err).toMatchObject({
      status: 400,
      details: { errors: [expect.objectContaining({ property_path: '#/states/0/transitions/3/next' })] },
    });
  });

  it('refuses a voice widget with a clear error on the execution', async () => {
    const { engine } = makeEngine();
    const flowSid = publish(
      engine,
      flow([
        trigger({ incomingRequest: 'say' }),
        { name: 'say', type: 'say-play', properties: { say: 'hi' }, transitions: [{ event: 'audioComplete' }] },
      ]),
    );
    const x = await engine.startExecution({ flowSid, to: PATIENT, from: TWILIO_NUMBER });
    expect(engine.getExecution(flowSid, x.sid).status).toBe('ended');
    expect(engine.getExecutionLog(flowSid, x.sid).entries).toContainEqual(
      expect.objectContaining({ widget: 'say', level: 'error', message: expect.stringContaining('say-play') }),
    );
  });
});

describe('StudioEngine: one active execution per contact (§4.1)', () => {
  it('answers 409/20409 with the conflicting SID, and allows a retry after ending it', async () => {
    const { engine } = makeEngine();
    const flowSid = publish(engine, reminderFlow());
    const first = await engine.startExecution({ flowSid, to: PATIENT, from: TWILIO_NUMBER, parameters: { first_name: 'Ana' } });

    const conflict = await rejection(engine.startExecution({ flowSid, to: PATIENT, from: TWILIO_NUMBER }));
    expect(conflict).toMatchObject({ status: 409, code: 20409, details: { conflicting_execution_sid: first.sid } });
    expect(conflict.message).toBe(
      `Execution ${first.sid} is already active for this contact. End the active Execution before creating a new one`,
    );

    // Another contact is not affected.
    await expect(engine.startExecution({ flowSid, to: '+15550003333', from: TWILIO_NUMBER })).resolves.toMatchObject({ status: 'active' });

    expect(engine.endExecution(flowSid, first.sid).status).toBe('ended');
    expect((await rejection(() => engine.endExecution(flowSid, first.sid))).status).toBe(409);
    const retry = await engine.startExecution({ flowSid, to: PATIENT, from: TWILIO_NUMBER });
    expect(retry.sid).not.toBe(first.sid);
    expect(engine.listExecutions(flowSid, { status: 'active' }).map((x) => x.sid)).toContain(retry.sid);
  });

  it('lists executions newest first, filters by status, and deletes', async () => {
    const { engine, clock } = makeEngine();
    const flowSid = publish(engine, reminderFlow());
    const a = await engine.startExecution({ flowSid, to: '+15550000001', from: TWILIO_NUMBER });
    clock.advance(1000);
    const b = await engine.startExecution({ flowSid, to: '+15550000002', from: TWILIO_NUMBER });
    engine.endExecution(flowSid, a.sid);
    expect(engine.listExecutions(flowSid).map((x) => x.sid)).toEqual([b.sid, a.sid]);
    expect(engine.listExecutions(flowSid, { status: 'ended' }).map((x) => x.sid)).toEqual([a.sid]);
    engine.deleteExecution(flowSid, b.sid);
    expect(engine.listExecutions(flowSid).map((x) => x.sid)).toEqual([a.sid]);
    expect((await rejection(() => engine.getExecution(flowSid, b.sid))).status).toBe(404);
  });
});

describe('StudioEngine: send-and-wait-for-reply and inbound routing (§2.3, §4.2)', () => {
  it('parks, then a reply resumes it with widgets.ask.inbound', async () => {
    const { engine, messages } = makeEngine();
    const flowSid = publish(engine, reminderFlow());
    const x = await engine.startExecution({ flowSid, to: PATIENT, from: TWILIO_NUMBER, parameters: { first_name: 'Ana' } });
    expect(messages.bodies()).toEqual(['Hi Ana, reply YES to confirm.']);
    expect(engine.getExecution(flowSid, x.sid).status).toBe('active');
    expect(engine.getContext(flowSid, x.sid).widgets.ask?.outbound).toMatchObject({ Sid: messages.sent[0]?.sid });

    const reply = inbound(' Yes ');
    await expect(engine.handleInboundMessage(flowSid, reply)).resolves.toEqual({ outcome: 'resumed', executionSid: x.sid });
    expect(messages.bodies()).toEqual(['Hi Ana, reply YES to confirm.', 'Confirmed.']);
    const ctx = engine.getContext(flowSid, x.sid);
    expect(ctx.widgets.ask?.inbound).toEqual(reply);
    expect(ctx.widgets.ask?.outbound).toBeDefined();
    expect(engine.listSteps(flowSid, x.sid).map((s) => s.name)).toEqual(['incomingRequest', 'incomingMessage', 'match', 'sent']);
    expect(engine.getExecution(flowSid, x.sid).status).toBe('ended');
  });

  it('ignores a reply while the execution is active but not waiting', async () => {
    const { engine, messages } = makeEngine();
    const flowSid = publish(engine, reminderFlow());
    const x = await engine.startExecution({ flowSid, to: PATIENT, from: TWILIO_NUMBER });
    const release = messages.hold();
    const first = engine.handleInboundMessage(flowSid, inbound('yes'));
    await waitFor(() => messages.waiting === 1);

    await expect(engine.handleInboundMessage(flowSid, inbound('second'))).resolves.toEqual({ outcome: 'ignored', executionSid: x.sid });
    release();
    await expect(first).resolves.toEqual({ outcome: 'resumed', executionSid: x.sid });
    expect(engine.getContext(flowSid, x.sid).widgets.ask?.inbound).toMatchObject({ Body: 'yes' });
    expect(messages.bodies()).toHaveLength(2);
    expect(engine.listExecutions(flowSid)).toHaveLength(1);
  });

  it('starts an incomingMessage execution when the contact has none active', async () => {
    const { engine, messages } = makeEngine();
    const flowSid = publish(engine, reminderFlow());
    const msg = inbound('hello there');
    const r = await engine.handleInboundMessage(flowSid, msg);
    expect(r.outcome).toBe('started');
    const ctx = engine.getContext(flowSid, r.executionSid ?? '');
    expect(ctx.trigger.message).toEqual(msg);
    expect(ctx.flow.channel.address).toBe(TWILIO_NUMBER);
    expect(ctx.contact.channel.address).toBe(PATIENT);
    expect(ctx.trigger.request).toBeUndefined();
    expect(messages.sent[0]).toMatchObject({ from: TWILIO_NUMBER, to: PATIENT, body: 'Hello! You wrote: hello there' });
    expect(engine.getExecution(flowSid, r.executionSid ?? '').initiatedBy).toBe(msg.MessageSid);
  });

  it('refuses an inbound message for an unknown flow or without To/From', async () => {
    const { engine } = makeEngine();
    const flowSid = publish(engine, reminderFlow());
    expect((await rejection(engine.handleInboundMessage(`FW${'0'.repeat(32)}`, inbound('hi')))).status).toBe(404);
    expect((await rejection(engine.handleInboundMessage(flowSid, { Body: 'hi', From: PATIENT }))).status).toBe(400);
  });

  it('routes by (channel address, contact): another number or contact starts its own execution', async () => {
    const { engine } = makeEngine();
    const flowSid = publish(engine, reminderFlow());
    const x = await engine.startExecution({ flowSid, to: PATIENT, from: TWILIO_NUMBER });
    const other = await engine.handleInboundMessage(flowSid, inbound('yes', PATIENT, '+15550004444'));
    expect(other.outcome).toBe('started');
    expect(other.executionSid).not.toBe(x.sid);
    await expect(engine.handleInboundMessage(flowSid, inbound('yes'))).resolves.toEqual({ outcome: 'resumed', executionSid: x.sid });
  });

  it('times out after the timeout seconds on the injected clock', async () => {
    const { engine, clock, messages } = makeEngine();
    const flowSid = publish(engine, reminderFlow('{{flow.data.wait}}'));
    const x = await engine.startExecution({ flowSid, to: PATIENT, from: TWILIO_NUMBER, parameters: { wait: 600 } });
    clock.advance(599_000);
    await engine.idle();
    expect(engine.getExecution(flowSid, x.sid).status).toBe('active');
    clock.advance(2_000); // onChange fires the timer
    await engine.idle();
    expect(messages.bodies().at(-1)).toBe('Still there?');
    expect(engine.listSteps(flowSid, x.sid).map((s) => [s.name, s.transitionedFrom, s.transitionedTo])).toContainEqual([
      'timeout',
      'ask',
      'nudge',
    ]);
    expect(engine.getExecution(flowSid, x.sid).status).toBe('ended');
    // A late reply now starts a new execution.
    await expect(engine.handleInboundMessage(flowSid, inbound('yes'))).resolves.toMatchObject({ outcome: 'started' });
  });

  it('defaults the wait to 3600 s when the timeout renders empty', async () => {
    const { engine, clock, messages } = makeEngine();
    const flowSid = publish(engine, reminderFlow('{{flow.data.absent}}'));
    await engine.startExecution({ flowSid, to: PATIENT, from: TWILIO_NUMBER });
    clock.advance(3_599_000);
    await engine.tick();
    expect(messages.bodies()).toHaveLength(1);
    clock.advance(1_000);
    await engine.tick();
    expect(messages.bodies().at(-1)).toBe('Still there?');
  });

  it('lets a due timer that got there first win over a reply (the reply then starts anew)', async () => {
    const { engine, clock, messages } = makeEngine();
    const flowSid = publish(engine, reminderFlow('60'));
    const x = await engine.startExecution({ flowSid, to: PATIENT, from: TWILIO_NUMBER });
    clock.advance(61_000); // onChange queues the timer before the reply arrives
    const r = await engine.handleInboundMessage(flowSid, inbound('yes'));
    await engine.idle();
    expect(
      engine
        .listSteps(flowSid, x.sid)
        .filter((s) => s.transitionedFrom === 'ask')
        .map((s) => s.name),
    ).toEqual(['timeout']);
    expect(r).toMatchObject({ outcome: 'started' });
    expect(r.executionSid).not.toBe(x.sid);
    expect(messages.bodies().slice(1)).toEqual(['Still there?', 'Hello! You wrote: yes']);
  });

  it('lets a reply that got there first win over a due timer (the timer then does nothing)', async () => {
    const clock = {
      t: Date.UTC(2026, 0, 1),
      now() {
        return this.t;
      },
    };
    const { engine, messages } = makeEngine({ clock });
    const flowSid = publish(engine, reminderFlow('60'));
    const x = await engine.startExecution({ flowSid, to: PATIENT, from: TWILIO_NUMBER });
    clock.t += 61_000;
    const [r] = await Promise.all([engine.handleInboundMessage(flowSid, inbound('yes')), engine.tick()]);
    await engine.idle();
    expect(r).toEqual({ outcome: 'resumed', executionSid: x.sid });
    expect(
      engine
        .listSteps(flowSid, x.sid)
        .filter((s) => s.transitionedFrom === 'ask')
        .map((s) => s.name),
    ).toEqual(['incomingMessage']);
    expect(messages.bodies().slice(1)).toEqual(['Confirmed.']);
  });

  it('takes deliveryFailure when the question cannot be sent, or a status callback says so', async () => {
    const { engine, messages } = makeEngine();
    const flowSid = publish(engine, reminderFlow());
    messages.refuseNext();
    const x = await engine.startExecution({ flowSid, to: PATIENT, from: TWILIO_NUMBER });
    expect(engine.listSteps(flowSid, x.sid).at(-1)).toMatchObject({
      name: 'deliveryFailure',
      transitionedFrom: 'ask',
      transitionedTo: 'Ended',
    });

    const y = await engine.startExecution({ flowSid, to: PATIENT, from: TWILIO_NUMBER });
    const sid = messages.sent.at(-1)?.sid ?? '';
    expect(await engine.handleMessageStatus(sid, 'undelivered')).toBe(true);
    expect(engine.listSteps(flowSid, y.sid).at(-1)).toMatchObject({ name: 'deliveryFailure', transitionedFrom: 'ask' });
    expect(engine.getContext(flowSid, y.sid).widgets.ask?.outbound).toMatchObject({ Status: 'undelivered' });
  });

  it('ends a waiting execution at the 30-day lifetime', async () => {
    const { engine, clock, messages } = makeEngine();
    const flowSid = publish(engine, reminderFlow(String(40 * 24 * 3600)));
    const x = await engine.startExecution({ flowSid, to: PATIENT, from: TWILIO_NUMBER });
    clock.advance(EXECUTION_LIFETIME_MS);
    await engine.idle();
    expect(engine.getExecution(flowSid, x.sid).status).toBe('ended');
    expect(messages.bodies()).toHaveLength(1);
    expect(engine.getExecutionLog(flowSid, x.sid).entries.map((e) => e.message)).toContainEqual(expect.stringContaining('30-day'));
  });
});

describe('StudioEngine: limits (§4.3, §7.8)', () => {
  it(`ends an execution after ${MAX_STEPS} steps`, async () => {
    const { engine } = makeEngine();
    const ping = (name: string, next: string) => ({
      name,
      type: 'set-variables',
      properties: { variables: [{ key: 'at', value: name }] },
      transitions: [{ event: 'next', next }],
    });
    const flowSid = publish(engine, flow([trigger({ incomingRequest: 'a' }), ping('a', 'b'), ping('b', 'a')]));
    const x = await engine.startExecution({ flowSid, to: PATIENT, from: TWILIO_NUMBER });
    expect(engine.getExecution(flowSid, x.sid).status).toBe('ended');
    expect(engine.listSteps(flowSid, x.sid)).toHaveLength(MAX_STEPS);
    expect(engine.getExecutionLog(flowSid, x.sid).entries).toContainEqual(
      expect.objectContaining({ level: 'error', message: expect.stringContaining(`${MAX_STEPS} steps`) }),
    );
  });

  it(`ends an execution when one widget runs ${MAX_CONSECUTIVE_RUNS} times in a row`, async () => {
    const { engine } = makeEngine();
    const counter = '{%- if flow.variables.n -%}{{ flow.variables.n | plus: 1 }}{%- else -%}1{%- endif -%}';
    const flowSid = publish(
      engine,
      flow([
        trigger({ incomingRequest: 'count' }),
        {
          name: 'count',
          type: 'set-variables',
          properties: { variables: [{ key: 'n', value: counter }] },
          transitions: [{ event: 'next', next: 'count' }],
        },
      ]),
    );
    const x = await engine.startExecution({ flowSid, to: PATIENT, from: TWILIO_NUMBER });
    expect(engine.getExecution(flowSid, x.sid).status).toBe('ended');
    expect(engine.getContext(flowSid, x.sid).flow.variables?.n).toBe(String(MAX_CONSECUTIVE_RUNS));
    expect(engine.getExecutionLog(flowSid, x.sid).entries).toContainEqual(
      expect.objectContaining({ widget: 'count', message: expect.stringContaining('in a row') }),
    );
  });
});

async function waitFor(test: () => boolean, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  while (!test()) {
    if (Date.now() > until) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
}
