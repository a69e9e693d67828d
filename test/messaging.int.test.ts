import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import twilio from 'twilio';
import { AppointmentState, wantsReminders } from '../src/domain/appointment';
import { EHR_EVENT_TYPES } from '../src/domain/event';
import { historyPrefix, stateKey } from '../src/storage/keys';
import { createTwilioClient } from '../src/twilio/client';
import { ehrEvent } from './fixtures/events';
import { startTestStack, type TestStack } from './support/local-stack';
import { adminApi } from './support/admin';
import { flowText } from './support/flow-texts';
import { phonesApi } from './support/phones';
import { DAY, FIXTURE_NOW, HOUR, localTime, MINUTE, utcAt } from './fixtures/time';
import { started } from './support/started';

let t: TestStack;
let phones: ReturnType<typeof phonesApi>;
beforeAll(async () => {
  t = await startTestStack();
  phones = phonesApi(t);
});
afterAll(async () => {
  await started(t)?.stop();
});

const LOCATION = 'Suite 100, O\'Brien Bldg, "East" Wing = 2nd floor';
let seq = 0;
/** Each test uses its own patient phone and appointment so conversations do not mix. */
function patient() {
  seq += 1;
  const phone = `+1415555${String(2000 + seq).padStart(4, '0')}`;
  return { phone, id: `APT-msg-${seq}` };
}
function event(p: { phone: string; id: string }, overrides: Record<string, unknown> = {}) {
  return ehrEvent({ patient_phone: p.phone, appointment_id: p.id, appointment_location: LOCATION, ...overrides });
}
/** flow.data for a booking, as the intake would pass it. */
const BOOKING_DATA = {
  patient_first_name: 'Zoë',
  provider_name: '',
  appointment_when: 'Tue, Dec 1 at 9:30 AM PST',
  appointment_location: '',
  provider_callback_phone: '',
};
/** What the texts about the default event() must show, in English and in Spanish. */
const SHOWN = {
  patient_first_name: 'Zoe',
  provider_name: 'Ana Lopez, MD',
  appointment_when: 'Tue, Dec 1 at 9:30 AM PST',
  appointment_location: LOCATION,
  provider_callback_phone: '(415) 555-0100',
};
const SHOWN_ES = { ...SHOWN, appointment_when: 'mar, 1 dic, 9:30 PST' };
/** What /studio/reply answers for a reply about the default event(), as the acknowledgements show it. */
const REPLY = {
  patient_first_name: 'Zoe',
  provider_name: 'Ana Lopez, MD',
  appointment_when: 'Tue, Dec 1 at 9:30 AM PST',
  callback_phone: '(415) 555-0100',
};
const REPLY_ES = { ...REPLY, appointment_when: 'mar, 1 dic, 9:30 PST' };
let minute = 0;
/** Event times that increase test by test, all before the stack's clock start. */
const later = () => utcAt(-7 * HOUR + (minute += 1) * MINUTE);

