import { comp, firstSegment, repetitions, segmentsOf, valueAt, type Er7Message, type Segment } from './er7';
import { parseHl7Time, type Hl7Time } from './ts';

/**
 * What an SIU message says, read field by field (HL7 v2.5 chapter 10, SIU_S12 structure), before
 * any policy: trigger, raw status, ids, patient, phones, provider, place and times. Every value
 * carries the position it came from, so a problem found later names the HL7 field.
 */

/** An HL7 position: `PID-13` (repetition 2, component 1) → segment PID, field 13. */
export interface Hl7Position {
  segment: string;
  field: number;
  component?: number;
  repetition?: number;
}

export function positionText(p: Hl7Position): string {
  return `${p.segment}-${p.field}${p.component ? `.${p.component}` : ''}`;
}

export interface Sourced<T> {
  value: T;
  at: Hl7Position;
}

export interface PhoneCandidate {
  number: string;
  use: string;
  equipment: string;
  /** XTN-18 preference order, when given. */
  preference?: number;
  at: Hl7Position;
}

export interface SiuFacts {
  messageType: string;
  trigger: string;
  controlId: string;
  version: string;
  sendingApplication: string;
  sendingFacility: string;
  /** EVN-2 when a vendor adds EVN, else MSH-7. */
  eventTime?: Sourced<Hl7Time>;
  /** SCH-25 component 1, as sent (case and spelling vary by vendor). */
  status: string;
  appointmentId?: Sourced<string>;
  placerId: string;
  fillerId: string;
  /** TQ1-7, else SCH-11.4, else the earliest resource start. */
  start?: Sourced<Hl7Time>;
  /** A value in a start field that is not a TS (reported rather than skipped). */
  badStart?: Hl7Position;
  patientId?: Sourced<string>;
  patientGiven?: Sourced<string>;
  patientFamily?: Sourced<string>;
  /** The number to text (§ "Choosing the phone" in docs/hl7.md), and the first one listed. */
  phone?: PhoneCandidate;
  firstPhone?: string;
  /** PID-15 component 1 (HL7 table 0296 / ISO 639), e.g. `eng`, `spa`. */
  language?: string;
  provider?: Sourced<{ id: string; given: string; family: string }>;
  location?: Sourced<{ id: string; display: string; facility: string }>;
  /** The facility the appointment is at (AIL-3 PL.4), for the per-facility time zone. */
  locationFacility: string;
  /** Action codes (AIx-2) of the AIL and AIP segments, for S18–S22. */
  resourceActions: string[];
  patientCount: number;
}

const RESOURCE_START: Record<string, number> = { AIS: 4, AIG: 8, AIL: 6, AIP: 6 };
const RESOURCE_STATUS: Record<string, number> = { AIS: 10, AIG: 14, AIL: 12, AIP: 12 };
const REMOVED = new Set(['cancelled', 'canceled', 'deleted']);

