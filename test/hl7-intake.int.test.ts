import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { historyPrefix, stateKey } from '../src/storage/keys';
import { expectedFacts, hl7Fixture, siuMessage } from './fixtures/hl7';
import { startTestStack, type TestStack } from './support/local-stack';
import { phonesApi } from './support/phones';
import { started } from './support/started';

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers are read loosely and asserted on */

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack({
    EHR_DEFAULT_TIMEZONE: 'America/New_York',
    EHR_FACILITY_TIMEZONES: JSON.stringify({ BLT: 'Europe/London', 'proxy00-prodaz': 'Europe/Paris' }),
  });
});
afterAll(async () => {
  await started(t)?.stop();
});

async function postHl7(
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: any; text: string; type: string | null }> {
  const res = await fetch(`${t.stack.url}/ehr/hl7`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${t.stack.env.EHR_API_KEY}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, type: res.headers.get('content-type') };
}

const segment = (ack: string, id: string) => ack.split('\r').filter((s) => s.startsWith(`${id}|`));

async function historyRecord(appointmentId: string, eventId: string): Promise<any> {
  const key = (await t.listKeys(historyPrefix(appointmentId))).find((k) => k.endsWith(`_${eventId}.json`));
  return key ? t.getJson(key) : undefined;
}

/**
 * Every published sample through POST /ehr/hl7. The samples' numbers are fictional and most are not
 * valid numbers at all: as published, such a message is refused AE naming PID-13 and nothing is
 * written. Then the same message with a valid number swapped in (in memory) goes the whole way.
 * The samples are years old, so none is texted: bookings are past, and so are the cancellations
 * and no-shows (those are texted only up to a day after the appointment).
 */
const FIXTURES: {
  file: string;
  ack: 'AA' | 'AE';
  swap?: [string, string];
  type?: string;
  utc?: string;
  phone?: string;
  zone?: string;
  text?: string;
  outcome?: string;
}[] = [
  {
    file: 'athena_s15_status_noshow.hl7',
    ack: 'AE',
    swap: ['(222)222-2222', '(415)555-0101'],
    type: 'NOSHOWED',
    utc: '2015-05-19T17:00:00.000Z',
    phone: '+14155550101',
    zone: 'America/New_York',
    text: 'refused',
  },
  { file: 'corepoint_gpms_s14.hl7', ack: 'AA' },
  {
    file: 'healthmatics_ntierprise_s12.hl7',
    ack: 'AE',
    swap: ['(777)707-0707', '(415)555-0102'],
    type: 'BOOKED',
    utc: '2019-04-23T18:00:00.000Z',
    phone: '+14155550102',
    zone: 'America/New_York',
    text: 'refused',
  },
  {
    file: 'mesa_op_s12.hl7',
    ack: 'AA',
    type: 'BOOKED',
    utc: '2011-06-17T12:45:00.000Z',
    phone: '+12605551234',
    zone: 'America/New_York',
    text: 'refused',
  },
  {
    file: 'msft_siu_s12_01.hl7',
    ack: 'AE',
    swap: ['78788788', '(415)555-0103'],
    type: 'BOOKED',
    utc: '2021-09-24T07:15:00.000Z',
    phone: '+14155550103',
    text: 'refused',
  },
  {
    file: 'msft_siu_s12_02_multi_rgs.hl7',
    ack: 'AE',
    swap: ['78788788', '(415)555-0103'],
    type: 'BOOKED',
    utc: '2021-08-18T09:15:00.000Z',
    phone: '+14155550103',
    text: 'refused',
  },
  {
    file: 'msft_siu_s13_01.hl7',
    ack: 'AE',
    swap: ['78788788', '(415)555-0103'],
    type: 'RESCHEDULED',
    utc: '2021-09-24T07:15:00.000Z',
    phone: '+14155550103',
    text: 'refused',
  },
  {
    file: 'msft_siu_s14_01.hl7',
    ack: 'AE',
    swap: ['78788788', '(415)555-0103'],
    type: 'MODIFIED',
    utc: '2021-09-24T07:15:00.000Z',
    phone: '+14155550103',
    text: 'refused',
  },
  {
    file: 'msft_siu_s17_01.hl7',
    ack: 'AE',
    swap: ['78788788', '(415)555-0103'],
    type: 'CANCELED',
    utc: '2021-09-24T07:15:00.000Z',
    phone: '+14155550103',
    text: 'refused',
  },
  {
    file: 'msft_siu_s26_01.hl7',
    ack: 'AE',
    swap: ['78788788', '(415)555-0103'],
    type: 'NOSHOWED',
    utc: '2021-09-24T07:15:00.000Z',
    phone: '+14155550103',
    text: 'refused',
  },
  {
    file: 'renalware_barts_s12.hl7',
    ack: 'AE',
    swap: ['0766655652', '+447911123456'],
    type: 'BOOKED',
    utc: '2024-11-06T12:00:00.000Z',
    phone: '+447911123456',
    zone: 'Europe/London',
    text: 'refused',
  },
  {
    file: 'renalware_barts_s15.hl7',
    ack: 'AE',
    swap: ['07898989898', '+447911123457'],
    type: 'CANCELED',
    utc: '2024-11-13T10:00:00.000Z',
    phone: '+447911123457',
    zone: 'Europe/London',
    text: 'refused',
  },
  {
    file: 'rimiti_fr_s15.hl7',
    ack: 'AE',
    swap: ['0100000000', '+33612345678'],
    type: 'CANCELED',
    utc: '2016-12-31T10:00:00.000Z',
    phone: '+33612345678',
    zone: 'Europe/Paris',
    text: 'refused',
  },
  // Same body, same MSH-7 and same MSH-10 as the S15: the same fact (canceled), so the same event.
  {
    file: 'rimiti_fr_s17.hl7',
    ack: 'AE',
    swap: ['0100000000', '+33612345678'],
    type: 'CANCELED',
    utc: '2016-12-31T10:00:00.000Z',
    phone: '+33612345678',
    zone: 'Europe/Paris',
    outcome: 'duplicate',
  },
];