describe('SMS for every EHR event', () => {
  it.each(EHR_EVENT_TYPES)('%s sends its text to the patient, in their own time zone', async (type) => {
    const p = patient();
    const res = await t.postEvents(event(p, { event_type: type }));
    expect(res.status).toBe(202);
    expect(res.json.results[0].message).toBe('started');
    const received = await phones.received(p.phone);
    expect(received).toEqual([await flowText(`send_${type.toLowerCase()}`, { variables: SHOWN })]);
  });

  it('writes the time in the patient zone, not the clinic server zone', async () => {
    const p = patient();
    await t.postEvents(
      event(p, { appointment_timezone: 'America/New_York', appointment_datetime: localTime(6, '09:30', 'America/New_York') }),
    );
    expect((await phones.received(p.phone))[0]).toContain('Tue, Dec 1 at 9:30 AM EST');
  });

  it('does not hard-code a title and leaves out what the EHR did not send', async () => {
    const p = patient();
    await t.postEvents(
      event(p, {
        provider_first_name: undefined,
        provider_last_name: undefined,
        appointment_location: undefined,
        provider_callback_phone: undefined,
      }),
    );
    const [text] = await phones.received(p.phone);
    expect(text).toBe(
      await flowText('send_booked', { variables: { patient_first_name: 'Zoe', appointment_when: 'Tue, Dec 1 at 9:30 AM PST' } }),
    );
  });

  it('sends nothing for a duplicate, nor for a late event that changes nothing the patient knows', async () => {
    const p = patient();
    const e = event(p);
    await t.postEvents(e);
    const dup = await t.postEvents(e);
    expect(dup.json.results[0].message).toBeUndefined();
    const late = await t.postEvents(event(p, { event_type: 'CANCELED', event_datetime_utc: utcAt(-5 * DAY) }));
    expect(late.json.results[0]).toMatchObject({ outcome: 'applied', late: true, disposition: 'QUEUED', message: 'superseded' });
    expect(await phones.received(p.phone)).toHaveLength(1);
  });

  it('two quick events for one patient both send their text, and every execution ends by itself right after its text', async () => {
    const p = patient();
    // Two appointments of one patient booked at once: their flow starts meet Studio's one-active-execution rule.
    const [a, b] = await Promise.all([
      t.postEvents(event(p, { appointment_id: `${p.id}-a`, event_datetime_utc: later() })),
      t.postEvents(event(p, { appointment_id: `${p.id}-b`, appointment_datetime: localTime(7, '10:00'), event_datetime_utc: later() })),
    ]);
    expect([a.json.results[0].message, b.json.results[0].message]).toEqual(['started', 'started']);
    const res = await t.postEvents(
      event(p, {
        appointment_id: `${p.id}-a`,
        event_type: 'RESCHEDULED',
        appointment_datetime: localTime(8, '11:00'),
        event_datetime_utc: later(),
      }),
    );
    expect(res.json.results[0].message).toBe('started');
    const received = await phones.received(p.phone);
    expect(received).toHaveLength(3);
    expect(received.filter((x) => x.includes('is booked for'))).toHaveLength(2);
    expect(received[2]).toContain('has moved to Thu, Dec 3 at 11:00 AM PST');

    const studio = t.stack.studio;
    const executions = studio.listExecutions(t.stack.flowSid).filter((x) => x.contactChannelAddress === p.phone);
    expect(executions).toHaveLength(3);
    for (const x of executions) {
      expect(x.status).toBe('ended');
      const log = studio.getExecutionLog(t.stack.flowSid, x.sid);
      expect(log.steps.at(-1)).toMatchObject({ name: 'sent', transitionedTo: 'Ended' });
      expect(log.entries.map((e) => e.message)).not.toContain('ended via API');
    }
  });

  it('texts nothing for an event_type the flow does not know, started through the Studio REST API', async () => {
    const p = patient();
    const env = t.stack.env;
    const client = createTwilioClient({ accountSid: env.ACCOUNT_SID!, authToken: env.AUTH_TOKEN!, apiBaseUrl: env.TWILIO_API_BASE_URL });
    const flow = client.studio.v2.flows(t.stack.flowSid);
    const x = await flow.executions.create({
      to: p.phone,
      from: env.TWILIO_PHONE_NUMBER!,
      parameters: { ...BOOKING_DATA, event_type: 'ARCHIVED' },
    });
    await t.stack.settle();
    expect(await phones.received(p.phone)).toEqual([]);
    expect((await flow.executions(x.sid).fetch()).status).toBe('ended');
    const steps = await flow.executions(x.sid).steps.list();
    // Not ours (no origin marker): recorded by /studio/event, which refuses the type; nothing texted.
    expect(steps.map((s) => [s.transitionedFrom, s.name, s.transitionedTo])).toEqual([
      ['Trigger', 'incomingRequest', 'set_settings'],
      ['set_settings', 'next', 'split_origin'],
      ['split_origin', 'noMatch', 'record_event'],
      ['record_event', 'success', 'split_recorded'],
      ['split_recorded', 'noMatch', 'Ended'],
    ]);
  });
});

