import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stateKey } from '../src/storage/keys';
import { createTwilioClient } from '../src/twilio/client';
import { ehrEvent } from './fixtures/events';
import { HOUR, localTime, MINUTE, utcAt } from './fixtures/time';
import { flowTextPattern } from './support/flow-texts';
import { startTestStack, type TestStack } from './support/local-stack';
import { adminApi } from './support/admin';
import { phonesApi } from './support/phones';
import { started } from './support/started';

/*
 * The reference app's own integration contract: the engine starts a Studio execution with the
 * flat event as Parameters (To = the patient, From = our number). Started here with the real
 * Twilio SDK against the Studio stand-in, as an engine would.
 */

let t: TestStack;
let phones: ReturnType<typeof phonesApi>;
beforeAll(async () => {
  t = await startTestStack();
  phones = phonesApi(t);
});
afterAll(async () => {
  await started(t)?.stop();
});

let seq = 0;
function patient() {
  seq += 1;
  return { phone: `+1415555${String(6000 + seq).padStart(4, '0')}`, id: `APT-ref-${seq}` };
}

/** The reference app's simulation payload: a fixed `-0700` offset, ISO time without offset, no display fields. */
function referencePayload(p: { phone: string; id: string }, overrides: Record<string, unknown> = {}) {
  const e = ehrEvent({
    patient_phone: p.phone,
    appointment_id: p.id,
    appointment_timezone: '-0700',
    appointment_datetime: localTime(6, '09:30'),
    ...overrides,
  });
  return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, String(v)]));
}

async function startExecution(to: string, parameters: Record<string, string>) {
  const env = t.stack.env;
  const client = createTwilioClient({ accountSid: env.ACCOUNT_SID!, authToken: env.AUTH_TOKEN!, apiBaseUrl: env.TWILIO_API_BASE_URL });
  const flow = client.studio.v2.flows(t.stack.flowSid);
  const x = await flow.executions.create({ to, from: env.TWILIO_PHONE_NUMBER!, parameters });
  await t.stack.settle();
  const steps = await flow.executions(x.sid).steps.list();
  return { sid: x.sid, status: (await flow.executions(x.sid).fetch()).status, path: steps.map((s) => s.transitionedTo) };
}

async function rejectedEvents(): Promise<
  { execution_sid?: string; appointment_id?: string; event_type?: string; source: string; problems: { field: string; message: string }[] }[]
> {
  const api = adminApi(t);
  const answer = await api.call('rejected-events', { token: await api.login() });
  expect(answer.status).toBe(200);
  return answer.json.rejected;
}

describe('events posted to the Studio flow (the reference app entry point)', () => {
  it('records the event like /ehr/events and texts it with the display values the Function returns', async () => {
    const p = patient();
    const x = await startExecution(p.phone, referencePayload(p));
    expect(x.status).toBe('ended');
    expect(x.path).toContain('record_event');
    const state = await t.getJson(stateKey(p.id));
    expect(state).toMatchObject({ disposition: 'QUEUED', facts: { appointment_id: p.id, appointment_timezone: '-07:00' } });
    // The text went out in this execution and is recorded as sent with its SID.
    expect(state.log.at(-1).text).toBe('sent');
    expect(state.told.execution_sid).toBe(x.sid);
    expect(state.outbox).toBeUndefined();
    const received = await phones.received(p.phone);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatch(flowTextPattern('send_booked'));
    for (const shown of ['Zoe', 'Ana Lopez, MD', 'Tue, Dec 1 at 9:30 AM']) expect(received[0]).toContain(shown);
    // Reminders are planned as for any booking.
    expect((await t.listKeys('index/due/')).some((k) => k.endsWith(`/${Buffer.from(p.id).toString('base64url')}`))).toBe(true);
  });

  it('the same event started twice is one state change and one text', async () => {
    const p = patient();
    const payload = referencePayload(p);
    await startExecution(p.phone, payload);
    const again = await startExecution(p.phone, payload);
    expect(again.status).toBe('ended');
    expect(await phones.received(p.phone)).toHaveLength(1);
    expect((await t.getJson(stateKey(p.id))).log).toHaveLength(1);
  });

  it('orders events by their time whatever the order of the executions, and texts only what is current', async () => {
    const p = patient();
    await startExecution(p.phone, referencePayload(p, { event_datetime_utc: utcAt(-2 * HOUR) }));
    const late = await startExecution(
      p.phone,
      referencePayload(p, { event_type: 'MODIFIED', appointment_location: 'Room 9', event_datetime_utc: utcAt(-3 * HOUR) }),
    );
    expect(late.path).not.toContain('send_modified');
    const state = await t.getJson(stateKey(p.id));
    expect(state.log.map((e: { type: string }) => e.type)).toEqual(['MODIFIED', 'BOOKED']);
    expect(state.facts.appointment_location).not.toBe('Room 9');
    expect(await phones.received(p.phone)).toHaveLength(1);
  });

  it('records an invalid event as rejected with its reasons, texts nothing, and the admin page lists it', async () => {
    const p = patient();
    const x = await startExecution(
      p.phone,
      referencePayload(p, { appointment_datetime: 'next tuesday', event_datetime_utc: utcAt(-MINUTE) }),
    );
    expect(x.status).toBe('ended');
    expect(x.path).not.toContain('split_event');
    expect(await phones.received(p.phone)).toEqual([]);
    expect(await t.listKeys(stateKey(p.id))).toEqual([]);
    const rejected = await rejectedEvents();
    const mine = rejected.find((r) => r.execution_sid === x.sid);
    expect(mine).toMatchObject({ appointment_id: p.id, event_type: 'BOOKED', source: 'studio-execution' });
    expect(mine?.problems.map((q) => q.field)).toContain('appointment_datetime');
  });

  it('refuses an event whose patient_phone is not the execution contact', async () => {
    const p = patient();
    const other = patient();
    const x = await startExecution(other.phone, referencePayload(p));
    expect(x.status).toBe('ended');
    expect(await phones.received(other.phone)).toEqual([]);
    expect(await phones.received(p.phone)).toEqual([]);
    const mine = (await rejectedEvents()).find((r) => r.execution_sid === x.sid);
    expect(mine?.problems.map((q) => q.field)).toEqual(['patient_phone']);
  });

  it('our own executions skip the recording Function (they carry the origin marker)', async () => {
    const p = patient();
    const res = await t.postEvents(ehrEvent({ patient_phone: p.phone, appointment_id: p.id }));
    expect(res.json.results[0].message).toBe('started');
    const env = t.stack.env;
    const client = createTwilioClient({ accountSid: env.ACCOUNT_SID!, authToken: env.AUTH_TOKEN!, apiBaseUrl: env.TWILIO_API_BASE_URL });
    const executions = await client.studio.v2.flows(t.stack.flowSid).executions.list();
    const ours = executions.find((e) => e.contactChannelAddress === p.phone);
    const steps = await client.studio.v2.flows(t.stack.flowSid).executions(ours!.sid).steps.list();
    expect(steps.map((s) => s.transitionedTo)).not.toContain('record_event');
    expect(steps.map((s) => s.transitionedTo)).toContain('send_booked');
  });
});
