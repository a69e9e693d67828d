import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEhrEvent } from '../../src/domain/event';
import { ehrEvent } from '../fixtures/events';
import { CLINIC, startStandIn, type StandIn } from './helpers';
import { started } from '../support/started';

/** Ways an EHR writes one US mobile number; the intake reads each as +14155550134. */
const FORMATS = [
  '(415) 555-0134',
  '415-555-0134',
  '415.555.0134',
  '415 555 0134',
  '4155550134',
  '1 (415) 555-0134',
  '+1 415 555 0134',
  '+1-415-555-0134',
  '+14155550134',
];

let s: StandIn;
beforeAll(async () => {
  s = await startStandIn();
  await s.carrier.send({ from: CLINIC, to: '+14155550134', body: 'Your appointment is booked.' });
});
afterAll(async () => {
  await started(s)?.close();
});

const messagesOf = (phone: string) => fetch(`${s.url}/local/phones/${encodeURIComponent(phone)}/messages`);

describe('the virtual phones API reads numbers as the EHR intake does', () => {
  it.each(FORMATS)('finds the conversation of %s, the phone the intake stores for it', async (format) => {
    const intake = parseEhrEvent(ehrEvent({ patient_phone: format }), { defaultCountry: 'US' });
    if (!intake.ok) throw new Error(`the intake refused ${format}`);
    const res = await messagesOf(format);
    expect(res.status).toBe(200);
    const json = (await res.json()) as { phone: string; messages: { body: string }[] };
    expect(json.phone).toBe(intake.event.patient_phone);
    expect(json.messages.map((m) => m.body)).toEqual(['Your appointment is booked.']);
  });

  it('refuses what is not a phone number, naming the field and the formats it takes', async () => {
    for (const bad of ['12', 'call me', '555-0134']) {
      const res = await messagesOf(bad);
      expect(res.status, bad).toBe(400);
      const { error } = (await res.json()) as { error: { field: string; message: string } };
      expect(error.field).toBe('phone');
      expect(error.message).toMatch(/^phone must be a phone number: E\.164 .*, or a US number/);
    }
  });
});
