import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { expectedFacts, hl7Fixture, hl7FixtureNames, siuMessage } from '../../../test/fixtures/hl7';
import { FIXTURE_NOW } from '../../../test/fixtures/time';
import { parseEr7 } from './er7';
import { choosePhone, phoneCandidates, readSiu } from './siu';
import { mapSiuMessage, type SiuMapping, type SiuMappingOptions } from './siu-event';
import { isoOf } from './ts';

const OPTIONS: SiuMappingOptions = {
  defaultZone: 'America/New_York',
  facilityZones: { BLT: 'Europe/London', 'proxy00-prodaz': 'Europe/Paris', 'RNJ BARTS': 'Europe/London' },
  now: new Date(FIXTURE_NOW),
};

function map(text: string, options: Partial<SiuMappingOptions> = {}): SiuMapping {
  return mapSiuMessage(text, { ...OPTIONS, ...options });
}

/** Two ISO texts for the same time (a fixture may write 11:30 where we write 11:30:00). */
function sameTime(a: string, b: string): boolean {
  const read = (s: string) => DateTime.fromISO(s, { setZone: true, zone: 'UTC' });
  return read(a).toMillis() === read(b).toMillis() && /[+-]\d\d:\d\d$/.test(a) === /[+-]\d\d:\d\d$/.test(b);
}

/**
 * What the intake does with each published sample. `phone` is the number texted, which differs
 * from EXPECTED.json's `patient_phone` (the first one listed) where a home line comes first: the
 * mobile is texted, never the landline listed before it.
 */
const OUTCOMES: Record<string, { outcome: 'event' | 'ignore' | 'reject'; type?: string; phone?: string; zone?: string }> = {
  'athena_s15_status_noshow.hl7': { outcome: 'event', type: 'NOSHOWED', phone: '(222)222-2222', zone: 'America/New_York' },
  'corepoint_gpms_s14.hl7': { outcome: 'ignore', phone: '(832)795-8259' },
  'healthmatics_ntierprise_s12.hl7': { outcome: 'event', type: 'BOOKED', phone: '(777)707-0707', zone: 'America/New_York' },
  'mesa_op_s12.hl7': { outcome: 'event', type: 'BOOKED', phone: '(260)555-1234', zone: 'America/New_York' },
  'msft_SIU_12_actually_ADT_A60.hl7': { outcome: 'reject' },
  'msft_siu_s12_01.hl7': { outcome: 'event', type: 'BOOKED', phone: '78788788' },
  'msft_siu_s12_02_multi_rgs.hl7': { outcome: 'event', type: 'BOOKED', phone: '78788788' },
  'msft_siu_s13_01.hl7': { outcome: 'event', type: 'RESCHEDULED', phone: '78788788' },
  'msft_siu_s14_01.hl7': { outcome: 'event', type: 'MODIFIED', phone: '78788788' },
  'msft_siu_s17_01.hl7': { outcome: 'event', type: 'CANCELED', phone: '78788788' },
  'msft_siu_s26_01.hl7': { outcome: 'event', type: 'NOSHOWED', phone: '78788788' },
  'renalware_barts_s12.hl7': { outcome: 'event', type: 'BOOKED', phone: '0766655652', zone: 'Europe/London' },
  'renalware_barts_s15.hl7': { outcome: 'event', type: 'CANCELED', phone: '07898989898', zone: 'Europe/London' },
  'rimiti_fr_s15.hl7': { outcome: 'event', type: 'CANCELED', phone: '0100000000', zone: 'Europe/Paris' },
  'rimiti_fr_s17.hl7': { outcome: 'event', type: 'CANCELED', phone: '0100000000', zone: 'Europe/Paris' },
};