describe('patient replies', () => {
  it('"cancel appt" to the booking text becomes a CANCEL request at the EHR (the reference sent a confirm)', async () => {
    const p = patient();
    await t.postEvents(event(p));
    await phones.send(p.phone, 'cancel appt');
    const requests = (await phones.ehrRequests()).filter((r) => r.json?.appointment_id === p.id);
    expect(requests).toHaveLength(1);
    expect(requests[0].json).toMatchObject({
      event_type: 'CANCEL',
      appointment_id: p.id,
      patient_id: 'PAT-1001',
      provider_id: 'PRV-7',
      flow_sid: t.stack.flowSid,
    });
    expect(requests[0].signature_valid).toBe(true);
    expect(requests[0].idempotency_key).toBe(requests[0].json.event_id);
    const texts = await phones.received(p.phone);
    expect(texts.at(-1)).toBe(await flowText('send_cancel_ack', { reply: REPLY }));
    const state = await t.getJson(stateKey(p.id));
    expect(state.patient_request.type).toBe('CANCEL');
    expect(state.disposition).toBe('QUEUED');
  });

  it.each(['CONFIRM APPT', 'confirm', 'Yes', 'C', ' confirm appt. '])('%j to a booking becomes a CONFIRM request', async (reply) => {
    const p = patient();
    await t.postEvents(event(p));
    await phones.send(p.phone, reply);
    const requests = (await phones.ehrRequests()).filter((r) => r.json?.appointment_id === p.id);
    expect(requests.map((r) => r.json.event_type)).toEqual(['CONFIRM']);
    expect((await phones.received(p.phone)).at(-1)).toBe(await flowText('send_confirm_ack', { reply: REPLY }));
  });

  it('handles a reply that comes hours after the booking text: nothing waits for it, the reply starts its own execution', async () => {
    const p = patient();
    await t.postEvents(event(p));
    const active = () =>
      t.stack.studio.listExecutions(t.stack.flowSid, { status: 'active' }).filter((x) => x.contactChannelAddress === p.phone);
    expect(active()).toHaveLength(0);
    t.stack.clock.advance(5 * HOUR);
    await phones.send(p.phone, 'CONFIRM APPT');
    const requests = (await phones.ehrRequests()).filter((r) => r.json?.appointment_id === p.id);
    expect(requests.map((r) => r.json.event_type)).toEqual(['CONFIRM']);
    expect((await phones.received(p.phone)).at(-1)).toBe(await flowText('send_confirm_ack', { reply: REPLY }));
    expect(active()).toHaveLength(0);
  });

  it('an incoming SMS goes from the trigger to the reply Function, never through the EHR-event split', async () => {
    const p = patient();
    await t.postEvents(event(p));
    await phones.send(p.phone, 'confirm appt');
    const studio = t.stack.studio;
    const [reply] = studio
      .listExecutions(t.stack.flowSid)
      .filter((x) => x.contactChannelAddress === p.phone && x.initiatedBy.startsWith('SM'));
    expect(reply).toBeDefined();
    const steps = studio.listSteps(t.stack.flowSid, reply!.sid);
    expect(steps.map((s) => s.transitionedFrom)).not.toContain('split_event');
    expect(steps.map((s) => [s.transitionedFrom, s.name, s.transitionedTo])).toEqual([
      ['Trigger', 'incomingMessage', 'set_reply_settings'],
      ['set_reply_settings', 'next', 'capture_inbound'],
      ['capture_inbound', 'next', 'process_reply'],
      ['process_reply', 'success', 'split_reply_language'],
      ['split_reply_language', 'noMatch', 'split_action'],
      ['split_action', 'match', 'send_confirm_ack'],
      ['send_confirm_ack', 'sent', 'Ended'],
    ]);
    expect(studio.getExecution(t.stack.flowSid, reply!.sid).status).toBe('ended');
  });

  it('STOP silences later events, START brings them back, HELP answers with the clinic and callback', async () => {
    const p = patient();
    await t.postEvents(event(p, { event_datetime_utc: later() }));
    await phones.send(p.phone, 'STOP');
    const afterStop = await phones.received(p.phone);
    expect(afterStop.at(-1)).toMatch(/unsubscribed/i);
    const quiet = await t.postEvents(event(p, { event_type: 'MODIFIED', appointment_location: 'Room 2', event_datetime_utc: later() }));
    expect(quiet.json.results[0].message).toBe('opted-out');
    expect((await t.getJson(stateKey(p.id))).disposition).toBe('OPTED-OUT');
    expect(await phones.received(p.phone)).toEqual(afterStop);

    await phones.send(p.phone, 'START');
    const loud = await t.postEvents(event(p, { event_type: 'MODIFIED', appointment_location: 'Room 3', event_datetime_utc: later() }));
    expect(loud.json.results[0].message).toBe('started');
    expect((await phones.received(p.phone)).at(-1)).toContain('Room 3');

    await phones.send(p.phone, 'HELP');
    expect((await phones.received(p.phone)).at(-1)).toBe(await flowText('send_help', { reply: REPLY }));
  });

  it('a booking for a phone that already opted out is OPTED-OUT from the start: no text, no reminder planned', async () => {
    const p = patient();
    await t.postEvents(event(p, { event_datetime_utc: later() }));
    await phones.send(p.phone, 'STOP');
    const afterStop = await phones.received(p.phone);
    const second = { phone: p.phone, id: `${p.id}-second` };
    const res = await t.postEvents(event(second, { event_datetime_utc: later() }));
    expect(res.json.results[0]).toMatchObject({ outcome: 'applied', disposition: 'OPTED-OUT', message: 'opted-out' });
    const state = await t.getJson(stateKey(second.id));
    expect(state).toMatchObject({ disposition: 'OPTED-OUT', opted_out: true });
    expect(state.outbox).toBeUndefined();
    // Nothing is planned before the appointment time (then the sweep only expires it); an entry
    // written before the ledger answered is dropped by the next sweep.
    await t.stack.sweep();
    const mine = (await t.listKeys('index/due/')).filter((k: string) => k.endsWith(`/${Buffer.from(second.id).toString('base64url')}`));
    expect(mine.map((k: string) => k.split('/')[2])).toEqual([state.facts.appointment_datetime_utc.slice(0, 13)]);
    expect(await phones.received(p.phone)).toEqual(afterStop);
  });

  it('a booking for a time already past is recorded but not texted, and the answer says why', async () => {
    const p = patient();
    const res = await t.postEvents(event(p, { appointment_datetime: localTime(-1, '09:30'), event_datetime_utc: later() }));
    expect(res.json.results[0]).toMatchObject({ outcome: 'applied', message: 'refused', message_reason: 'past' });
    expect(res.json.results[0]).not.toHaveProperty('owner');
    const state = await t.getJson(stateKey(p.id));
    expect(state.log.at(-1).text).toBe('refused:past');
    expect(await phones.received(p.phone)).toEqual([]);
  });

  it('"3" asks the EHR to reschedule: RESCHEDULE is signed and idempotent like CONFIRM, the patient is told the clinic will call, and reminders stop', async () => {
    const p = patient();
    const other = patient();
    await t.postEvents(event(p, { event_datetime_utc: later() }));
    await t.postEvents(event(other, { event_datetime_utc: later() }));
    await phones.send(p.phone, '3');
    const requests = (await phones.ehrRequests()).filter((r) => r.json?.appointment_id === p.id);
    expect(requests.map((r) => r.json.event_type)).toEqual(['RESCHEDULE']);
    expect(requests[0]).toMatchObject({ signature_valid: true, idempotency_key: requests[0].json.event_id });
    expect((await phones.received(p.phone)).at(-1)).toBe(await flowText('send_reschedule_ack', { reply: REPLY }));
    const state = await t.getJson(stateKey(p.id));
    expect(state).toMatchObject({ disposition: 'QUEUED', patient_request: { type: 'RESCHEDULE' } });
    // Reminders stop until the EHR answers (a new time re-plans them); the other appointment keeps its own.
    expect(wantsReminders(AppointmentState.parse(state))).toBe(false);
    expect(wantsReminders(AppointmentState.parse(await t.getJson(stateKey(other.id))))).toBe(true);
  });

  it('"reagendar" from a Spanish-speaking patient is a RESCHEDULE with the Spanish acknowledgement', async () => {
    const p = patient();
    await t.postEvents(event(p, { patient_language: 'es' }));
    await phones.send(p.phone, 'Reagendar por favor');
    expect((await phones.ehrRequests()).filter((r) => r.json?.appointment_id === p.id).map((r) => r.json.event_type)).toEqual([
      'RESCHEDULE',
    ]);
    expect((await phones.received(p.phone)).at(-1)).toBe(await flowText('send_reschedule_ack_es', { reply: REPLY_ES }));
  });

  it('"stop texting me" opts out like STOP, with one confirmation from us since the carrier did not see a keyword', async () => {
    const p = patient();
    await t.postEvents(event(p, { event_datetime_utc: later() }));
    await phones.send(p.phone, 'please stop texting me');
    expect((await phones.received(p.phone)).at(-1)).toBe(await flowText('send_opted_out'));
    expect((await t.getJson(stateKey(p.id))).disposition).toBe('OPTED-OUT');
    expect((await phones.ehrRequests()).filter((r) => r.json?.appointment_id === p.id)).toHaveLength(0);
  });

  it('"yes cancel" is not guessed: no EHR request, and the patient is told a person will answer', async () => {
    const p = patient();
    await t.postEvents(event(p));
    await phones.send(p.phone, 'yes cancel');
    expect((await phones.ehrRequests()).filter((r) => r.json?.appointment_id === p.id)).toHaveLength(0);
    expect((await phones.received(p.phone)).at(-1)).toBe(await flowText('send_inbox_ack', { reply: REPLY }));
  });

  it('a bare CANCEL is an opt-out, not a cancel request', async () => {
    const p = patient();
    await t.postEvents(event(p));
    await phones.send(p.phone, 'CANCEL');
    expect((await phones.ehrRequests()).filter((r) => r.json?.appointment_id === p.id)).toHaveLength(0);
    expect((await t.getJson(stateKey(p.id))).disposition).toBe('OPTED-OUT');
  });

  it('answers anything else, never silence: the holding reply once a day, then the options', async () => {
    const p = patient();
    await t.postEvents(event(p));
    await phones.send(p.phone, 'what should I bring?');
    expect((await phones.received(p.phone)).at(-1)).toBe(await flowText('send_inbox_ack', { reply: REPLY }));
    await phones.send(p.phone, 'and parking?');
    expect((await phones.received(p.phone)).at(-1)).toBe(await flowText('send_options', { reply: REPLY }));
  });

  it('files replies it does not understand in the clinic inbox: one holding reply a day, every message kept, marked done from the admin API', async () => {
    const p = patient();
    const api = adminApi(t);
    const token = await api.login();
    const before = (await api.call('inbox', { token })).json.unread as number;
    await t.postEvents(event(p));
    const booked = (await phones.received(p.phone)).length;

    await phones.send(p.phone, 'can we do thursday instead?');
    let received = await phones.received(p.phone);
    expect(received).toHaveLength(booked + 1);
    expect(received.at(-1)).toBe(await flowText('send_inbox_ack', { reply: REPLY }));
    let inbox = await api.call('inbox', { token });
    expect(inbox.status).toBe(200);
    let mine = inbox.json.items.filter((i: { phone: string }) => i.phone === p.phone);
    expect(mine).toEqual([
      expect.objectContaining({
        phone: p.phone,
        appointment_id: p.id,
        body: 'can we do thursday instead?',
        message_sid: expect.stringMatching(/^SM/),
        at: expect.any(String),
      }),
    ]);
    expect(inbox.json.unread).toBe(before + 1);

    await phones.send(p.phone, 'yes but maybe friday');
    received = await phones.received(p.phone);
    expect(received).toHaveLength(booked + 2);
    expect(received.filter((text) => text.startsWith('Thanks, we got your message.'))).toHaveLength(1);
    inbox = await api.call('inbox', { token });
    mine = inbox.json.items.filter((i: { phone: string }) => i.phone === p.phone);
    expect(mine.map((i: { body: string }) => i.body)).toEqual(['yes but maybe friday', 'can we do thursday instead?']);
    expect(inbox.json.unread).toBe(before + 2);

    const done = await api.call('inbox-done', { token, body: { id: mine[1].id } });
    expect(done.status).toBe(200);
    inbox = await api.call('inbox', { token });
    expect(inbox.json.unread).toBe(before + 1);
    expect(inbox.json.items.find((i: { id: string }) => i.id === mine[1].id).done_at).toEqual(expect.any(String));
    expect((await api.call('inbox-done', { token, body: { id: '0000000000000_nope' } })).status).toBe(404);
    expect((await api.call('inbox-done', { token, body: {} })).status).toBe(400);
    expect((await api.call('inbox')).status).toBe(401);
    expect((await api.call('inbox-done', { body: { id: mine[0].id } })).status).toBe(401);
  });

  it('lets staff text the patient back from the inbox: sent through the flow once per reply_id, the item done, the text in the history', async () => {
    const p = patient();
    const api = adminApi(t);
    const token = await api.login();
    await t.postEvents(event(p, { patient_language: 'es' }));
    await phones.send(p.phone, '¿puedo llevar a mi hija?');
    const item = (await api.call('inbox', { token })).json.items.find((i: { phone: string }) => i.phone === p.phone);
    expect(item).toEqual(expect.objectContaining({ appointment_id: p.id }));
    const before = (await phones.received(p.phone)).length;

    const body = 'Sí, claro. Hasta el jueves. — Recepción 😊';
    const sent = await api.call('inbox-reply', { token, body: { id: item.id, reply_id: 'reply-0001', body } });
    expect(sent.status).toBe(200);
    expect(sent.json.reply).toEqual(
      expect.objectContaining({ id: 'reply-0001', status: 'sent', by: 'admin', execution_sid: expect.stringMatching(/^FN/) }),
    );
    expect((await phones.received(p.phone)).slice(before)).toEqual([body]);

    // The page retrying the same send (a lost answer) does not text twice.
    const again = await api.call('inbox-reply', { token, body: { id: item.id, reply_id: 'reply-0001', body } });
    expect(again.status).toBe(200);
    expect(again.json.duplicate).toBe(true);
    expect((await phones.received(p.phone)).slice(before)).toEqual([body]);

    const inbox = await api.call('inbox', { token });
    const after = inbox.json.items.find((i: { id: string }) => i.id === item.id);
    expect(after.done_at).toEqual(expect.any(String));
    expect(after.replies).toEqual([expect.objectContaining({ id: 'reply-0001', status: 'sent' })]);
    const history = await api.call('history', { token, query: { appointment_id: p.id } });
    const staff = history.json.history.filter((e: { event_type: string }) => e.event_type === 'STAFF_REPLY');
    expect(staff).toEqual([
      expect.objectContaining({ event_id: 'reply-0001', detail: expect.objectContaining({ body, status: 'sent', by: 'admin' }) }),
    ]);
    // The audit log names who replied to which item, never the words.
    const audit = await api.call('audit', { token, query: { limit: '500' } });
    expect(audit.status, audit.text).toBe(200);
    const replies = audit.json.entries.filter(
      (e: { action: string; target: { reply_id?: string } }) => e.action === 'staff.reply' && e.target.reply_id === 'reply-0001',
    );
    expect(replies, JSON.stringify(replies)).toEqual([
      expect.objectContaining({
        actor: { user_id: 'admin', role: 'admin' },
        outcome: 'success',
        target: { inbox_item_id: item.id, reply_id: 'reply-0001' },
      }),
      expect.objectContaining({ outcome: 'success' }),
    ]);
    expect(audit.text).not.toContain('Recepción');

    // Bad input names the field; nothing is sent.
    const empty = await api.call('inbox-reply', { token, body: { id: item.id, reply_id: 'reply-0002', body: '   ' } });
    expect(empty.status).toBe(400);
    expect(empty.json.error.problems).toEqual([{ field: 'body', message: 'must not be empty' }]);
    const long = await api.call('inbox-reply', { token, body: { id: item.id, reply_id: 'reply-0003', body: 'x'.repeat(460) } });
    expect(long.status).toBe(400);
    expect(long.json.error.problems[0]).toEqual({ field: 'body', message: expect.stringContaining('4 SMS segments') });
    expect((await api.call('inbox-reply', { token, body: { id: item.id, body: 'hi' } })).json.error.problems[0].field).toBe('reply_id');
    expect((await api.call('inbox-reply', { token, body: { id: '0000000000000_nope', reply_id: 'reply-0004', body: 'hi' } })).status).toBe(
      404,
    );
    expect((await api.call('inbox-reply', { body: { id: item.id, reply_id: 'reply-0005', body: 'hi' } })).status).toBe(401);
    expect((await phones.received(p.phone)).slice(before)).toEqual([body]);
  });

  it('does not let staff text a patient who opted out', async () => {
    const p = patient();
    const api = adminApi(t);
    const token = await api.login();
    await t.postEvents(event(p));
    await phones.send(p.phone, 'who is this?');
    const item = (await api.call('inbox', { token })).json.items.find((i: { phone: string }) => i.phone === p.phone);
    await phones.send(p.phone, 'STOP');
    const before = (await phones.received(p.phone)).length;
    const refused = await api.call('inbox-reply', {
      token,
      body: { id: item.id, reply_id: 'reply-0101', body: 'This is Owl Health Clinic.' },
    });
    expect(refused.status).toBe(409);
    expect(refused.json.error.message).toMatch(/opted out/);
    expect(await phones.received(p.phone)).toHaveLength(before);
  });

  it('acts on the nearest upcoming appointment and says which when there are several', async () => {
    const p = patient();
    // The far one is booked last, so its text is the latest the patient got.
    await t.postEvents(event(p, { appointment_id: `${p.id}-near`, appointment_datetime: localTime(8, '08:15') }));
    await t.postEvents(event(p, { appointment_id: `${p.id}-far`, appointment_datetime: localTime(25, '15:00') }));
    await phones.send(p.phone, 'confirm appt');
    const requests = (await phones.ehrRequests()).filter((r) => String(r.json?.appointment_id).startsWith(p.id));
    expect(requests.map((r) => r.json.appointment_id)).toEqual([`${p.id}-near`]);
    expect((await phones.received(p.phone)).at(-1)).toContain('That was about your appointment on Thu, Dec 3 at 8:15 AM PST');
  });

  it('delivers to an EHR that fails twice exactly once: one attempt in the reply, the rest by the sweep', async () => {
    const p = patient();
    await t.postEvents(event(p));
    await phones.ehrBehaviour({ fail_next: 2, status: 503 });
    await phones.send(p.phone, 'CONFIRM APPT');
    expect((await phones.received(p.phone)).at(-1)).toBe(await flowText('send_confirm_ack', { reply: REPLY }));
    for (let i = 0; i < 3; i += 1) {
      t.stack.clock.advance(70 * MINUTE);
      await t.stack.sweep();
    }
    const attempts = (await phones.ehrRequests()).filter((r) => r.json?.appointment_id === p.id);
    expect(attempts.map((r) => r.outcome)).toEqual(['failed-by-config', 'failed-by-config', 'delivered']);
    expect(new Set(attempts.map((r) => r.idempotency_key)).size).toBe(1);
  });
});