/** Reads the facts of an SIU message. Pure; it judges nothing (see siu-policy.ts and siu-event.ts). */
export function readSiu(message: Er7Message): SiuFacts {
  const msh = message.segments[0] as Segment;
  const sch = firstSegment(message, 'SCH');
  const pids = segmentsOf(message, 'PID');
  const pid = pids[0];
  const status = valueAt(sch, 25);
  const appointmentRemoved = REMOVED.has(status.toLowerCase());
  // A resource is out of the appointment when its action is D or its status says so, unless the
  // whole appointment is canceled or deleted (then every resource says so: S17 repeats Deleted).
  const live = (s: Segment) =>
    valueAt(s, 2).toUpperCase() !== 'D' && (appointmentRemoved || !REMOVED.has(valueAt(s, RESOURCE_STATUS[s.id] ?? 0).toLowerCase()));
  const resources = message.segments.filter((s) => s.id in RESOURCE_START);

  const placerId = valueAt(sch, 1);
  const fillerId = valueAt(sch, 2);
  const evn = firstSegment(message, 'EVN');
  const eventTime = timeAt(evn, 2, 'EVN') ?? timeAt(msh, 7, 'MSH');

  let badStart: Hl7Position | undefined;
  const startFrom = (s: Segment | undefined, field: number, component = 1): Sourced<Hl7Time> | undefined => {
    const text = valueAt(s, field, component);
    if (!s || text === '') return undefined;
    const t = parseHl7Time(text);
    const at = { segment: s.id, field, ...(component > 1 ? { component } : {}) };
    if (!t) badStart ??= at;
    return t ? { value: t, at } : undefined;
  };
  const resourceStarts = resources
    .filter(live)
    .map((s) => startFrom(s, RESOURCE_START[s.id] as number))
    .filter((x): x is Sourced<Hl7Time> => !!x)
    .sort((a, b) => (a.value.wall < b.value.wall ? -1 : 1));
  const start = startFrom(firstSegment(message, 'TQ1'), 7) ?? startFrom(sch, 11, 4) ?? resourceStarts[0];

  const ail = resources.find((s) => s.id === 'AIL' && live(s));
  const aip = resources.find((s) => s.id === 'AIP' && live(s));
  const phones = phoneCandidates(pid);

  return {
    messageType: valueAt(msh, 9, 1),
    trigger: valueAt(msh, 9, 2),
    controlId: valueAt(msh, 10),
    version: valueAt(msh, 12),
    sendingApplication: valueAt(msh, 3),
    sendingFacility: valueAt(msh, 4),
    eventTime,
    status,
    appointmentId: fillerId
      ? { value: fillerId, at: { segment: 'SCH', field: 2 } }
      : placerId
        ? { value: placerId, at: { segment: 'SCH', field: 1 } }
        : undefined,
    placerId,
    fillerId,
    start: badStart && !start ? undefined : start,
    badStart: start ? undefined : badStart,
    ...patientOf(pid),
    phone: choosePhone(phones),
    firstPhone: phones[0]?.number,
    language: valueAt(pid, 15) || undefined,
    provider: personOf(aip, 3) ?? personOf(firstSegment(message, 'PV1'), 7) ?? personOf(sch, 16),
    location: locationOf(ail),
    locationFacility: valueAt(ail, 3, 4),
    resourceActions: resources.filter((s) => s.id === 'AIL' || s.id === 'AIP').map((s) => valueAt(s, 2).toUpperCase()),
    patientCount: pids.length,
  };

  function locationOf(segment: Segment | undefined): Sourced<{ id: string; display: string; facility: string }> | undefined {
    const fromAil = placeOf(segment, 3, valueAt(segment, 4, 2));
    const pv1 = firstSegment(message, 'PV1');
    const fromPv1 = placeOf(pv1, 3, '');
    // A location given only by its code is worth less than a named one in PV1-3 (Barts sends AIL-3 codes, PV1-3 names).
    if (fromAil && (fromAil.named || !fromPv1?.named)) return fromAil.place;
    return fromPv1?.place;
  }
}

function timeAt(s: Segment | undefined, field: number, segment: string): Sourced<Hl7Time> | undefined {
  const t = parseHl7Time(valueAt(s, field));
  return t ? { value: t, at: { segment, field } } : undefined;
}

/** PL (AIL-3, PV1-3) as patients read it: the description, else room and facility, else a location-type text, else the code. */
function placeOf(s: Segment | undefined, field: number, typeText: string) {
  if (!s) return undefined;
  const [id, room, facility, description] = [valueAt(s, field, 1), valueAt(s, field, 2), valueAt(s, field, 4), valueAt(s, field, 9)];
  const named = description || (room ? [room, facility].filter(Boolean).join(', ') : '') || typeText;
  const display = named || id || facility;
  if (!display) return undefined;
  return { named: !!named, place: { value: { id, display, facility }, at: { segment: s.id, field } } };
}

/** XCN (AIP-3, PV1-7, SCH-16): .1 id, .2.1 family, .3 given. */
function personOf(s: Segment | undefined, field: number): Sourced<{ id: string; given: string; family: string }> | undefined {
  if (!s) return undefined;
  const [id, family, given] = [valueAt(s, field, 1), valueAt(s, field, 2, 1), valueAt(s, field, 3)];
  if (!id && !family && !given) return undefined;
  return { value: { id, given, family }, at: { segment: s.id, field } };
}

