import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_SID, CLINIC, conversation, startStandIn, type StandIn } from './helpers';

async function rejection(p: Promise<unknown>): Promise<{ status: number; code: number; message: string }> {
  try {
    await p;
  } catch (err) {
    return err as { status: number; code: number; message: string };
  }
  throw new Error('expected the SDK call to be refused');
}

describe('Verify v2 through the twilio SDK', () => {
  let s: StandIn;
  let serviceSid: string;

  beforeAll(async () => {
    s = await startStandIn();
    const service = await s.client.verify.v2.services.create({ friendlyName: 'Clinic Portal' });
    serviceSid = service.sid;
  });
  afterAll(async () => {
    await s.carrier.idle();
    await s.close();
  });

  const verifications = () => s.client.verify.v2.services(serviceSid).verifications;
  const check = (to: string, code: string) => s.client.verify.v2.services(serviceSid).verificationChecks.create({ to, code });

  it('creates, fetches and lists services', async () => {
    const fetched = await s.client.verify.v2.services(serviceSid).fetch();
    expect(fetched).toMatchObject({ sid: serviceSid, friendlyName: 'Clinic Portal', codeLength: 6, accountSid: ACCOUNT_SID });
    expect(fetched.dateCreated).toBeInstanceOf(Date);
    const all = await s.client.verify.v2.services.list();
    expect(all.map((x) => x.sid)).toContain(serviceSid);
  });

  it('texts a 6-digit code from the sender number and approves the right one once', async () => {
    const phone = '+15550104001';
    const v = await verifications().create({ to: phone, channel: 'sms' });
    expect(v).toMatchObject({ status: 'pending', valid: false, to: phone, channel: 'sms', serviceSid });
    expect(v.sid).toMatch(/^VE[0-9a-f]{32}$/);

    await s.carrier.idle();
    const [sms] = await conversation(s.url, phone);
    const code = /verification code is: (\d{6})$/.exec(sms?.body ?? '')?.[1];
    expect(code).toMatch(/^\d{6}$/);
    expect(s.carrier.message(sms!.sid)?.from).toBe(CLINIC);
    expect(s.verify.lastCodeFor(phone)).toBe(code);

    const wrong = await check(phone, code === '000000' ? '111111' : '000000');
    expect(wrong).toMatchObject({ status: 'pending', valid: false });

    const ok = await check(phone, code!);
    expect(ok).toMatchObject({ status: 'approved', valid: true, sid: v.sid });

    const again = await rejection(check(phone, code!));
    expect(again).toMatchObject({ status: 404, code: 20404 });
    expect(s.verify.lastCodeFor(phone)).toBeUndefined();
  });

  it('refuses the sixth check with 60202, even with the right code', async () => {
    const phone = '+15550104002';
    await verifications().create({ to: phone, channel: 'sms' });
    const code = s.verify.lastCodeFor(phone)!;
    const wrong = code === '999999' ? '888888' : '999999';
    for (let i = 0; i < 5; i++) expect((await check(phone, wrong)).status).toBe('pending');
    const err = await rejection(check(phone, code));
    expect(err).toMatchObject({ status: 429, code: 60202, message: 'Max check attempts reached' });
  });

  it('expires a code after 10 minutes on the injected clock', async () => {
    const phone = '+15550104003';
    await verifications().create({ to: phone, channel: 'sms' });
    const code = s.verify.lastCodeFor(phone)!;
    s.clock.advance(10 * 60_000 + 1_000);
    const err = await rejection(check(phone, code));
    expect(err).toMatchObject({ status: 404, code: 20404 });
  });

  it('replaces the pending code when a new verification is requested', async () => {
    const phone = '+15550104004';
    const first = await verifications().create({ to: phone, channel: 'sms' });
    const oldCode = s.verify.lastCodeFor(phone)!;
    let second = await verifications().create({ to: phone, channel: 'sms' });
    let newCode = s.verify.lastCodeFor(phone)!;
    // A fresh random code may collide with the old one (1 in a million); ask once more if it does.
    if (newCode === oldCode) {
      second = await verifications().create({ to: phone, channel: 'sms' });
      newCode = s.verify.lastCodeFor(phone)!;
    }
    expect(second.sid).toBe(first.sid);
    expect(second.sendCodeAttempts.length).toBeGreaterThanOrEqual(2);
    expect((await check(phone, oldCode)).status).toBe('pending');
    expect((await check(phone, newCode)).status).toBe('approved');
  });

  it('refuses channels other than sms and unknown services', async () => {
    const channel = await rejection(verifications().create({ to: '+15550104005', channel: 'call' }));
    expect(channel).toMatchObject({ status: 400, code: 60200 });
    const service = await rejection(
      s.client.verify.v2.services(`VA${'0'.repeat(32)}`).verifications.create({ to: '+15550104005', channel: 'sms' }),
    );
    expect(service).toMatchObject({ status: 404, code: 20404 });
    expect(s.carrier.conversation('+15550104005')).toHaveLength(0);
  });

  it('does not text a code to a phone that opted out of the sender', async () => {
    const phone = '+15550104006';
    await s.carrier.receive(phone, CLINIC, 'STOP');
    await s.carrier.idle();
    const err = await rejection(verifications().create({ to: phone, channel: 'sms' }));
    expect(err).toMatchObject({ code: 21610 });
    expect(s.verify.lastCodeFor(phone)).toBeUndefined();
  });
});