describe("texts in the patient's language", () => {
  it.each(EHR_EVENT_TYPES)('%s is texted in Spanish to a patient whose patient_language is es-MX', async (type) => {
    const p = patient();
    await t.postEvents(event(p, { event_type: type, patient_language: 'es-MX' }));
    expect(await phones.received(p.phone)).toEqual([await flowText(`send_${type.toLowerCase()}_es`, { variables: SHOWN_ES })]);
  });

  it('texts English for a language the flow has no texts for, and for a missing one', async () => {
    const p = patient();
    await t.postEvents(event(p, { patient_language: 'fr-CA' }));
    expect((await phones.received(p.phone))[0]).toBe(await flowText('send_booked', { variables: SHOWN }));
    expect((await t.getJson(stateKey(p.id))).facts.patient_language).toBe('fr-CA');
  });

  it('a Spanish-speaking patient books, replies 2: the EHR receives CANCEL and the acknowledgement is in Spanish', async () => {
    const p = patient();
    await t.postEvents(event(p, { patient_language: 'es' }));
    expect((await phones.received(p.phone))[0]).toBe(await flowText('send_booked_es', { variables: SHOWN_ES }));
    await phones.send(p.phone, '2');
    const requests = (await phones.ehrRequests()).filter((r) => r.json?.appointment_id === p.id);
    expect(requests.map((r) => r.json.event_type)).toEqual(['CANCEL']);
    expect(requests[0].signature_valid).toBe(true);
    expect((await phones.received(p.phone)).at(-1)).toBe(await flowText('send_cancel_ack_es', { reply: REPLY_ES }));
  });

  it('answers HELP and AYUDA in Spanish to a Spanish-speaking patient', async () => {
    const p = patient();
    await t.postEvents(event(p, { patient_language: 'es' }));
    await phones.send(p.phone, 'AYUDA');
    expect((await phones.received(p.phone)).at(-1)).toBe(await flowText('send_help_es', { reply: REPLY_ES }));
    await phones.send(p.phone, 'hmm');
    expect((await phones.received(p.phone)).at(-1)).toBe(await flowText('send_inbox_ack_es', { reply: REPLY_ES }));
    await phones.send(p.phone, 'hmm?');
    expect((await phones.received(p.phone)).at(-1)).toBe(await flowText('send_options_es', { reply: REPLY_ES }));
  });
});