/** PID-3: the repetition typed MR/MRN, else the first that is not a social security number; PID-2, PID-4 last. */
function patientOf(pid: Segment | undefined): Pick<SiuFacts, 'patientId' | 'patientGiven' | 'patientFamily'> {
  const ids = repetitions(pid, 3).map((rep, i) => ({ id: comp(rep, 1), type: comp(rep, 5).toUpperCase(), repetition: i + 1 }));
  const usable = ids.filter((x) => x.id && x.type !== 'SS');
  const chosen = usable.find((x) => x.type === 'MR' || x.type === 'MRN') ?? usable[0];
  const patientId: Sourced<string> | undefined = chosen
    ? { value: chosen.id, at: { segment: 'PID', field: 3, ...(chosen.repetition > 1 ? { repetition: chosen.repetition } : {}) } }
    : valueAt(pid, 2)
      ? { value: valueAt(pid, 2), at: { segment: 'PID', field: 2 } }
      : valueAt(pid, 4)
        ? { value: valueAt(pid, 4), at: { segment: 'PID', field: 4 } }
        : undefined;
  // PID-5: the first repetition with a given name (a display name may come before the legal one).
  const names = repetitions(pid, 5);
  const i = names.findIndex((rep) => comp(rep, 2) !== '');
  const name = names[i];
  return {
    patientId,
    ...(name ? { patientGiven: { value: comp(name, 2), at: { segment: 'PID', field: 5, component: 2 } } } : {}),
    ...(name && comp(name, 1) ? { patientFamily: { value: comp(name, 1), at: { segment: 'PID', field: 5, component: 1 } } } : {}),
  };
}

const NOT_A_PHONE = new Set(['INTERNET', 'X.400', 'FX', 'BP', 'TDD', 'TTY', 'MD']);
const MOBILE = new Set(['PRS', 'CP', 'MOBILE', 'CELL', 'CELLULAR']);
const HOME = new Set(['PRN', 'HOME']);

/** XTN repetitions of PID-40 (v2.7+), PID-13, then PID-14 (business, a last resort), without emails, faxes and pagers. */
export function phoneCandidates(pid: Segment | undefined): PhoneCandidate[] {
  const out: PhoneCandidate[] = [];
  for (const field of [40, 13, 14]) {
    repetitions(pid, field).forEach((rep, i) => {
      const use = comp(rep, 2).toUpperCase();
      const equipment = comp(rep, 3).toUpperCase();
      if (NOT_A_PHONE.has(equipment) || use === 'NET' || use === 'EMAIL') return;
      const number = numberOf(rep);
      if (!number) return;
      const preference = Number(comp(rep, 18));
      out.push({
        number,
        use,
        equipment,
        ...(preference > 0 ? { preference } : {}),
        at: { segment: 'PID', field, ...(i > 0 ? { repetition: i + 1 } : {}) },
      });
    });
  }
  return out;
}

/**
 * The number of an XTN: XTN-1 when it holds a whole number (the form every feed here fills),
 * else country + area + local (XTN-5/6/7), else XTN-12. An extension written into XTN-1 is dropped.
 */
function numberOf(rep: string[][]): string {
  const legacy = comp(rep, 1).replace(/\s*(x|ext\.?)\s*\d+\s*$/i, '');
  if ((legacy.match(/\d/g) ?? []).length >= 7) return legacy;
  const local = comp(rep, 7);
  if (local) return `${comp(rep, 5) ? `+${comp(rep, 5)}` : ''}${comp(rep, 6)}${local}`;
  return comp(rep, 12) || legacy;
}

/**
 * The number to text: a mobile (equipment CP, use PRS, or a site's MOBILE/CELL text) first, then by
 * XTN-18 preference, then home (PRN), then any other; PID-14 only when PID-13/PID-40 have none.
 */
export function choosePhone(candidates: PhoneCandidate[]): PhoneCandidate | undefined {
  const rank = (c: PhoneCandidate) => {
    if (MOBILE.has(c.equipment) || MOBILE.has(c.use)) return 0;
    if (HOME.has(c.use)) return 2;
    return 3;
  };
  const personal = candidates.filter((c) => c.at.field !== 14);
  const pool = personal.length > 0 ? personal : candidates;
  const preference = (c: PhoneCandidate) => c.preference ?? Number.MAX_SAFE_INTEGER;
  return [...pool].map((c, i) => ({ c, i })).sort((a, b) => rank(a.c) - rank(b.c) || preference(a.c) - preference(b.c) || a.i - b.i)[0]?.c;
}
