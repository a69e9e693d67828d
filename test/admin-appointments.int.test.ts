import { PutObjectCommand } from '@aws-sdk/client-s3';
import { S3AppointmentStore } from '../src/storage/s3-appointment-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ehrEvent } from './fixtures/events';
import { HOUR, localTime, utcAt } from './fixtures/time';
import { adminApi } from './support/admin';
import { startTestStack, type TestStack } from './support/local-stack';
import { phonesApi } from './support/phones';
import { started } from './support/started';

/* eslint-disable @typescript-eslint/no-explicit-any -- tests read JSON answers loosely and assert on them */

/*
 * The appointments list through real HTTP on the local stack: the clinic's zone there is
 * America/Los_Angeles and the clock starts Wed 25 Nov 2026, 08:00 in Los Angeles.
 */
describe('GET /admin/appointments: search, filters, sort and paging', () => {
  let t: TestStack;
  let api: ReturnType<typeof adminApi>;
  let token: string;
  const list = async (query: Record<string, string> = {}) => {
    const res = await api.call('appointments', { token, query });
    expect(res.status, res.text).toBe(200);
    return res.json;
  };
  const ids = (json: any) => json.appointments.map((a: any) => a.appointment_id);

  // Booked out of time order, so storage order (by id) is not appointment order.
  const seed = [
    {
      id: 'L-WEEK',
      first: 'Marta',
      last: 'Ruiz',
      phone: '(415) 555-0301',
      day: 3,
      hhmm: '09:00',
      location: 'North Clinic',
      provider: 'D-1',
    },
    {
      id: 'L-TODAY',
      first: 'Zoë',
      last: 'Nuñez',
      phone: '(415) 555-0302',
      day: 0,
      hhmm: '15:00',
      location: 'South Clinic',
      provider: 'D-2',
    },
    {
      id: 'L-TOMORROW-B',
      first: 'Zoltan',
      last: 'Kis',
      phone: '(415) 555-0303',
      day: 1,
      hhmm: '11:00',
      location: 'North Clinic',
      provider: 'D-2',
    },
    {
      id: 'L-TOMORROW-A',
      first: 'Ana',
      last: 'Marquez',
      phone: '(415) 555-0304',
      day: 1,
      hhmm: '08:30',
      location: 'North Clinic',
      provider: 'D-1',
    },
    {
      id: 'L-LATER',
      first: 'Omar',
      last: 'Haddad',
      phone: '(415) 555-0305',
      day: 12,
      hhmm: '13:00',
      location: 'South Clinic',
      provider: 'D-1',
    },
  ];

  beforeAll(async () => {
    t = await startTestStack();
    api = adminApi(t);
    token = await api.login();
    const events = seed.map((s, i) =>
      ehrEvent({
        appointment_id: s.id,
        event_datetime_utc: utcAt(-8 * HOUR + i * 1000),
        patient_id: `P-${s.id}`,
        patient_first_name: s.first,
        patient_last_name: s.last,
        patient_phone: s.phone,
        appointment_datetime: localTime(s.day, s.hhmm),
        appointment_location: s.location,
        provider_id: s.provider,
      }),
    );
    const res = await t.postEvents(events);
    expect(res.status, JSON.stringify(res.json)).toBe(202);
    const confirmed = await t.postEvents(ehrEvent({ ...events[2], event_type: 'CONFIRMED', event_datetime_utc: utcAt(-HOUR) }));
    expect(confirmed.status).toBe(202);
    await t.stack.settle();
  }, 60_000);
  afterAll(async () => {
    await started(t)?.stop();
  });

  it('lists by appointment time by default, whatever order they were booked in', async () => {
    const json = await list();
    expect(ids(json)).toEqual(['L-TODAY', 'L-TOMORROW-A', 'L-TOMORROW-B', 'L-WEEK', 'L-LATER']);
    expect(json.zone).toEqual({ name: 'America/Los_Angeles', source: 'clinic' });
    expect(json.cursor).toBeUndefined();
  });

  it('pages with a cursor past the first page, without repeats or gaps', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const json = await list({ limit: '2', ...(cursor ? { cursor } : {}) });
      expect(json.appointments.length).toBeLessThanOrEqual(2);
      seen.push(...ids(json));
      cursor = json.cursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(['L-TODAY', 'L-TOMORROW-A', 'L-TOMORROW-B', 'L-WEEK', 'L-LATER']);
  });

  it('narrows to today, tomorrow and the next 7 days in the clinic zone, or to a custom range', async () => {
    expect(ids(await list({ range: 'today' }))).toEqual(['L-TODAY']);
    expect(ids(await list({ range: 'tomorrow' }))).toEqual(['L-TOMORROW-A', 'L-TOMORROW-B']);
    expect(ids(await list({ range: 'week' }))).toEqual(['L-TODAY', 'L-TOMORROW-A', 'L-TOMORROW-B', 'L-WEEK']);
    const from = localTime(3, '00:00').slice(0, 10);
    const to = localTime(12, '00:00').slice(0, 10);
    expect(ids(await list({ from, to }))).toEqual(['L-WEEK', 'L-LATER']);
    expect(ids(await list({ from: to }))).toEqual(['L-LATER']);
  });

  it('filters by disposition, location, provider and attention, and combines them', async () => {
    expect(ids(await list({ disposition: 'CONFIRMED' }))).toEqual(['L-TOMORROW-B']);
    expect(ids(await list({ disposition: 'QUEUED,CONFIRMED', location: 'North Clinic' }))).toEqual([
      'L-TOMORROW-A',
      'L-TOMORROW-B',
      'L-WEEK',
    ]);
    expect(ids(await list({ provider: 'D-2' }))).toEqual(['L-TODAY', 'L-TOMORROW-B']);
    expect(ids(await list({ provider: 'D-2', range: 'tomorrow' }))).toEqual(['L-TOMORROW-B']);
    expect(ids(await list({ location: 'Nowhere' }))).toEqual([]);
    expect(ids(await list({ attention: 'undeliverable' }))).toEqual([]);
  });

  it('sorts by last change, newest first', async () => {
    const json = await list({ sort: 'change' });
    // The confirmation is the newest change; then the bookings, newest first.
    expect(ids(json)[0]).toBe('L-TOMORROW-B');
    expect(ids(json).slice(1)).toEqual(['L-LATER', 'L-TOMORROW-A', 'L-TODAY', 'L-WEEK']);
  });

  it('searches by name words (any case, no accents needed), by phone in any format and by appointment id', async () => {
    expect(ids(await list({ q: 'zo' }))).toEqual(['L-TODAY', 'L-TOMORROW-B']);
    expect(ids(await list({ q: 'zoe nunez' }))).toEqual(['L-TODAY']);
    expect(ids(await list({ q: 'MAR' }))).toEqual(['L-TOMORROW-A', 'L-WEEK']);
    expect(ids(await list({ q: 'mar', sort: 'change' }))).toEqual(['L-TOMORROW-A', 'L-WEEK']);
    expect(ids(await list({ q: '+1 415-555-0305' }))).toEqual(['L-LATER']);
    expect(ids(await list({ q: '4155550303' }))).toEqual(['L-TOMORROW-B']);
    expect(ids(await list({ q: 'L-WEEK' }))).toEqual(['L-WEEK']);
    expect(ids(await list({ q: 'zo', range: 'today' }))).toEqual(['L-TODAY']);
    expect(ids(await list({ q: 'nobody' }))).toEqual([]);
    const paged = await list({ q: 'mar', limit: '1' });
    expect(ids(paged)).toEqual(['L-TOMORROW-A']);
    expect(ids(await list({ q: 'mar', limit: '1', cursor: paged.cursor }))).toEqual(['L-WEEK']);
  });

  it('shows the patient-asked and inbox attention views after the patient writes', async () => {
    const phones = phonesApi(t);
    await phones.send('+14155550304', 'CONFIRM APPT');
    await phones.send('+14155550305', 'can I bring my dog?');
    await t.stack.settle();
    expect(ids(await list({ attention: 'patient-request' }))).toEqual(['L-TOMORROW-A']);
    expect(ids(await list({ attention: 'inbox' }))).toEqual(['L-LATER']);
  });

  it('skips an index entry that does not match the state (a writer that died between its writes)', async () => {
    const keys = await t.listKeys('index/by-time/');
    const real = keys.find((k) => k.includes(`.${Buffer.from('L-WEEK').toString('base64url')}.`));
    expect(real).toBeDefined();
    // The same appointment filed as CANCELED, as if a cancellation's state write never happened.
    const parts = (real as string).split('.');
    parts[4] = 'CANCELED';
    await t.s3.send(new PutObjectCommand({ Bucket: t.stack.env.S3_BUCKET, Key: parts.join('.'), Body: '{}' }));
    expect(ids(await list({ disposition: 'CANCELED' }))).toEqual([]);
    const all = await list();
    expect(ids(all).filter((id: string) => id === 'L-WEEK')).toHaveLength(1);
    expect(all.stale).toBeGreaterThanOrEqual(1);
  });

  it('lists appointments stored before the index existed once POST /admin/reindex has filed them', async () => {
    const store = new S3AppointmentStore(t.s3, t.stack.bucket);
    const old = (await store.getState('L-WEEK'))!.value;
    // As an older version wrote it: the state alone, no index entries.
    expect(await store.writeState({ ...old, facts: { ...old.facts, appointment_id: 'L-OLD' } }, null)).not.toBeNull();
    expect(ids(await list({ q: 'L-OLD' }))).toEqual(['L-OLD']);
    expect(ids(await list())).not.toContain('L-OLD');
    let cursor: string | undefined;
    let calls = 0;
    do {
      const res = await api.call('reindex', { token, body: cursor ? { cursor } : {} });
      expect(res.status).toBe(200);
      cursor = res.json.cursor;
      calls += 1;
    } while (cursor && calls < 10);
    expect(ids(await list())).toContain('L-OLD');
    expect(ids(await list({ q: 'marta' }))).toEqual(['L-OLD', 'L-WEEK']);
    expect((await api.call('reindex', { token, body: { cursor: '../x' } })).status).toBe(400);
  });

  it('refuses bad parameters with a 400 naming each field', async () => {
    const bad = async (query: Record<string, string>, field: string) => {
      const res = await api.call('appointments', { token, query });
      expect(res.status).toBe(400);
      expect(res.json.error.problems.map((p: any) => p.field)).toContain(field);
      expect(res.text).not.toContain('stack');
    };
    await bad({ limit: '0' }, 'limit');
    await bad({ limit: 'many' }, 'limit');
    await bad({ disposition: 'MAYBE' }, 'disposition');
    await bad({ range: 'yesterday' }, 'range');
    await bad({ from: '2026-13-40' }, 'from');
    await bad({ from: '2026-12-05', to: '2026-12-01' }, 'to');
    await bad({ cursor: '../../state' }, 'cursor');
    await bad({ sort: 'name' }, 'sort');
    await bad({ attention: 'urgent' }, 'attention');
    await bad({ tz: 'Mars/Olympus' }, 'tz');
  });
});

