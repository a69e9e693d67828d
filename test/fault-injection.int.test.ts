import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEhrEvent, type AppointmentEvent } from '../src/domain/event';
import { EhrNotifier } from '../src/ehr/notifier';
import type { FlowStarter } from '../src/messaging/flow-starter';
import { LOCAL_S3_CREDENTIALS } from '../src/local/s3/embedded-s3';
import type { AppointmentStore } from '../src/storage/appointment-store';
import { S3AppointmentStore } from '../src/storage/s3-appointment-store';
import { createS3Client } from '../src/storage/s3-client';
import { fileChanges } from '../src/use-cases/file-changes';
import { handleReply } from '../src/use-cases/handle-reply';
import { recordEvents, type RecordDeps } from '../src/use-cases/record-event';
import { sendMessagesForEvents } from '../src/use-cases/send-messages';
import { runSweep } from '../src/use-cases/sweep';
import type { SweepDeps } from '../src/use-cases/sweep-run';
import { ehrEvent } from './fixtures/events';
import { MINUTE } from './fixtures/time';
import { flowTextPattern } from './support/flow-texts';
import { startTestStack, type TestStack } from './support/local-stack';
import { phonesApi } from './support/phones';
import { started } from './support/started';

/**
 * Crashes the intake pipeline right after each of its steps (and the filer after the index entries it
 * writes for the intake), against the real embedded S3 and the local Twilio, then lets the
 * integration engine redeliver and the sweep run, and checks that the state is right and filed, the
 * patient got exactly one text, and nothing sent to the EHR was lost or doubled.
 */

class Crash extends Error {}

/** A wrapped port and whether its crash happened, so a case cannot pass without crashing anything. */
interface Crashing<T> {
  target: T;
  crashed: () => boolean;
}

/** `target` whose `method` does its work and then "crashes" (throws) on its `onCall`-th call. */
function crashingAfter<T extends object>(target: T, method: keyof T, onCall = 1): Crashing<T> {
  let calls = 0;
  const proxy = new Proxy(target, {
    get(obj, prop) {
      const value = Reflect.get(obj, prop, obj) as unknown;
      if (typeof value !== 'function') return value;
      if (prop !== method) return value.bind(obj);
      return async (...args: unknown[]) => {
        const result: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(obj, args);
        calls += 1;
        if (calls === onCall) throw new Crash(`crash after ${String(method)}`);
        return result;
      };
    },
  });
  return { target: proxy, crashed: () => calls >= onCall };
}

let t: TestStack;
/** The sweep's dependencies, with the whole store (the sweep's own port list lacks what intake and replies use). */
let deps: SweepDeps & { store: AppointmentStore };
beforeAll(async () => {
  t = await startTestStack();
  const s3 = createS3Client({ region: 'us-east-1', endpoint: t.stack.s3.endpoint, credentials: LOCAL_S3_CREDENTIALS });
  deps = { ...(await t.stack.sweepDeps()), store: new S3AppointmentStore(s3, t.stack.bucket) };
});
afterAll(async () => {
  await started(t)?.stop();
});

/** What the intake Function does with one event. */
async function intake(store: AppointmentStore, flows: FlowStarter, event: AppointmentEvent) {
  const record: RecordDeps = { store, policy: deps.policy, now: deps.now, defer: true };
  const results = await recordEvents(record, [event]);
  return sendMessagesForEvents({ store, flows, policy: deps.policy, now: deps.now, defer: true }, results, [event]);
}

function booking(k: number): AppointmentEvent {
  const r = parseEhrEvent(ehrEvent({ appointment_id: `APT-fault-${k}`, patient_phone: `+1415555${String(8100 + k)}` }), {
    defaultCountry: 'US',
  });
  if (!r.ok) throw new Error('fixture');
  return r.event;
}

const textsTo = (phone: string) =>
  t.stack.carrier.conversation(phone).filter((m) => m.to === phone && flowTextPattern('send_booked').test(m.body));

/** Once the indexes are read (the filer runs first), the appointment is filed as its state is now. */
async function expectFiled(event: AppointmentEvent) {
  await fileChanges(deps);
  const state = (await deps.store.getState(event.appointment_id))?.value;
  expect(state?.filed?.revision).toBe(state?.revision);
  expect((await deps.store.listChanges(1000)).filter((r) => r.appointment_id === event.appointment_id)).toEqual([]);
  expect(await deps.store.listAppointmentIdsForPhone(event.patient_phone, { filedOnly: true })).toEqual([event.appointment_id]);
}

type Wrap = (store: AppointmentStore, flows: FlowStarter) => { store: AppointmentStore; flows: FlowStarter; crashed: () => boolean };

const crashStore =
  (method: keyof AppointmentStore, onCall = 1): Wrap =>
  (s, flows) => {
    const c = crashingAfter(s, method, onCall);
    return { store: c.target, flows, crashed: c.crashed };
  };