describe('POST /ehr/hl7 with the published SIU samples', () => {
  it.each(FIXTURES)('$file', async (f) => {
    const expected = expectedFacts(f.file);
    const text = hl7Fixture(f.file);
    const before = await t.listKeys();
    const res = await postHl7({ message: text });
    const ack = res.json.ack as string;
    expect(segment(ack, 'MSA')[0]?.split('|').slice(1, 3)).toEqual([f.ack, text.split('\r')[0]?.split('|')[9]]);
    if (f.ack === 'AE') {
      expect(res.status).toBe(400);
      expect(segment(ack, 'ERR').some((e) => e.includes('|PID^1^13') && e.includes('patient_phone'))).toBe(true);
      expect(await t.listKeys()).toEqual(before);
    }
    if (!f.type) {
      // The check-in sent as S14 (SCH-25 ARRIVED): acknowledged, not recorded, not texted.
      expect(res.status).toBe(200);
      expect(res.json.result).toMatchObject({ outcome: 'ignored', reason: expect.stringMatching(/arrived/) });
      expect(await t.listKeys()).toEqual(before);
      return;
    }
    const final = f.swap ? await postHl7({ message: text.replace(f.swap[0], f.swap[1]) }) : res;
    expect(final.status).toBe(200);
    expect(segment(final.json.ack, 'MSA')[0]?.split('|')[1]).toBe('AA');
    const result = final.json.result;
    expect(result).toMatchObject({ appointment_id: expected.appointment_id, event_type: f.type, outcome: f.outcome ?? 'applied' });
    const record = await historyRecord(expected.appointment_id, result.event_id);
    expect(record.event).toMatchObject({
      event_type: f.type,
      appointment_id: expected.appointment_id,
      appointment_datetime_utc: f.utc,
      appointment_timezone: f.zone ?? 'America/New_York',
      patient_id: expected.patient_id,
      patient_first_name: expected.patient_name.given,
      patient_phone: f.phone,
    });
    if (expected.provider?.id) expect(record.event.provider_id).toBe(expected.provider.id);
    if (expected.location) expect(record.event.appointment_location).toContain(expected.location.name);
    // The samples' appointments are years before the stack's clock: a booking or change is not
    // texted (past); a cancellation or no-show is, as the same JSON event would be.
    expect(result.message).toBe(f.text);
  });

  it('refuses the ADT^A60 sample with AR (ERR 200 at MSH-9) and writes nothing', async () => {
    const before = await t.listKeys();
    const res = await postHl7({ message: hl7Fixture('msft_SIU_12_actually_ADT_A60.hl7') });
    expect(res.status).toBe(400);
    expect(res.json.ack_code).toBe('AR');
    expect(segment(res.json.ack, 'MSA')[0]).toMatch(/^MSA\|AR\|MSG00001\|/);
    expect(segment(res.json.ack, 'ERR')[0]).toContain('|MSH^1^9^1|200^Unsupported message type^HL70357|E|');
    expect(await t.listKeys()).toEqual(before);
  });
});