describe('GET /admin/history: the appointment timeline', () => {
  let t: TestStack;
  let api: ReturnType<typeof adminApi>;
  let token: string;
  beforeAll(async () => {
    t = await startTestStack();
    api = adminApi(t);
    token = await api.login();
  });
  afterAll(async () => {
    await started(t)?.stop();
  });

  it('has every EHR event with what changed, the texts with their words and delivery, the reply, the EHR request and the reminder plan, in the clinic zone', async () => {
    const phone = '+14155550410';
    const booked = ehrEvent({
      appointment_id: 'TL-1',
      patient_phone: phone,
      appointment_location: 'North Clinic',
      event_datetime_utc: utcAt(-2 * HOUR),
    });
    expect((await t.postEvents(booked)).status).toBe(202);
    await t.stack.settle();
    expect(
      (await t.postEvents({ ...booked, event_type: 'MODIFIED', appointment_location: 'South Clinic', event_datetime_utc: utcAt(-HOUR) }))
        .status,
    ).toBe(202);
    await t.stack.settle();
    await phonesApi(t).send(phone, 'CONFIRM APPT');
    await t.stack.settle();
    const received = await phonesApi(t).received(phone);
    expect(received.length).toBeGreaterThanOrEqual(2);

    const res = await api.call('history', { token, query: { appointment_id: 'TL-1' } });
    expect(res.status).toBe(200);
    const { zone, timeline } = res.json;
    expect(zone).toEqual({ name: 'America/Los_Angeles', source: 'clinic' });
    const of = (kind: string) => timeline.filter((e: any) => e.kind === kind);

    const ehr = of('ehr-event');
    expect(ehr.map((e: any) => e.title)).toEqual(['Booked in the EHR', 'Changed in the EHR']);
    expect(ehr[1].changes).toEqual([{ field: 'appointment_location', label: 'location', from: 'North Clinic', to: 'South Clinic' }]);

    const texts = of('text');
    // Every text the phone received about it is there with its words and a status.
    expect(texts.map((e: any) => e.body).sort()).toEqual([...received].sort());
    for (const e of texts) {
      expect(e.status).toEqual(expect.any(String));
      expect(e.ref.label).toMatch(/^Text \d+$/);
      expect(e.ref.id).toMatch(/^SM/);
    }

    const replies = of('reply');
    expect(replies.map((e: any) => e.title)).toEqual(expect.arrayContaining(['Patient asked to confirm', 'Patient replied']));
    expect(replies.find((e: any) => e.title === 'Patient replied').body).toBe('CONFIRM APPT');
    const requests = of('ehr-request');
    expect(requests).toHaveLength(1);
    expect(requests[0].detail).toMatch(/^Delivered .* (PST|PDT) \(HTTP 200/);

    // The patient asked to confirm: no more nudges, and the timeline says why.
    expect(of('reminder')).toEqual([
      expect.objectContaining({ title: 'No more reminders', detail: 'the patient asked to confirm or cancel' }),
    ]);

    // Times are ordered (to the second: Twilio's resolution), each written in the clinic zone with the zone named.
    const instants = timeline.map((e: any) => Math.floor(Date.parse(e.at) / 1000));
    expect(instants).toEqual([...instants].sort((a, b) => a - b));
    for (const e of timeline) expect(e.at_local).toMatch(/ (PST|PDT)$/);
  });
});
