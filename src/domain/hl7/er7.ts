/**
 * HL7 v2 ER7 ("pipe and hat") encoding: delimiters, segments, repetitions, components,
 * subcomponents and escape sequences (HL7 v2.5 chapter 2, §2.5 "Message construction rules" and
 * §2.7 "Use of escape sequences in text fields"). Pure: text in, values out.
 */

export interface Delimiters {
  field: string;
  component: string;
  repetition: string;
  escape: string;
  subcomponent: string;
}

export const DEFAULT_DELIMITERS: Delimiters = { field: '|', component: '^', repetition: '~', escape: '\\', subcomponent: '&' };

/** A field: repetitions of components of subcomponents, every value decoded. Never empty at any level. */
export type Field = string[][][];

export interface Segment {
  id: string;
  /**
   * `fields[n]` is field n (HL7 numbering), `fields[0]` unused. In MSH, MSH-1 and MSH-2 (the
   * delimiters themselves) are held as a single value each and never split or unescaped.
   */
  fields: Field[];
}

export interface Er7Message {
  delimiters: Delimiters;
  segments: Segment[];
}

export interface Er7Problem {
  /** Where: `MSH-2`, or `segment 4` for a line that is not a segment. */
  location: string;
  message: string;
}

const VT = '\u000b';
const FS = '\u001c';
const SEGMENT_ID = /^[A-Z][A-Z0-9]{2}$/;

/** Removes MLLP framing (VT … FS CR) an engine may leave around the text. */
export function stripMllp(text: string): string {
  let t = text.trimStart();
  if (t.startsWith(VT)) t = t.slice(1);
  const end = t.trimEnd();
  return end.endsWith(FS) ? end.slice(0, -1) : t;
}

/**
 * Segment ends: CR is the standard; files arrive with LF or CRLF too, and LF also occurs inside
 * NTE text. So CRLF becomes CR, a message with any CR splits on CR only, otherwise on LF.
 */
export function splitSegments(text: string): string[] {
  const t = text.replace(/\r\n/g, '\r');
  const lines = t.includes('\r') ? t.split('\r') : t.split('\n');
  return lines.filter((l) => l.trim() !== '');
}

export function parseEr7(input: string): { ok: true; message: Er7Message } | { ok: false; problems: Er7Problem[] } {
  const lines = splitSegments(stripMllp(input).replace(/^\s+/, ''));
  const first = lines[0];
  if (!first || !first.startsWith('MSH')) {
    return { ok: false, problems: [{ location: 'MSH', message: 'the message does not start with an MSH segment' }] };
  }
  const delimiters = readDelimiters(first);
  if (!delimiters.ok) return { ok: false, problems: [{ location: 'MSH-2', message: delimiters.reason }] };
  const d = delimiters.value;
  const charset = first.split(d.field)[17] ?? '';
  const problems: Er7Problem[] = [];
  const segments: Segment[] = [];
  lines.forEach((line, i) => {
    const id = line.split(d.field, 1)[0] ?? '';
    if (!SEGMENT_ID.test(id)) {
      problems.push({ location: `segment ${i + 1}`, message: 'is not a segment (a segment starts with a three-character id such as PID)' });
      return;
    }
    segments.push(parseSegment(line, d, charset));
  });
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, message: { delimiters: d, segments } };
}

function readDelimiters(msh: string): { ok: true; value: Delimiters } | { ok: false; reason: string } {
  const field = msh[3];
  if (field === undefined) return { ok: false, reason: 'MSH has no field separator (MSH-1)' };
  const end = msh.indexOf(field, 4);
  const encoding = msh.slice(4, end === -1 ? undefined : end);
  // MSH-2 is four characters; v2.7 adds an optional fifth (truncation), which we do not use.
  if (encoding.length < 4 || encoding.length > 5) return { ok: false, reason: 'must hold the four encoding characters, e.g. ^~\\&' };
  const [component, repetition, escape, subcomponent] = encoding as unknown as [string, string, string, string];
  const all = [field, component, repetition, escape, subcomponent];
  if (new Set(all).size !== all.length) return { ok: false, reason: 'the delimiters (MSH-1, MSH-2) must be five different characters' };
  if (all.some((c) => /[A-Za-z0-9\s]/.test(c)))
    return { ok: false, reason: 'the delimiters (MSH-1, MSH-2) must not be letters, digits or blanks' };
  return { ok: true, value: { field, component, repetition, escape, subcomponent } };
}

function parseSegment(line: string, d: Delimiters, charset: string): Segment {
  const raw = line.split(d.field);
  const id = raw[0] as string;
  const decode = (f: string): Field =>
    f
      .split(d.repetition)
      .map((rep) => rep.split(d.component).map((comp) => comp.split(d.subcomponent).map((s) => unescapeValue(s, d, charset))));
  if (id === 'MSH') {
    // MSH-1 is the separator itself; raw[1] is MSH-2.
    const fields: Field[] = [[[['']]], [[[d.field]]], [[[raw[1] ?? '']]]];
    for (const f of raw.slice(2)) fields.push(decode(f));
    return { id, fields };
  }
  return { id, fields: [[[['']]], ...raw.slice(1).map(decode)] };
}

