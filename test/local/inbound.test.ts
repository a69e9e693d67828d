import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OPT_IN_CONFIRMATION, OPT_OUT_CONFIRMATION } from '../../src/local/phones/sms';
import { ACCOUNT_SID, CLINIC, conversation, OTHER_NUMBER, startStandIn, startWebhook, type StandIn } from './helpers';

async function rejection(p: Promise<unknown>): Promise<{ status: number; code: number }> {
  try {
    await p;
  } catch (err) {
    return err as { status: number; code: number };
  }
  throw new Error('expected the SDK call to be refused');
}

async function sendAsPhone(base: string, phone: string, body: unknown): Promise<Response> {
  return fetch(`${base}/local/phones/${encodeURIComponent(phone)}/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('inbound SMS from virtual phones', () => {
  let s: StandIn;
  let hook: Awaited<ReturnType<typeof startWebhook>>;
  const FLOW = `FW${'c3'.repeat(16)}`;

  beforeAll(async () => {
    s = await startStandIn();
    hook = await startWebhook((p) => (p.OptOutType === 'STOP' ? 'this reply must be blocked' : `You said: ${p.Body} & more`));
    const clinic = s.carrier.findNumber(CLINIC);
    s.carrier.updateNumber(clinic!.sid, { smsUrl: `${hook.url}/sms` });
    const other = s.carrier.findNumber(OTHER_NUMBER);
    s.carrier.updateNumber(other!.sid, { smsUrl: `https://webhooks.twilio.com/v1/Accounts/${ACCOUNT_SID}/Flows/${FLOW}` });
  });
  beforeEach(() => {
    hook.calls.length = 0;
  });
  afterAll(async () => {
    await s.carrier.idle();
    await s.close();
    await hook.close();
  });

  it('posts the standard params to the webhook with a valid signature and delivers the TwiML reply', async () => {
    const phone = '+15550102001';
    const res = await sendAsPhone(s.url, phone, { body: 'What time is it?' });
    expect(res.status).toBe(202);
    const { message } = (await res.json()) as { message: { sid: string; direction: string; to: string } };
    expect(message).toMatchObject({ direction: 'inbound', to: CLINIC });
    await s.carrier.idle();

    expect(hook.calls).toHaveLength(1);
    const call = hook.calls[0]!;
    expect(call.signatureValid).toBe(true);
    expect(call.params).toEqual({
      MessageSid: message.sid,
      SmsSid: message.sid,
      SmsMessageSid: message.sid,
      AccountSid: ACCOUNT_SID,
      From: phone,
      To: CLINIC,
      Body: 'What time is it?',
      NumMedia: '0',
      NumSegments: '1',
      SmsStatus: 'received',
      ApiVersion: '2010-04-01',
    });

    const convo = await conversation(s.url, phone);
    expect(convo.map((m) => [m.direction, m.body])).toEqual([
      ['inbound', 'What time is it?'],
      ['outbound-api', 'You said: What time is it? & more'],
    ]);
  });

  it('signs a GET webhook over the full URL with the params in the query', async () => {
    const clinic = s.carrier.findNumber(CLINIC)!;
    s.carrier.updateNumber(clinic.sid, { smsUrl: `${hook.url}/sms-get?clinic=1`, smsMethod: 'GET' });
    try {
      const phone = '+15550102010';
      await s.carrier.receive(phone, CLINIC, 'via GET');
      await s.carrier.idle();
      expect(hook.calls).toEqual([
        expect.objectContaining({
          path: '/sms-get',
          signatureValid: true,
          params: expect.objectContaining({ clinic: '1', Body: 'via GET', From: phone }),
        }),
      ]);
      expect((await conversation(s.url, phone)).map((m) => m.body)).toEqual(['via GET', 'You said: via GET & more']);
    } finally {
      s.carrier.updateNumber(clinic.sid, { smsUrl: `${hook.url}/sms`, smsMethod: 'POST' });
    }
  });

  it('STOP opts the phone out: one standard confirmation, OptOutType=STOP forwarded, later sends refused with 21610', async () => {
    const phone = '+15550102002';
    await s.client.messages.create({ to: phone, from: CLINIC, body: 'Reminder: appointment tomorrow' });
    await s.carrier.receive(phone, CLINIC, '  stop. ');
    expect(s.carrier.isOptedOut(CLINIC, phone)).toBe(true);
    await s.carrier.idle();

    expect(hook.calls.map((c) => c.params.OptOutType)).toEqual(['STOP']);
    const convo = await conversation(s.url, phone);
    expect(convo.map((m) => m.body)).toEqual(['Reminder: appointment tomorrow', '  stop. ', OPT_OUT_CONFIRMATION]);

    const err = await rejection(s.client.messages.create({ to: phone, from: CLINIC, body: 'one more reminder' }));
    expect(err).toMatchObject({ status: 400, code: 21610 });
    // Opt-out is per sender: the other number may still text this phone.
    expect(s.carrier.isOptedOut(OTHER_NUMBER, phone)).toBe(false);
    expect((await s.client.messages.create({ to: phone, from: OTHER_NUMBER, body: 'other line' })).status).toBe('queued');
  });

  it.each(['STOPALL', 'Unsubscribe!', 'cancel', 'END', 'quit?', 'REVOKE', 'optout'])('treats %s as an opt-out keyword', async (word) => {
    const phone = `+1555010300${['STOPALL', 'Unsubscribe!', 'cancel', 'END', 'quit?', 'REVOKE', 'optout'].indexOf(word)}`;
    await s.carrier.receive(phone, CLINIC, word);
    expect(s.carrier.isOptedOut(CLINIC, phone)).toBe(true);
    await s.carrier.idle();
    expect(hook.calls.map((c) => c.params.OptOutType)).toEqual(['STOP']);
  });

  it('does not treat a sentence containing stop as an opt-out', async () => {
    const phone = '+15550102003';
    await s.carrier.receive(phone, CLINIC, 'please stop by at 3');
    await s.carrier.idle();
    expect(s.carrier.isOptedOut(CLINIC, phone)).toBe(false);
    expect(hook.calls).toHaveLength(1);
    expect(hook.calls[0]?.params.OptOutType).toBeUndefined();
  });

  it('START opts back in with the standard confirmation and OptOutType=START', async () => {
    const phone = '+15550102004';
    await s.carrier.receive(phone, CLINIC, 'STOP');
    await s.carrier.idle();
    await s.carrier.receive(phone, CLINIC, 'Start');
    expect(s.carrier.isOptedOut(CLINIC, phone)).toBe(false);
    await s.carrier.idle();

    expect(hook.calls.map((c) => c.params.OptOutType)).toEqual(['STOP', 'START']);
    const outbound = (await conversation(s.url, phone)).filter((m) => m.direction === 'outbound-api').map((m) => m.body);
    expect(outbound).toEqual([OPT_OUT_CONFIRMATION, OPT_IN_CONFIRMATION, 'You said: Start & more']);
    expect((await s.client.messages.create({ to: phone, from: CLINIC, body: 'welcome back' })).status).toBe('queued');
  });

  it('YES re-subscribes only an opted-out phone; otherwise it is an ordinary reply', async () => {
    const phone = '+15550102005';
    await s.carrier.receive(phone, CLINIC, 'YES');
    await s.carrier.idle();
    expect(hook.calls[0]?.params.OptOutType).toBeUndefined();

    await s.carrier.receive(phone, CLINIC, 'quit');
    await s.carrier.receive(phone, CLINIC, 'yes');
    await s.carrier.idle();
    expect(hook.calls.map((c) => c.params.OptOutType)).toEqual([undefined, 'STOP', 'START']);
    expect(s.carrier.isOptedOut(CLINIC, phone)).toBe(false);
  });

  it('passes HELP through to the app without an automatic reply', async () => {
    const phone = '+15550102006';
    await s.carrier.receive(phone, CLINIC, 'help');
    await s.carrier.idle();
    expect(hook.calls.map((c) => c.params.OptOutType)).toEqual(['HELP']);
    const outbound = (await conversation(s.url, phone)).filter((m) => m.direction === 'outbound-api');
    expect(outbound.map((m) => m.body)).toEqual(['You said: help & more']);
  });

  it('hands messages for a Studio webhook number to the Studio engine', async () => {
    const phone = '+15550102007';
    const before = s.studio.calls.length;
    const m = await s.carrier.receive(phone, OTHER_NUMBER, 'C');
    await s.carrier.idle();
    expect(hook.calls).toHaveLength(0);
    expect(s.studio.calls.slice(before)).toEqual([
      {
        flowSid: FLOW,
        params: expect.objectContaining({ MessageSid: m.sid, From: phone, To: OTHER_NUMBER, Body: 'C', AccountSid: ACCOUNT_SID }),
      },
    ]);
  });

  it('rejects bad input to the phones API naming the field', async () => {
    const badPhone = await sendAsPhone(s.url, '5551234', { body: 'hi' });
    expect(badPhone.status).toBe(400);
    expect(await badPhone.json()).toMatchObject({ error: { code: 'invalid-request', field: 'phone' } });

    const noBody = await sendAsPhone(s.url, '+15550102008', {});
    expect(noBody.status).toBe(400);
    expect(await noBody.json()).toMatchObject({ error: { field: 'body', message: 'body is required' } });

    const unknownTo = await sendAsPhone(s.url, '+15550102008', { to: '+15557777777', body: 'hi' });
    expect(unknownTo.status).toBe(404);
    expect(await unknownTo.json()).toMatchObject({ error: { field: 'to' } });
  });

  it('lists phones with their message counts', async () => {
    const res = await fetch(`${s.url}/local/phones`);
    const { phones } = (await res.json()) as { phones: { phone: string; message_count: number; opted_out_of: string[] }[] };
    expect(phones.find((p) => p.phone === '+15550102002')).toMatchObject({ message_count: 4, opted_out_of: [CLINIC] });
  });

  it('streams a phone’s new messages as server-sent events', async () => {
    const phone = '+15550102009';
    const controller = new AbortController();
    const res = await fetch(`${s.url}/local/phones/${encodeURIComponent(phone)}/stream`, { signal: controller.signal });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    await reader.read();
    await s.client.messages.create({ to: phone, from: CLINIC, body: 'streamed' });
    while (!text.includes('"body":"streamed"')) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += decoder.decode(chunk.value);
    }
    controller.abort();
    expect(text).toMatch(/event: message\ndata: \{.*"body":"streamed"/);
  });
});