describe('SIU samples: the facts EXPECTED.json lists, read from each published message', () => {
  it('covers every sample', () => {
    expect(hl7FixtureNames()).toEqual(Object.keys(OUTCOMES).sort());
  });

  it.each(hl7FixtureNames().filter((n) => OUTCOMES[n]?.outcome !== 'reject'))('%s', (name) => {
    const expected = expectedFacts(name);
    const want = OUTCOMES[name] as (typeof OUTCOMES)[string];
    const mapped = map(hl7Fixture(name));
    expect(mapped.kind).toBe(want.outcome);
    if (mapped.kind === 'reject') return;
    const f = mapped.facts;
    expect(`${f.messageType}^${f.trigger}`).toBe(expected.trigger.split('^').slice(0, 2).join('^'));
    expect(f.version).toBe(expected.hl7_version);
    expect(f.appointmentId?.value).toBe(expected.appointment_id);
    expect(f.placerId || null).toBe(expected.placer_appointment_id);
    expect(f.fillerId.split('^')[0] || null).toBe(expected.filler_appointment_id);
    expect(f.patientId?.value).toBe(expected.patient_id);
    expect(f.patientGiven?.value).toBe(expected.patient_name.given);
    expect(f.patientFamily?.value).toBe(expected.patient_name.family);
    expect(f.firstPhone).toBe(expected.patient_phone);
    expect(f.phone?.number).toBe(want.phone);
    if (expected.patient_phone_mobile) expect(f.phone?.number).toBe(expected.patient_phone_mobile);
    expect(sameTime(isoOf(f.start?.value ?? { wall: '', offset: null, precision: 'minute' }), expected.start)).toBe(true);
    if (expected.provider?.id) expect(f.provider?.value.id).toBe(expected.provider.id);
    if (expected.provider?.family) expect(f.provider?.value.family).toBe(expected.provider.family);
    if (expected.provider?.given) expect(f.provider?.value.given).toBe(expected.provider.given);
    if (expected.location === null) expect(f.location).toBeUndefined();
    else {
      expect(f.location?.value.id).toBe(expected.location.id);
      expect(f.location?.value.display).toContain(expected.location.name);
    }
    if (mapped.kind === 'event') {
      expect(mapped.eventType).toBe(want.type);
      expect(mapped.input.appointment_timezone).toBe(want.zone ?? 'America/New_York');
      if (expected.event_subtype) expect(mapped.subtype).toBe(expected.event_subtype);
    }
  });

  it('routes on MSH-9, not on the segments: the ADT^A60 carrying SCH/AIx segments is refused AR with ERR 200 at MSH-9', () => {
    const mapped = map(hl7Fixture('msft_SIU_12_actually_ADT_A60.hl7'));
    expect(mapped).toMatchObject({ kind: 'reject', code: 'AR', issues: [{ code: 200, at: { segment: 'MSH', field: 9 } }] });
  });

  it('decodes the escape in the ADT sample (A\\T\\E → A&E)', () => {
    const r = parseEr7(hl7Fixture('msft_SIU_12_actually_ADT_A60.hl7'));
    expect(
      r.ok &&
        r.message.segments
          .find((s) => s.id === 'PV1')
          ?.fields.flat(3)
          .some((v) => v.includes('inc.A&E-this Hosp')),
    ).toBe(true);
  });

  it('keeps PID-15 (language) in the mapping result: the contract has no field for it yet', () => {
    expect(map(hl7Fixture('athena_s15_status_noshow.hl7')).facts?.language).toBe('eng');
    expect(map(hl7Fixture('msft_siu_s12_01.hl7')).facts?.language).toBe('ara');
  });

  it('takes TQ1 over the stale SCH-11 and SCH-11 over resource starts (MESA: SCH-11 three days after AIL-6)', () => {
    const msft = map(hl7Fixture('msft_siu_s12_01.hl7'));
    expect(msft.kind === 'event' && [msft.input.appointment_datetime, msft.sources.appointment_datetime]).toEqual([
      '2021-09-24T09:30:00+02:15',
      { segment: 'TQ1', field: 7 },
    ]);
    const mesa = map(hl7Fixture('mesa_op_s12.hl7'));
    expect(mesa.kind === 'event' && mesa.sources.appointment_datetime).toEqual({ segment: 'SCH', field: 11, component: 4 });
  });

  it("never takes MSH-7's offset as the zone: a message with +0215 still gets the configured zone", () => {
    const m = map(hl7Fixture('msft_siu_s12_01.hl7'));
    expect(m.kind === 'event' && m.input.appointment_timezone).toBe('America/New_York');
    expect(m.kind === 'event' && m.input.event_datetime_utc).toBe('2021-09-14T09:05:00.000Z');
  });
});

