import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyEvent, type AppointmentState } from '../../src/domain/appointment';
import { parseEhrEvent, type AppointmentEvent } from '../../src/domain/event';
import { createStudioRouter } from '../../src/local/studio/router';
import { FlowStartError } from '../../src/messaging/flow-starter';
import { TwilioFlowStarter } from '../../src/messaging/twilio-flow-starter';
import { createTwilioClient, type TwilioClient } from '../../src/twilio/client';
import { loadFlowTemplate, renderFlow } from '../../studio/render-flow';
import { ehrEvent } from '../fixtures/events';
import { flowTextPattern } from '../support/flow-texts';
import { ACCOUNT_SID, AUTH_TOKEN, TWILIO_NUMBER, makeEngine } from './support';

/**
 * TwilioFlowStarter with the real twilio SDK against the local Studio stand-in running
 * studio/flow.json: a start that meets another active execution for the contact waits for it to
 * end and never ends it.
 */

const { engine, messages } = makeEngine();
const MARKER = 'a'.repeat(32);
let server: Server;
let client: TwilioClient;
let flowSid = '';

beforeAll(async () => {
  const app = express();
  app.use(
    '/studio',
    createStudioRouter(engine, () => ({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN })),
  );
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  client = createTwilioClient({
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    apiBaseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  });
  const definition = renderFlow(loadFlowTemplate(), {
    functionsBaseUrl: 'https://functions.example.test',
    ieEndpoint: 'https://ehr.example.test/requests',
    customerName: 'Owl Health Clinic',
    originMarker: MARKER,
  });
  const flow = engine.createFlow({ friendlyName: 'patient-appointment-management', status: 'published', definition });
  expect(flow.errors).toEqual([]);
  flowSid = flow.sid;
});

afterAll(async () => {
  engine.stop();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

let seq = 0;
/** A booked appointment for a phone of its own, as the intake would have stored it. */
function booked(): { state: AppointmentState; event: AppointmentEvent; phone: string } {
  seq += 1;
  const phone = `+1415555${String(3000 + seq).padStart(4, '0')}`;
  const parsed = parseEhrEvent(ehrEvent({ patient_phone: phone, appointment_id: `APT-starter-${seq}` }), { defaultCountry: 'US' });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const applied = applyEvent(null, parsed.event, parsed.event.event_datetime_utc);
  if (!applied.state) throw new Error('the booking did not apply');
  return { state: applied.state, event: parsed.event, phone };
}

function starter(sleep: (ms: number) => Promise<void>, random = () => 0.5) {
  return new TwilioFlowStarter(client, { flowSid, from: TWILIO_NUMBER, originMarker: MARKER, homeCountry: 'US', sleep, random });
}

/** Starts an execution for `phone` whose text is held at the carrier, so it stays active until released. */
async function liveExecution(phone: string): Promise<{ sid: string; release: () => Promise<void> }> {
  const release = messages.hold();
  const created = engine.startExecution({
    flowSid,
    to: phone,
    from: TWILIO_NUMBER,
    parameters: {
      origin: MARKER,
      event_type: 'CONFIRMED',
      patient_first_name: 'Ana',
      provider_name: '',
      appointment_when: 'Tue, Dec 1 at 9:30 AM PST',
      provider_callback_phone: '',
    },
  });
  await expect.poll(() => messages.waiting).toBe(1);
  const live = engine.listExecutions(flowSid, { status: 'active' }).find((x) => x.contactChannelAddress === phone);
  if (!live) throw new Error('no live execution');
  return {
    sid: live.sid,
    release: async () => {
      release();
      await created;
    },
  };
}

describe('TwilioFlowStarter against the Studio stand-in', () => {
  it('starts an execution that sends the booking text and ends right after it', async () => {
    const { state, event, phone } = booked();
    const result = await starter(() => Promise.reject(new Error('no wait expected'))).start({ state, event });
    expect(result.kind).toBe('started');
    const sid = result.kind === 'started' ? result.executionSid : '';
    expect(engine.getExecution(flowSid, sid).status).toBe('ended');
    expect(engine.listSteps(flowSid, sid).map((s) => [s.transitionedFrom, s.transitionedTo])).toEqual([
      ['Trigger', 'set_settings'],
      ['set_settings', 'split_origin'],
      ['split_origin', 'split_staff'],
      ['split_staff', 'set_display_ours'],
      ['set_display_ours', 'split_language'],
      ['split_language', 'split_event'],
      ['split_event', 'send_booked'],
      ['send_booked', 'Ended'],
    ]);
    expect(messages.sent.filter((m) => m.to === phone).map((m) => m.body)).toEqual([expect.stringMatching(flowTextPattern('send_booked'))]);
  });

  it('waits for the contact’s live execution to end on its own, then starts; the other execution is not ended', async () => {
    const { state, event, phone } = booked();
    const live = await liveExecution(phone);
    const waits: number[] = [];
    const result = await starter(async (ms) => {
      waits.push(ms);
      // The other execution's text goes out after the second refusal; it then ends by itself.
      if (waits.length === 2) await live.release();
    }).start({ state, event });

    expect(result.kind).toBe('started');
    expect(waits).toEqual([75, 150]);
    // The live execution ran to its natural end: its text was sent and nobody stopped it.
    const log = engine.getExecutionLog(flowSid, live.sid);
    expect(log.steps.at(-1)).toMatchObject({ transitionedFrom: 'send_confirmed', name: 'sent', transitionedTo: 'Ended' });
    expect(log.entries.map((e) => e.message)).not.toContain('ended via API');
    const texts = messages.sent.filter((m) => m.to === phone).map((m) => m.body);
    expect(texts).toEqual([
      expect.stringMatching(flowTextPattern('send_confirmed')),
      expect.stringMatching(flowTextPattern('send_booked')),
    ]);
  });

  it('gives up after the bounded backoff with a retryable error, leaving the live execution running', async () => {
    const { state, event, phone } = booked();
    const live = await liveExecution(phone);
    const waits: number[] = [];
    const randoms = [0, 1, 0.5, 0, 1];
    let i = 0;
    try {
      const err = await starter(
        async (ms) => {
          waits.push(ms);
        },
        () => randoms[i++] ?? 0,
      )
        .start({ state, event })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(FlowStartError);
      expect(err).toMatchObject({ retryable: true, status: 409 });
      expect((err as Error).message).not.toContain(phone);
      // Five retries, each between half and all of 100, 200, 400, 800, 1600 ms.
      expect(waits).toEqual([50, 200, 300, 400, 1600]);
      expect(engine.getExecution(flowSid, live.sid).status).toBe('active');
    } finally {
      await live.release();
    }
    expect(engine.getExecution(flowSid, live.sid).status).toBe('ended');
    expect(engine.getExecutionLog(flowSid, live.sid).entries.map((e) => e.message)).not.toContain('ended via API');
    expect(engine.listExecutions(flowSid).filter((x) => x.contactChannelAddress === phone)).toHaveLength(1);
  });

  it('does not retry an error other than a conflict', async () => {
    const { state, event } = booked();
    const other = new TwilioFlowStarter(client, {
      flowSid: `FW${'9'.repeat(32)}`,
      from: TWILIO_NUMBER,
      originMarker: MARKER,
      homeCountry: 'US',
      sleep: () => Promise.reject(new Error('no wait expected')),
    });
    await expect(other.start({ state, event })).rejects.toMatchObject({ retryable: false, status: 404 });
  });
});