describe('texts never contradict the record', () => {
  it('30 parallel MODIFIED events: the last text names the stored room, and every event has one outcome', async () => {
    const p = patient();
    await t.postEvents(event(p));
    const base = FIXTURE_NOW - 6 * HOUR;
    const events = Array.from({ length: 30 }, (_, i) =>
      event(p, { event_type: 'MODIFIED', appointment_location: `Room ${i}`, event_datetime_utc: new Date(base + i * 1000).toISOString() }),
    );
    const shuffled = events.map((e, i) => ({ e, k: (i * 17) % 30 })).sort((a, b) => a.k - b.k);
    const responses = await Promise.all(shuffled.map(({ e }) => t.postEvents(e)));
    expect(responses.map((r) => r.status)).toEqual(Array(30).fill(202));
    await t.stack.settle();
    const state = await t.getJson(stateKey(p.id));
    expect(state.facts.appointment_location).toBe('Room 29');
    expect(state.outbox).toBeUndefined();
    const outcomes = state.log.map((e: { text?: string }) => e.text);
    expect(outcomes.every((x: string | undefined) => x === 'sent' || x === 'superseded')).toBe(true);
    const received = await phones.received(p.phone);
    expect(received.at(-1)).toContain('Room 29');
    // One text per sent outcome (the booking's included): coalesced, not one per event.
    expect(received).toHaveLength(outcomes.filter((x: string | undefined) => x === 'sent').length);
    expect(received.length).toBeLessThan(31);
  });
});

