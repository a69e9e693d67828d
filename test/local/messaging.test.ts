import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTwilioClient } from '../../src/twilio/client';
import { ACCOUNT_SID, AUTH_TOKEN, CLINIC, conversation, OTHER_NUMBER, startStandIn, startWebhook, type StandIn } from './helpers';

interface RestError {
  status: number;
  code: number;
  message: string;
}

async function rejection(p: Promise<unknown>): Promise<RestError> {
  try {
    await p;
  } catch (err) {
    return err as RestError;
  }
  throw new Error('expected the SDK call to be refused');
}

describe('Messages API through the twilio SDK', () => {
  let s: StandIn;
  let hook: Awaited<ReturnType<typeof startWebhook>>;

  beforeAll(async () => {
    s = await startStandIn();
    hook = await startWebhook(() => undefined);
  });
  afterAll(async () => {
    await s.carrier.idle();
    await s.close();
    await hook.close();
  });

  it('creates a message that lands in the phone conversation and is delivered', async () => {
    const phone = '+15550101001';
    const m = await s.client.messages.create({ to: phone, from: CLINIC, body: 'Your appointment is tomorrow at 9:00' });
    expect(m.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(m.status).toBe('queued');
    expect(m.direction).toBe('outbound-api');
    expect(m.accountSid).toBe(ACCOUNT_SID);
    expect(m.numSegments).toBe('1');
    expect(m.dateCreated).toBeInstanceOf(Date);
    expect(Number.isNaN(m.dateCreated.getTime())).toBe(false);

    await s.carrier.idle();
    const convo = await conversation(s.url, phone);
    expect(convo).toEqual([
      expect.objectContaining({ sid: m.sid, direction: 'outbound-api', body: 'Your appointment is tomorrow at 9:00', status: 'delivered' }),
    ]);

    const fetched = await s.client.messages(m.sid).fetch();
    expect(fetched.status).toBe('delivered');
    expect(fetched.dateSent).toBeInstanceOf(Date);
    expect(fetched.to).toBe(phone);
  });

  it('counts media and segments the way Twilio reports them', async () => {
    const mms = await s.client.messages.create({
      to: '+15550101007',
      from: CLINIC,
      body: 'map',
      mediaUrl: ['https://example.test/map.png'],
    });
    expect(mms.sid).toMatch(/^MM/);
    expect(mms.numMedia).toBe('1');
    const long = await s.client.messages.create({ to: '+15550101007', from: CLINIC, body: 'a'.repeat(161) });
    expect(long.numSegments).toBe('2');
    const unicode = await s.client.messages.create({ to: '+15550101007', from: CLINIC, body: 'Confirmé ✅'.padEnd(71, '.') });
    expect(unicode.numSegments).toBe('2');
  });

  it('lists messages newest first with To/From/DateSent filters and follows page links', async () => {
    const phone = '+15550101002';
    const sids: string[] = [];
    for (let i = 0; i < 5; i++) sids.push((await s.client.messages.create({ to: phone, from: CLINIC, body: `n${i}` })).sid);
    await s.client.messages.create({ to: phone, from: OTHER_NUMBER, body: 'from the other number' });
    await s.carrier.idle();

    const all = await s.client.messages.list({ to: phone, from: CLINIC, pageSize: 2 });
    expect(all.map((m) => m.sid)).toEqual([...sids].reverse());

    const page = await s.client.messages.page({ to: phone, pageSize: 4 });
    expect(page.instances).toHaveLength(4);
    expect(page.nextPageUrl).toMatch(/^https:\/\/api\.twilio\.com\/2010-04-01\/Accounts\/AC\w+\/Messages\.json\?/);
    const second = await page.nextPage();
    expect(second?.instances.map((m) => m.body)).toEqual(['n1', 'n0']);
    expect(second?.nextPageUrl).toBeUndefined();

    const today = await s.client.messages.list({ to: phone, dateSent: new Date(s.clock.now()) });
    expect(today).toHaveLength(6);
    const yesterday = await s.client.messages.list({ to: phone, dateSentBefore: new Date(s.clock.now() - 86_400_000) });
    expect(yesterday).toHaveLength(0);
  });

  it('refuses bad credentials with 20003', async () => {
    const bad = createTwilioClient({ accountSid: ACCOUNT_SID, authToken: 'wrong'.padEnd(32, 'x'), apiBaseUrl: s.url });
    const err = await rejection(bad.messages.create({ to: '+15550101003', from: CLINIC, body: 'hi' }));
    expect(err.status).toBe(401);
    expect(err.code).toBe(20003);
    expect(s.carrier.conversation('+15550101003')).toHaveLength(0);
  });

  it('answers 20404 when the path names another account', async () => {
    const other = `AC${'b2'.repeat(16)}`;
    const res = await fetch(`${s.url}/api/2010-04-01/Accounts/${other}/Messages.json`, {
      headers: { Authorization: `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}` },
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 20404, status: 404 });
  });

  it.each([
    [{ to: 'not-a-phone', from: CLINIC, body: 'x' }, 21211],
    [{ to: '+15550101004', from: '+15559999999', body: 'x' }, 21606],
    [{ to: '+15550101004', from: CLINIC, body: '' }, 21602],
    [{ to: '+15550101004', from: CLINIC, body: 'x'.repeat(1601) }, 21617],
    [{ to: '+15550101004', messagingServiceSid: `MG${'0'.repeat(32)}`, body: 'x' }, 21701],
  ])('refuses %j with Twilio error %i', async (params, code) => {
    const err = await rejection(s.client.messages.create(params));
    expect(err.status).toBe(400);
    expect(err.code).toBe(code);
    expect(s.carrier.conversation('+15550101004')).toHaveLength(0);
  });

  it('posts signed status callbacks for sent and delivered', async () => {
    const m = await s.client.messages.create({
      to: '+15550101005',
      from: CLINIC,
      body: 'status please',
      statusCallback: `${hook.url}/status`,
    });
    await s.carrier.idle();
    const calls = hook.calls.filter((c) => c.path === '/status' && c.params.MessageSid === m.sid);
    expect(calls.map((c) => c.params.MessageStatus)).toEqual(['sent', 'delivered']);
    expect(calls.every((c) => c.signatureValid)).toBe(true);
  });

  it('deletes a message from the log', async () => {
    const m = await s.client.messages.create({ to: '+15550101006', from: CLINIC, body: 'delete me' });
    await s.carrier.idle();
    expect(await s.client.messages(m.sid).remove()).toBe(true);
    const err = await rejection(s.client.messages(m.sid).fetch());
    expect(err.code).toBe(20404);
  });

  it('lists, filters and updates incoming phone numbers', async () => {
    const numbers = await s.client.incomingPhoneNumbers.list({ phoneNumber: CLINIC });
    expect(numbers).toHaveLength(1);
    const n = numbers[0]!;
    expect(n.phoneNumber).toBe(CLINIC);
    expect(n.sid).toMatch(/^PN[0-9a-f]{32}$/);
    expect(n.friendlyName).toBe('Clinic');

    const updated = await s.client.incomingPhoneNumbers(n.sid).update({ smsUrl: `${hook.url}/sms`, smsMethod: 'POST' });
    expect(updated.smsUrl).toBe(`${hook.url}/sms`);
    expect(s.carrier.findNumber(CLINIC)?.smsUrl).toBe(`${hook.url}/sms`);
    expect((await s.client.incomingPhoneNumbers(n.sid).fetch()).smsUrl).toBe(`${hook.url}/sms`);
    expect(await s.client.incomingPhoneNumbers.list()).toHaveLength(2);
  });
});