describe('POST /ehr/hl7', () => {
  const future = (parts: Parameters<typeof siuMessage>[0] = {}) => siuMessage({ start: '202612011000', ...parts });

  it('texts a new booking once, however often the engine resends it: one state change, one text', async () => {
    const message = future({ placerId: 'HL7-DUP', fillerId: '', phones: '^PRN^CP^^1^415^5550150' });
    const first = await postHl7({ message });
    const second = await postHl7({ message });
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(first.json.result).toMatchObject({ appointment_id: 'HL7-DUP', event_type: 'BOOKED', outcome: 'applied', message: 'started' });
    expect(second.json.result).toMatchObject({ outcome: 'duplicate', duplicate: true, event_id: first.json.result.event_id });
    expect(segment(second.json.ack, 'MSA')[0]).toBe('MSA|AA|CTRL-1|duplicate');
    const state = await t.getJson(stateKey('HL7-DUP'));
    expect(state.log).toHaveLength(1);
    expect(state.facts).toMatchObject({
      appointment_datetime_utc: '2026-12-01T15:00:00.000Z',
      appointment_timezone: 'America/New_York',
      patient_last_name: "O'Brien",
      appointment_location: 'Room 4, Owl Clinic',
    });
    expect(await t.listKeys(historyPrefix('HL7-DUP'))).toHaveLength(1);
    expect(await phonesApi(t).received('+14155550150')).toHaveLength(1);
  });

  it('texts the patient in the language PID-15 gives (ISO 639-2 SPA → es)', async () => {
    const res = await postHl7({
      message: future({
        placerId: 'HL7-ES',
        fillerId: '',
        controlId: 'ES-1',
        phones: '^PRN^CP^^1^415^5550151',
        language: 'SPA^Spanish^HL70296',
      }),
    });
    expect(res.json.result).toMatchObject({ appointment_id: 'HL7-ES', outcome: 'applied', message: 'started' });
    expect((await t.getJson(stateKey('HL7-ES'))).facts.patient_language).toBe('es');
    expect((await phonesApi(t).received('+14155550151'))[0]).toMatch(/^Hola /);
  });

  it('goes through the same ordering as JSON events: a cancel then a late booking leaves the appointment canceled', async () => {
    const cancel = await postHl7({
      message: future({
        trigger: 'S15',
        placerId: 'HL7-ORDER',
        fillerId: '',
        sentAt: '20261125080000',
        controlId: 'C2',
        status: 'Cancelled',
      }),
    });
    const book = await postHl7({ message: future({ placerId: 'HL7-ORDER', fillerId: '', sentAt: '20261125070000', controlId: 'C1' }) });
    expect([cancel.json.result.outcome, book.json.result.outcome, book.json.result.late]).toEqual(['applied', 'applied', true]);
    expect((await t.getJson(stateKey('HL7-ORDER'))).disposition).toBe('CANCELED');
  });

  it('refuses AE with an ERR naming the segment and field, and writes nothing', async () => {
    const before = await t.listKeys();
    const res = await postHl7({ message: future({ placerId: '', fillerId: '', controlId: 'NOID' }) });
    expect(res.status).toBe(400);
    expect(res.json.ack_code).toBe('AE');
    expect(segment(res.json.ack, 'MSA')[0]).toMatch(/^MSA\|AE\|NOID\|/);
    expect(segment(res.json.ack, 'ERR')[0]).toContain('|SCH^1^2^1|101^Required field missing^HL70357|E|');
    expect(res.json.problems[0]).toMatchObject({ field: 'SCH-2', code: 101 });
    expect(await t.listKeys()).toEqual(before);
  });

  it('names the HL7 field of a value the contract refuses, without echoing it', async () => {
    const res = await postHl7({ message: future({ phones: '(212)000-0000^PRN^CP', placerId: 'HL7-BADPHONE', fillerId: '' }) });
    expect(res.status).toBe(400);
    expect(res.json.problems).toEqual([
      expect.objectContaining({ field: 'PID-13', code: 102, message: expect.stringMatching(/^PID-13 \(patient_phone\): /) }),
    ]);
    expect(res.json.ack).not.toContain('000-0000');
  });

  it('refuses a wall time skipped by DST, naming TQ1-7', async () => {
    const res = await postHl7({ message: future({ start: '202703140230', placerId: 'HL7-GAP', fillerId: '' }) });
    expect(res.status).toBe(400);
    expect(res.json.problems[0]).toMatchObject({ field: 'TQ1-7', message: expect.stringMatching(/daylight saving/) });
  });

  it.each([
    ['garbage', { message: 'hello world' }],
    ['an empty message', { message: '' }],
    ['no message field', { text: 'MSH|^~\\&' }],
  ])('refuses %s with AR and writes nothing', async (_what, body) => {
    const before = await t.listKeys();
    const res = await postHl7(body);
    expect(res.status).toBe(400);
    expect(res.json.ack_code).toBe('AR');
    expect(res.json.ack).toMatch(/^MSH\|\^~\\&\|/);
    expect(await t.listKeys()).toEqual(before);
  });

  it('accepts a form field and MLLP framing, and answers raw ER7 when asked to', async () => {
    const form = await postHl7(
      new URLSearchParams({ message: `\u000b${future({ placerId: 'HL7-FORM', fillerId: '' })}\u001c\r` }).toString(),
      {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'x-application/hl7-v2+er7',
      },
    );
    expect(form.status).toBe(200);
    expect(form.type).toMatch(/hl7-v2\+er7/);
    expect(form.text).toMatch(/^MSH\|\^~\\&\|SMS\|OWL\|EHR\|OWL\|\d{14}\+0000\|\|ACK\^S12\^ACK\|/);
    expect(form.text).toContain('\rMSA|AA|CTRL-1|applied\r');
  });

  it('wants the same bearer key as /ehr/events', async () => {
    const res = await postHl7({ message: future() }, { authorization: 'Bearer wrong' });
    expect(res.status).toBe(401);
  });
});