describe('fault injection: a crash after each step of the intake, then redelivery and the sweep', () => {
  /**
   * What the engine saw the first time (a crash is a 5xx; a lost flow answer is caught and left to
   * the sweep), and whether the event was applied before the redelivery.
   */
  const steps: [string, Wrap, 'crashed' | 'answered', 'applied' | 'not applied'][] = [
    ['after the history record', crashStore('appendHistory'), 'crashed', 'not applied'],
    // The intake announces its change with a marker and leaves the indexes to the filer.
    ['after the change marker, before the state', crashStore('markChange'), 'crashed', 'not applied'],
    ['after the state write', crashStore('writeState'), 'crashed', 'applied'],
    [
      'after the flow start, its answer lost',
      (store, f) => {
        const c = crashingAfter(f, 'start');
        return { store, flows: c.target, crashed: c.crashed };
      },
      'answered',
      'applied',
    ],
    ['after the flow start, before the text is recorded as sent', crashStore('writeState', 2), 'answered', 'applied'],
  ];

  it.each(steps.map(([name, wrap, first, before], k) => [name, wrap, first, before, k] as const))(
    '%s: state right, exactly one text, filed',
    async (_name, wrap, expectedFirst, beforeRetry, k) => {
      const event = booking(k);
      const phone = event.patient_phone;
      const crashing = wrap(deps.store, deps.flows);
      const first = await intake(crashing.store, crashing.flows, event).then(
        () => 'answered',
        (err: unknown) => (err instanceof Crash ? 'crashed' : 'failed'),
      );
      await t.stack.settle();
      expect(crashing.crashed()).toBe(true);
      expect(first).toBe(expectedFirst);
      const applied = (await deps.store.getState(event.appointment_id))?.value.log?.some((e) => e.id === event.event_id) ?? false;
      expect(applied ? 'applied' : 'not applied').toBe(beforeRetry);

      // The engine delivers the event again whatever it got the first time (a 5xx, or a Function that died).
      await intake(deps.store, deps.flows, event);
      await t.stack.settle();
      // Whatever is still in flight belongs to the crashed dispatcher: the sweep finishes it after the lease.
      t.stack.clock.advance(3 * MINUTE);
      const counts = await runSweep(deps);
      expect(counts.failed).toBe(0);
      await t.stack.settle();

      const state = (await deps.store.getState(event.appointment_id))?.value;
      expect(state).toMatchObject({ disposition: 'QUEUED', ehr_event_id: event.event_id });
      expect(state?.outbox).toBeUndefined();
      expect(state?.log?.map((e) => [e.id, e.text])).toEqual([[event.event_id, 'sent']]);
      expect(textsTo(phone)).toHaveLength(1);
      expect(await deps.store.listHistory(event.appointment_id)).toHaveLength(1);
      await expectFiled(event);
    },
  );

  it('a crash of the filer after the index entries: the next read files the appointment, nothing is lost or sent twice', async () => {
    const event = booking(10);
    await intake(deps.store, deps.flows, event);
    await t.stack.settle();
    expect(textsTo(event.patient_phone)).toHaveLength(1);
    const crashing = crashingAfter(deps.store, 'putListing');
    const failed = await fileChanges({ ...deps, store: crashing.target });
    expect(crashing.crashed()).toBe(true);
    expect(failed.failed).toBeGreaterThanOrEqual(1);

    await expectFiled(event);
    t.stack.clock.advance(3 * MINUTE);
    expect((await runSweep(deps)).failed).toBe(0);
    await t.stack.settle();
    const state = (await deps.store.getState(event.appointment_id))?.value;
    expect(state?.log?.map((e) => [e.id, e.text])).toEqual([[event.event_id, 'sent']]);
    expect(textsTo(event.patient_phone)).toHaveLength(1);
  });

  it('a crash after the EHR accepted a patient request: redelivered by the sweep with the same Idempotency-Key, never lost', async () => {
    const event = booking(20);
    await intake(deps.store, deps.flows, event);
    await t.stack.settle();
    const env = t.stack.env;
    const crashing = crashingAfter(deps.store, 'putReceipt');
    const store = crashing.target;
    const notifier = new EhrNotifier({ endpoint: env.IE_ENDPOINT ?? '', secret: env.IE_SIGNING_SECRET ?? '', store, now: deps.now });
    const reply = { from: event.patient_phone, body: 'CONFIRM APPT', messageSid: `SM${'8'.repeat(32)}` };
    // The request was recorded and queued before the crash: the patient still gets the normal answer.
    const first = await handleReply({ record: { store, policy: deps.policy, now: deps.now }, notifier, homeCountry: 'US' }, reply);
    expect(first).toMatchObject({ action: 'confirm', ehr_delivery: 'pending' });
    expect(crashing.crashed()).toBe(true);

    // Studio's retry of the reply Function, then the sweep's outbox run once the first attempt's lease is over.
    const healthy = new EhrNotifier({
      endpoint: env.IE_ENDPOINT ?? '',
      secret: env.IE_SIGNING_SECRET ?? '',
      store: deps.store,
      now: deps.now,
    });
    await handleReply({ record: { store: deps.store, policy: deps.policy, now: deps.now }, notifier: healthy, homeCountry: 'US' }, reply);
    t.stack.clock.advance(2 * MINUTE);
    await runSweep({ ...deps, notifier: healthy });

    const requests = (await phonesApi(t).ehrRequests()).filter((r) => r.json?.appointment_id === event.appointment_id);
    expect(requests.length).toBeGreaterThanOrEqual(1);
    expect(new Set(requests.map((r) => r.idempotency_key)).size).toBe(1);
    expect(requests.map((r) => r.json.event_type)).toEqual(requests.map(() => 'CONFIRM'));
    const state = (await deps.store.getState(event.appointment_id))?.value;
    expect(state?.patient_request?.type).toBe('CONFIRM');
    expect(state?.log?.filter((e) => e.type === 'CONFIRM')).toHaveLength(1);
    expect(await deps.store.getReceipt(event.appointment_id, state?.patient_request?.event_id ?? '')).toMatchObject({
      event_id: state?.patient_request?.event_id,
      status: 'delivered',
    });
    expect(await deps.store.listOutbox('ehr')).toEqual([]);
  });
});
