import { describe, expect, it } from 'vitest';
import { applyEvent, type AppointmentState } from '../src/domain/appointment';
import { parseEhrEvent, type AppointmentEvent } from '../src/domain/event';
import { countSegments, type SegmentCount } from '../src/domain/segments';
import { render } from '../src/local/studio/liquid';
import { flowParameters } from '../src/messaging/flow-parameters';
import { replyOutcome } from '../src/use-cases/handle-reply';
import { loadFlowTemplate, renderFlow } from './render-flow';

/**
 * Every text of the flow, rendered in both languages with typical and with long (but real-world)
 * values through the same code that fills them in production, counted in SMS segments. Each
 * segment is billed, and a long text arrives in pieces on some phones: none may exceed 3, and the
 * booking and the reminder, the texts every patient gets, stay within 2 with typical values.
 */

interface State {
  name: string;
  type: string;
  properties: { body?: string };
}

const LONG_LOCATION = (
  'Northside Medical Pavilion, Building C (East Entrance), 4th Floor, Suite 4120, Pediatric & Adolescent Medicine, ' +
  '1234 North Martin Luther King Jr. Boulevard, Springfield Heights, IL 62704, United States of America'
)
  .padEnd(200, '.')
  .slice(0, 200);

const PROFILES = {
  typical: {
    clinic: 'Owl Health Clinic',
    fields: {
      patient_first_name: 'Zoë',
      provider_first_name: 'Ana',
      provider_last_name: 'Lopez, MD',
      provider_callback_phone: '+1 415 555 0100',
      appointment_location: 'Suite 100, 2nd floor',
      appointment_timezone: 'America/Los_Angeles',
      appointment_datetime: '2026-12-01T09:30:00',
    },
    others: '0',
  },
  long: {
    clinic: 'Northside Family Medicine & Pediatrics',
    fields: {
      patient_first_name: 'María Guadalupe',
      provider_first_name: 'Alejandra',
      provider_last_name: 'Villanueva-Rodríguez, MD',
      provider_callback_phone: '+44 20 7946 0000',
      appointment_location: LONG_LOCATION,
      appointment_timezone: 'Asia/Kolkata',
      appointment_datetime: '2026-09-30T12:30:00',
    },
    others: '2',
  },
} as const;

const NOW = '2026-08-01T00:00:00.000Z';

function bookedState(fields: Record<string, string>, language: string): { state: AppointmentState; event: AppointmentEvent } {
  const parsed = parseEhrEvent(
    {
      event_type: 'BOOKED',
      event_datetime_utc: NOW,
      patient_id: 'P-1',
      patient_phone: '+14155550134',
      appointment_id: 'A-1',
      patient_language: language,
      ...fields,
    },
    { defaultCountry: 'US' },
  );
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const applied = applyEvent(null, parsed.event, NOW);
  if (applied.kind !== 'applied') throw new Error(applied.kind);
  return { state: applied.state, event: parsed.event };
}

async function renderAll(profile: keyof typeof PROFILES) {
  const p = PROFILES[profile];
  const flow = renderFlow(loadFlowTemplate(), {
    functionsBaseUrl: 'https://x.twil.io',
    ieEndpoint: 'https://ehr.example.org',
    customerName: p.clinic,
    originMarker: 'f'.repeat(32),
  }) as { states: State[] };
  const rows: { text: string; profile: string; count: SegmentCount; body: string }[] = [];
  for (const s of flow.states.filter((x) => x.type === 'send-message')) {
    const language = s.name.endsWith('_es') ? 'es' : 'en';
    const { state, event } = bookedState(p.fields, language);
    const variables = { CUSTOMER_NAME: p.clinic, ...flowParameters(state, { ...event, detail: { reminder: '1' } }, 'US') };
    const parsed = replyOutcome('confirm', state, Number(p.others), 'US');
    // A staff text is whatever staff wrote, up to the inbox's limit (3 segments, STAFF_TEXT_MAX_SEGMENTS).
    const staff =
      profile === 'typical'
        ? 'Yes, Thursday at 3 pm works. See you then! Front desk'
        : 'We have moved you to Thursday at 3 pm. '.repeat(12).slice(0, 459);
    const body = await render(String(s.properties.body), {
      flow: { variables, data: { staff_message: staff } },
      widgets: { process_reply: { parsed } },
    });
    rows.push({ text: s.name, profile, count: countSegments(body), body });
  }
  return rows;
}

describe('segment budget of every text', () => {
  it('keeps every text within 3 segments with long values and the booking and reminder within 2 with typical ones', async () => {
    const typical = await renderAll('typical');
    const long = await renderAll('long');
    const table = typical.map((t, i) => {
      const l = long[i] as (typeof long)[number];
      return {
        text: t.text,
        typical: `${t.count.segments} (${t.count.encoding}, ${t.count.units})`,
        long: `${l.count.segments} (${l.count.encoding}, ${l.count.units})`,
      };
    });
    console.log(
      `segments per text (encoding, units)\n${['text'.padEnd(26) + 'typical'.padEnd(20) + 'long', ...table.map((r) => r.text.padEnd(26) + r.typical.padEnd(20) + r.long)].join('\n')}`,
    );
    expect(typical.length).toBeGreaterThanOrEqual(25);
    for (const r of [...typical, ...long]) {
      expect(r.count.encoding, `${r.text} (${r.profile}): ${r.body}`).toBe('GSM-7');
      expect(r.count.segments, `${r.text} (${r.profile}): ${r.body}`).toBeLessThanOrEqual(3);
    }
    for (const r of typical.filter((x) => /^send_(booked|remind)(_es)?$/.test(x.text))) {
      expect(r.count.segments, `${r.text}: ${r.body}`).toBeLessThanOrEqual(2);
    }
  });

  it('writes the fixed wording of every text in GSM-7 only, so only a value the EHR sent can make a text UCS-2', () => {
    const flow = loadFlowTemplate() as { states: State[] };
    for (const s of flow.states.filter((x) => x.type === 'send-message')) {
      const fixed = String(s.properties.body).replace(/\{\{[^}]*\}\}|\{%[^%]*%\}/g, '');
      expect(countSegments(fixed).encoding, `${s.name}: ${fixed}`).toBe('GSM-7');
    }
  });

  it('a name in a script GSM-7 lacks keeps its letters, and the text goes UCS-2', async () => {
    const { state, event } = bookedState({ ...PROFILES.typical.fields, patient_first_name: '美玲' }, 'en');
    expect(flowParameters(state, event, 'US').patient_first_name).toBe('美玲');
    expect(countSegments(`Hi ${flowParameters(state, event, 'US').patient_first_name}`).encoding).toBe('UCS-2');
  });
});
