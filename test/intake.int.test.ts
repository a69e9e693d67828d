import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EHR_EVENT_TYPES } from '../src/domain/event';
import { historyPrefix, stateKey } from '../src/storage/keys';
import { ehrEvent } from './fixtures/events';
import { startTestStack, type TestStack } from './support/local-stack';
import { FIXTURE_NOW, HOUR, MINUTE, utcAt } from './fixtures/time';
import { started } from './support/started';

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack();
});
afterAll(async () => {
  await started(t)?.stop();
});

const LOCATION = 'Suite 100, O\'Brien Bldg, "East" Wing = 2nd floor';

describe('POST /ehr/events', () => {
  it.each(EHR_EVENT_TYPES)('records a %s event: state and history readable through the S3 API', async (type) => {
    const id = `APT-type-${type}`;
    const res = await t.postEvents(ehrEvent({ event_type: type, appointment_id: id, appointment_location: LOCATION }));
    expect(res.status).toBe(202);
    expect(res.json.results).toEqual([
      expect.objectContaining({ appointment_id: id, event_type: type, outcome: 'applied', duplicate: false, stale: false }),
    ]);
    const state = await t.getJson(stateKey(id));
    expect(state.ehr_event_type).toBe(type);
    expect(state.disposition).toBe(res.json.results[0].disposition);
    expect(state.facts.appointment_location).toBe(LOCATION);
    expect(state.facts.patient_first_name).toBe('Zoë');
    const history = await t.listKeys(historyPrefix(id));
    expect(history).toHaveLength(1);
    const record = await t.getJson(history[0] as string);
    expect(record.event.appointment_location).toBe(LOCATION);
    expect(record.event.event_type).toBe(type);
  });

  it('accepts an array of events and answers per event, in order', async () => {
    const res = await t.postEvents([
      ehrEvent({ appointment_id: 'APT-batch-1' }),
      ehrEvent({ appointment_id: 'APT-batch-2', event_type: 'CONFIRMED' }),
      ehrEvent({ appointment_id: 'APT-batch-1', event_type: 'CANCELED', event_datetime_utc: utcAt(-8 * HOUR + 5 * MINUTE) }),
    ]);
    expect(res.status).toBe(202);
    expect(res.json.results.map((r: { appointment_id: string; disposition: string }) => [r.appointment_id, r.disposition])).toEqual([
      ['APT-batch-1', 'QUEUED'],
      ['APT-batch-2', 'CONFIRMED'],
      ['APT-batch-1', 'CANCELED'],
    ]);
  });

  it('applies 50 concurrent events for one appointment without losing any', async () => {
    const id = 'APT-race';
    const base = FIXTURE_NOW - 8 * HOUR;
    const events = Array.from({ length: 50 }, (_, i) =>
      ehrEvent({
        appointment_id: id,
        event_type: i % 2 ? 'MODIFIED' : 'BOOKED',
        appointment_location: `Room ${i}`,
        event_datetime_utc: new Date(base + i * 1000).toISOString(),
      }),
    );
    // Shuffled so the newest does not simply arrive last.
    const order = events.map((e, i) => ({ e, k: (i * 37) % 50 })).sort((a, b) => a.k - b.k);
    const responses = await Promise.all(order.map(({ e }) => t.postEvents(e)));
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(202));
    expect(await t.listKeys(historyPrefix(id))).toHaveLength(50);
    const state = await t.getJson(stateKey(id));
    expect(state.facts.appointment_location).toBe('Room 49');
    expect(state.ehr_event_at).toBe(new Date(base + 49_000).toISOString());
    // Every event is applied, late ones at their place: the log holds all 50 in time order.
    expect(responses.map((r) => r.json.results[0].outcome)).toEqual(Array(50).fill('applied'));
    expect(state.log.map((e: { at: string }) => e.at)).toEqual(events.map((e) => new Date(String(e.event_datetime_utc)).toISOString()));
  });

  it('treats the same event delivered three times as one change and two duplicates', async () => {
    const e = ehrEvent({ appointment_id: 'APT-dup' });
    const results = [];
    for (let i = 0; i < 3; i += 1) results.push((await t.postEvents(e)).json.results[0]);
    expect(results.map((r) => r.outcome)).toEqual(['applied', 'duplicate', 'duplicate']);
    expect(results.map((r) => r.duplicate)).toEqual([false, true, true]);
    const state = await t.getJson(stateKey('APT-dup'));
    expect(state.log).toHaveLength(1);
    expect(state.log[0].text).toBe('sent');
    expect(await t.listKeys(historyPrefix('APT-dup'))).toHaveLength(1);
  });

  it('inserts an older event at its place: in history and in the state, which stays as time order says', async () => {
    const id = 'APT-stale';
    await t.postEvents(ehrEvent({ appointment_id: id, event_type: 'CANCELED', event_datetime_utc: utcAt(-6 * HOUR) }));
    const res = await t.postEvents(ehrEvent({ appointment_id: id, event_type: 'BOOKED', event_datetime_utc: utcAt(-7 * HOUR) }));
    expect(res.json.results[0]).toMatchObject({
      outcome: 'applied',
      late: true,
      stale: false,
      disposition: 'CANCELED',
      message: 'superseded',
    });
    expect(await t.listKeys(historyPrefix(id))).toHaveLength(2);
    const state = await t.getJson(stateKey(id));
    expect(state.disposition).toBe('CANCELED');
    expect(state.log.map((e: { type: string; text: string }) => [e.type, e.text])).toEqual([
      ['BOOKED', 'superseded'],
      ['CANCELED', 'sent'],
    ]);
  });

  it('refuses an event dated more than 24 hours ahead of the server clock, naming the field', async () => {
    const res = await t.postEvents(ehrEvent({ appointment_id: 'APT-future', event_datetime_utc: '2030-12-31T00:00:00Z' }));
    expect(res.status).toBe(400);
    expect(res.json.error.problems).toEqual([
      expect.objectContaining({ field: 'event_datetime_utc', message: expect.stringMatching(/ahead/) }),
    ]);
    expect(await t.listKeys(historyPrefix('APT-future'))).toEqual([]);
    expect((await t.postEvents(ehrEvent({ appointment_id: 'APT-future', event_datetime_utc: utcAt(23 * HOUR) }))).status).toBe(202);
  });

  it('encodes ids so they cannot escape or collide in the key space', async () => {
    const ids = ['../x', 'a/b', 'a%2Fb', 'a', 'é', 'e\u0301', '..', '%2e%2e'];
    for (const id of ids) expect((await t.postEvents(ehrEvent({ appointment_id: id }))).status).toBe(202);
    for (const id of ids) expect((await t.getJson(stateKey(id))).facts.appointment_id).toBe(id);
    const stateKeys = (await t.listKeys('appointments/')).filter((k) => k.endsWith('/state.json'));
    for (const k of stateKeys) expect(k).toMatch(/^appointments\/[A-Za-z0-9_-]+\/state\.json$/);
    expect(new Set(ids.map(stateKey)).size).toBe(ids.length);
  });

  it('serves the placeholder page at the root', async () => {
    const res = await fetch(`${t.stack.url}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Patient Appointment Management');
  });
});