const HEX = /^X([0-9A-Fa-f]{2})+$/;

/**
 * Decodes one subcomponent's escape sequences. `""` (the explicit null, "delete the value") is
 * read as empty. An escape character without a closing one is data and kept as it is.
 */
export function unescapeValue(raw: string, d: Delimiters, charset = ''): string {
  if (raw === '""') return '';
  if (!raw.includes(d.escape)) return raw;
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const ch = raw[i] as string;
    if (ch !== d.escape) {
      out += ch;
      i += 1;
      continue;
    }
    const close = raw.indexOf(d.escape, i + 1);
    if (close === -1) {
      out += raw.slice(i);
      break;
    }
    const body = raw.slice(i + 1, close);
    out += decodeEscape(body, d, charset) ?? raw.slice(i, close + 1);
    i = close + 1;
  }
  return out;
}

/** The text an escape sequence stands for, or undefined to keep it as written. */
function decodeEscape(body: string, d: Delimiters, charset: string): string | undefined {
  switch (body) {
    case 'F':
      return d.field;
    case 'S':
      return d.component;
    case 'T':
      return d.subcomponent;
    case 'R':
      return d.repetition;
    case 'E':
      return d.escape;
    case 'H':
    case 'N':
      return ''; // highlighting on/off: presentation only
    case '.br':
    case '.sp':
      return '\n';
    default:
      break;
  }
  if (/^\.(in|ti|sk|ce|fi|nf)/.test(body)) return '';
  if (/^[CM][0-9A-Fa-f]+$/.test(body)) return ''; // ISO 2022 character-set switches: not supported, dropped
  if (HEX.test(body)) return decodeHex(body.slice(1), charset);
  return undefined; // \Z..\ (locally defined) and anything unknown stay raw
}

function decodeHex(hex: string, charset: string): string {
  const bytes = Buffer.from(hex, 'hex');
  if (/8859/.test(charset)) return bytes.toString('latin1');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

/** Escapes a value so it can stand in a subcomponent: delimiters, controls (CR, LF, MLLP bytes) as hex, a literal `""`. */
export function escapeValue(text: string, d: Delimiters = DEFAULT_DELIMITERS): string {
  if (text === '""') return `${d.escape}X2222${d.escape}`;
  let out = '';
  for (const ch of text) {
    if (ch === d.escape) out += `${d.escape}E${d.escape}`;
    else if (ch === d.field) out += `${d.escape}F${d.escape}`;
    else if (ch === d.component) out += `${d.escape}S${d.escape}`;
    else if (ch === d.subcomponent) out += `${d.escape}T${d.escape}`;
    else if (ch === d.repetition) out += `${d.escape}R${d.escape}`;
    else if (ch < ' ') out += `${d.escape}X${ch.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}${d.escape}`;
    else out += ch;
  }
  return out;
}

export function encodeField(field: Field, d: Delimiters = DEFAULT_DELIMITERS): string {
  return field
    .map((rep) => rep.map((comp) => comp.map((s) => escapeValue(s, d)).join(d.subcomponent)).join(d.component))
    .join(d.repetition);
}

export function encodeSegment(segment: Segment, d: Delimiters = DEFAULT_DELIMITERS): string {
  if (segment.id === 'MSH') {
    const encoding = `${d.component}${d.repetition}${d.escape}${d.subcomponent}`;
    return ['MSH', encoding, ...segment.fields.slice(3).map((f) => encodeField(f, d))].join(d.field);
  }
  return [segment.id, ...segment.fields.slice(1).map((f) => encodeField(f, d))].join(d.field);
}

/** The message as ER7 text, segments ended by CR. */
export function encodeEr7(message: Er7Message): string {
  return message.segments.map((s) => encodeSegment(s, message.delimiters)).join('\r') + '\r';
}

/** Builds a field from one value per component (`['Smith', 'Ann']` → `Smith^Ann`). */
export function fieldOf(...components: string[]): Field {
  return [components.length > 0 ? components.map((c) => [c]) : [['']]];
}

// Reading: positions are 1-based as HL7 writes them (PID-5.2 = field 5, component 2).

export function segmentsOf(message: Er7Message, id: string): Segment[] {
  return message.segments.filter((s) => s.id === id);
}

export function firstSegment(message: Er7Message, id: string): Segment | undefined {
  return message.segments.find((s) => s.id === id);
}

/** Repetitions of a field (at least one, possibly empty). */
export function repetitions(segment: Segment | undefined, field: number): string[][][] {
  return segment?.fields[field] ?? [[['']]];
}

/** One value, trimmed: component `component`, subcomponent `sub` of repetition `rep` (1-based). */
export function valueAt(segment: Segment | undefined, field: number, component = 1, sub = 1, rep = 1): string {
  return (segment?.fields[field]?.[rep - 1]?.[component - 1]?.[sub - 1] ?? '').trim();
}

/** Component `component` (subcomponent 1) of a repetition already taken from a field. */
export function comp(repetition: string[][] | undefined, component: number, sub = 1): string {
  return (repetition?.[component - 1]?.[sub - 1] ?? '').trim();
}