describe('replies are idempotent by MessageSid', () => {
  it('a signed reply replayed three times is one history record and one EHR request with one Idempotency-Key', async () => {
    const p = patient();
    await t.postEvents(event(p));
    const url = `${t.stack.url}/studio/reply`;
    const params = { From: p.phone, Body: 'CONFIRM APPT', MessageSid: `SM${'7'.repeat(32)}` };
    const signature = twilio.getExpectedTwilioSignature(t.stack.env.AUTH_TOKEN ?? '', url, params);
    const answers: { action: string }[] = [];
    for (let i = 0; i < 3; i += 1) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
        body: new URLSearchParams(params),
      });
      expect(res.status).toBe(200);
      answers.push((await res.json()) as { action: string });
      // Replays come later: the reply's time must not make them new events.
      t.stack.clock.advance(90_000);
    }
    expect(answers.map((a) => a.action)).toEqual(['confirm', 'confirm', 'confirm']);
    const history = await t.listKeys(historyPrefix(p.id));
    const requests = (await phones.ehrRequests()).filter((r) => r.json?.appointment_id === p.id);
    expect(requests).toHaveLength(1);
    expect(new Set(requests.map((r) => r.idempotency_key)).size).toBe(1);
    const state = await t.getJson(stateKey(p.id));
    expect(state.log.filter((e: { type: string }) => e.type === 'CONFIRM')).toHaveLength(1);
    expect(history).toHaveLength(2); // the booking and one CONFIRM
  });
});

describe('protected Functions', () => {
  it('refuses a request without a valid X-Twilio-Signature with 403', async () => {
    const body = new URLSearchParams({ From: '+14155552999', Body: 'CONFIRM APPT', MessageSid: `SM${'1'.repeat(32)}` });
    const forged = await fetch(`${t.stack.url}/studio/reply`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'bm90IGEgc2lnbmF0dXJl' },
      body,
    });
    expect(forged.status).toBe(403);
    const missing = await fetch(`${t.stack.url}/studio/reply`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    expect(missing.status).toBe(403);
  });
});