describe('SIU mapping rules', () => {
  it('reads times without an offset as wall-clock time in the zone: MSH-7 in New York becomes UTC', () => {
    const m = map(siuMessage({ sentAt: '20261125075000' }));
    expect(m.kind === 'event' && m.input).toMatchObject({
      event_datetime_utc: '2026-11-25T12:50:00.000Z',
      appointment_datetime: '2026-12-01T10:00',
      appointment_timezone: 'America/New_York',
    });
  });

  it('prefers the appointment facility (AIL-3 PL.4) over the sending facility (MSH-4) over the default zone', () => {
    const zones = { 'Owl Clinic': 'America/Phoenix', OWL: 'Pacific/Honolulu' };
    expect((map(siuMessage(), { facilityZones: zones }) as { input: Record<string, string> }).input.appointment_timezone).toBe(
      'America/Phoenix',
    );
    expect(
      (map(siuMessage({ location: 'MAIN^Room 4' }), { facilityZones: zones }) as { input: Record<string, string> }).input
        .appointment_timezone,
    ).toBe('Pacific/Honolulu');
    expect(
      (map(siuMessage({ sendingFacility: 'ELSE', location: 'MAIN' }), { facilityZones: zones }) as { input: Record<string, string> }).input
        .appointment_timezone,
    ).toBe('America/New_York');
  });

  it('takes the earlier instant for a wall time repeated when DST ends, and writes its offset', () => {
    const m = map(siuMessage({ start: '202611010130' }));
    expect(m.kind === 'event' && m.input.appointment_datetime).toBe('2026-11-01T01:30-04:00');
  });

  it('passes a wall time skipped by DST on unchanged, for the contract to refuse', () => {
    const m = map(siuMessage({ start: '202603080230' }));
    expect(m.kind === 'event' && m.input.appointment_datetime).toBe('2026-03-08T02:30');
  });

  it('refuses AR (misconfigured) when no zone is configured for a wall-clock time', () => {
    expect(map(siuMessage(), { defaultZone: undefined, facilityZones: {} })).toMatchObject({
      kind: 'reject',
      code: 'AR',
      misconfigured: true,
      issues: [{ code: 207 }],
    });
  });

  it.each([
    ['no appointment id', { placerId: '', fillerId: '' }, 'SCH', 2, 101],
    ['no start anywhere', { start: '' }, 'TQ1', 7, 101],
    ['a start that is not a TS', { start: 'tomorrow' }, 'TQ1', 7, 102],
    ['a start with only a date', { start: '20261201' }, 'TQ1', 7, 102],
    ['no given name', { name: 'Smith' }, 'PID', 5, 101],
    ['only a social security number', { patientId: '123456789^^^SSA^SS' }, 'PID', 3, 101],
  ])('refuses AE for %s, naming the field', (_what, parts, segment, field, code) => {
    const m = map(siuMessage(parts));
    expect(m).toMatchObject({ kind: 'reject', code: 'AE', issues: [{ code, at: { segment, field } }] });
    if (m.kind === 'reject') for (const i of m.issues) expect(i.text).not.toMatch(/Zoë|O'Brien|5550134/);
  });

  it('acknowledges without recording a message with no phone number (AA, ignored)', () => {
    expect(map(siuMessage({ phones: '^NET^Internet^zoe@example.com' }))).toMatchObject({
      kind: 'ignore',
      reason: expect.stringMatching(/PID-13/),
    });
  });

  it('refuses a batch and a non-v2 version with AR', () => {
    expect(map(siuMessage() + siuMessage())).toMatchObject({ kind: 'reject', code: 'AR' });
    expect(map(siuMessage().replace('|P|2.5.1', '|P|3.0'))).toMatchObject({ kind: 'reject', code: 'AR', issues: [{ code: 203 }] });
  });

  it('refuses garbage with AR', () => {
    expect(map('hello')).toMatchObject({ kind: 'reject', code: 'AR', issues: [{ code: 100 }] });
  });

  it('decodes escapes in names and collapses line breaks', () => {
    const m = map(siuMessage({ name: 'O\\E\\Brien^Ana\\.br\\Maria', location: 'MAIN^Room \\T\\ Hall^^Owl Clinic' }));
    expect(m.kind === 'event' && [m.input.patient_last_name, m.input.patient_first_name, m.input.appointment_location]).toEqual([
      'O\\Brien',
      'Ana Maria',
      'Room & Hall, Owl Clinic',
    ]);
  });

  it('reads a message written with other delimiters', () => {
    const text = siuMessage({ name: "O'Brien^Zoë" }).replace(/\|/g, '!').replace('MSH!^~\\&', 'MSH!^~\\&');
    const m = map(text);
    expect(m.kind === 'event' && m.input.patient_first_name).toBe('Zoë');
  });
});

describe('choosing the phone to text (PID-13/14/40: use code, equipment, preference)', () => {
  const pid = (field13: string, field14 = '') => {
    const r = parseEr7(`MSH|^~\\&\rPID|1||||||||||||${field13}|${field14}\r`);
    if (!r.ok) throw new Error('bad test message');
    return choosePhone(phoneCandidates(r.message.segments[1]))?.number;
  };
  it.each([
    ['a mobile listed after the home line', '(212)555-0101^PRN^PH~(212)555-0102^PRN^CP', '', '(212)555-0102'],
    ['PRS use code', '(212)555-0101^WPN^PH~(212)555-0103^PRS^PH', '', '(212)555-0103'],
    ['free-text MOBILE use (Barts)', '02011110111^HOME~0766655652^MOBILE', '', '0766655652'],
    ['home before another phone', '(212)555-0104^ORN^PH~(212)555-0101^PRN^PH', '', '(212)555-0101'],
    ['XTN-18 preference among mobiles', '^^CP^^1^212^5550105^^^^^^^^^^^2~^^CP^^1^212^5550106^^^^^^^^^^^1', '', '+12125550106'],
    [
      'no email, fax or pager',
      'a@b.example^NET^Internet^a@b.example~(212)555-0107^^FX~(212)555-0108^^BP~(212)555-0109^PRN^PH',
      '',
      '(212)555-0109',
    ],
    ['business only as a last resort', '', '(212)555-0110 X12^WPN^PH', '(212)555-0110'],
    ['components when XTN-1 is empty', '^PRN^CP^^1^212^5550111', '', '+12125550111'],
  ])('%s', (_what, f13, f14, number) => {
    expect(pid(f13, f14)).toBe(number);
  });

  it('reads the first PID once, ignoring an email carried in XTN-4 next to a number (Rimiti)', () => {
    const r = parseEr7(hl7Fixture('rimiti_fr_s15.hl7'));
    expect(r.ok && readSiu(r.message).phone?.number).toBe('0100000000');
  });
});
