import { createHash } from 'node:crypto';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ehrEvent } from './fixtures/events';
import { DAY, localTime, utcAt } from './fixtures/time';
import { startTestStack, type TestStack } from './support/local-stack';
import { rawRequest, type RawAnswer, type RawRequest } from './support/raw-http';
import { started } from './support/started';

/**
 * Malformed intake payloads, generated from a seed (FUZZ_SEED to reproduce or vary a run), sent
 * over real HTTP to the local stack. Every one must be refused with a 4xx that names the field
 * where there is one, and the bucket must be byte for byte what it was.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261125);

/** mulberry32: small, seedable, good enough to pick cases. */
function generator(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)] as T;
  return { next, int, pick };
}

type Category = 'types' | 'lengths' | 'unicode' | 'nesting' | 'dates' | 'offsets' | 'zones' | 'batches' | 'content-types' | 'encodings';

interface FuzzCase {
  category: Category;
  what: string;
  request: RawRequest;
  /** The field the answer must name, when the payload has one at fault. */
  field?: string;
}

const STRING_FIELDS = [
  'event_type',
  'event_datetime_utc',
  'patient_id',
  'patient_first_name',
  'patient_last_name',
  'patient_phone',
  'provider_id',
  'provider_first_name',
  'provider_last_name',
  'provider_callback_phone',
  'appointment_location',
  'appointment_id',
  'appointment_timezone',
  'appointment_datetime',
] as const;
const TEXT_FIELDS = STRING_FIELDS.filter((f) => f !== 'event_type');
const MAX_CHARS: Record<string, number> = {
  event_datetime_utc: 64,
  patient_first_name: 100,
  patient_last_name: 100,
  patient_phone: 40,
  provider_first_name: 100,
  provider_last_name: 100,
  provider_callback_phone: 40,
  appointment_location: 500,
  appointment_timezone: 64,
  appointment_datetime: 64,
};
const ID_FIELDS = ['patient_id', 'provider_id', 'appointment_id'];
const BAD_CHARS = [
  '\ud800',
  '\udbff',
  '\udc00',
  '\udfff',
  '\ufffd',
  '\u0000',
  '\u0007',
  '\t',
  '\n',
  '\r',
  '\u001b',
  '\u007f',
  '\u0085',
  '\u009f',
  '\u200b',
  '\u200e',
  '\u200f',
  '\u202a',
  '\u202b',
  '\u202c',
  '\u202d',
  '\u202e',
  '\u2060',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
  '\ufeff',
  '\u061c',
  '\u180e',
  '\u{e0001}',
  '\u{e0041}',
  '\u2028',
  '\u2029',
  '\ufdd0',
  '\ufdef',
  '\ufffe',
  '\uffff',
  '\u{1fffe}',
  '\u{10ffff}',
  '\u3164',
  '\u115f',
  '\uffa0',
  '\u2800',
];
const INVALID_UTF8 = [
  [0x80],
  [0xbf],
  [0xc0, 0x80],
  [0xc1, 0xbf],
  [0xe0, 0x80, 0x80],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xf5, 0x80, 0x80, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xff],
  [0xfe],
  [0xe2, 0x82],
  [0xf0, 0x9f, 0x98],
];

function cases(seed: number, key: string): FuzzCase[] {
  const g = generator(seed);
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const base = (n: number) => ehrEvent({ appointment_id: `FUZZ-${n}` });
  const body = (v: unknown) => Buffer.from(JSON.stringify(v), 'utf8');
  const post = (category: Category, what: string, payload: unknown, field?: string, extra: Partial<RawRequest> = {}): FuzzCase => ({
    category,
    what,
    field,
    request: {
      path: '/ehr/events',
      headers,
      body: typeof payload === 'string' || Buffer.isBuffer(payload) ? Buffer.from(payload) : body(payload),
      ...extra,
    },
  });
  const out: FuzzCase[] = [];
  let n = 0;

  for (let i = 0; i < 56; i += 1) {
    const field = g.pick(STRING_FIELDS);
    const value = g.pick<unknown>([g.int(-1e9, 1e9), g.next(), true, false, null, [], ['x'], {}, { value: 'x' }, [1, 2], 0]);
    out.push(post('types', `${field} = ${JSON.stringify(value)}`, { ...base((n += 1)), [field]: value }, field));
  }

  for (let i = 0; i < 44; i += 1) {
    const field = g.pick([...Object.keys(MAX_CHARS), ...ID_FIELDS]);
    if (ID_FIELDS.includes(field)) {
      const unit = g.pick(['x', 'é', '€', '😀']);
      const bytesPerUnit = Buffer.byteLength(unit);
      const count = Math.floor(128 / bytesPerUnit) + g.int(1, 20);
      out.push(post('lengths', `${field}: ${count} × ${unit}`, { ...base((n += 1)), [field]: unit.repeat(count) }, field));
    } else {
      const max = MAX_CHARS[field] as number;
      out.push(post('lengths', `${field}: ${max + 1}+ characters`, { ...base((n += 1)), [field]: '9'.repeat(max + g.int(1, 300)) }, field));
    }
  }
  for (const field of [
    'event_datetime_utc',
    'patient_id',
    'patient_first_name',
    'patient_phone',
    'appointment_id',
    'appointment_timezone',
    'appointment_datetime',
  ]) {
    out.push(post('lengths', `${field} empty`, { ...base((n += 1)), [field]: g.pick(['', ' ', '   ', '\u00a0']) }, field));
  }

  for (let i = 0; i < 90; i += 1) {
    const field = g.pick(TEXT_FIELDS);
    const bad = g.pick(BAD_CHARS);
    const valid = String((base(0)[field] as string | undefined) ?? 'Ana');
    const at = g.int(0, valid.length);
    out.push(
      post(
        'unicode',
        `${field} with U+${(bad.codePointAt(0) ?? 0).toString(16)} at ${at}`,
        { ...base((n += 1)), [field]: valid.slice(0, at) + bad + valid.slice(at) },
        field,
      ),
    );
  }
  for (const [what, value] of [
    ['soft hyphens', '\u00ad\u00ad\u00ad'],
    ['combining marks', '\u0301\u0302'],
    ['a joiner', '\u200d'],
    ['a non-joiner', '\u200c'],
    ['zero-width spaces', '\u200b\u200b'],
  ] as const) {
    for (const field of ['patient_first_name', 'patient_last_name', 'provider_first_name']) {
      out.push(post('unicode', `${field}: only ${what}`, { ...base((n += 1)), [field]: value }, field));
    }
  }

  for (let i = 0; i < 30; i += 1) {
    const depth = g.int(17, 6000);
    const open = g.pick(['[', '{"a":']);
    const close = open === '[' ? ']' : '}';
    const deep = `${open.repeat(depth)}1${close.repeat(depth)}`;
    const where = g.pick(['body', 'unknown field', 'batch']);
    const payload =
      where === 'body'
        ? deep
        : where === 'unknown field'
          ? JSON.stringify(base((n += 1))).replace(/}$/, `,"extra":${deep}}`)
          : `{"events":[${JSON.stringify(base((n += 1)))},${deep}]}`;
    out.push(post('nesting', `${depth} levels of ${open} in the ${where}`, payload));
  }

  const badDates = [
    '0000-12-01T09:30:00',
    '1899-12-31T23:59:00',
    '2200-01-01T00:00:00',
    '9999-12-31T23:59:59',
    '2026-13-01T09:30:00',
    '2026-12-32T09:30:00',
    '2026-02-29T09:30:00',
    '2026-12-01T24:30:00',
    '2026-12-01T09:60:00',
    '2026-12-01T09:30:61',
    '12/01/2026 9:30 AM',
    '2026-12-01',
    '09:30',
    'tomorrow',
    '1764581400',
    '2026-12-01T09:30:00.0000000001',
    '+002026-12-01T09:30:00',
    '2026-W49-2T09:30',
    '2026-335T09:30',
    '20261201T093000',
    ' ',
    'null',
    '2026-12-01T09:30:00ZZ',
    '2026-12-01T9:30:00',
  ];
  for (let i = 0; i < 40; i += 1) {
    const field = g.pick(['appointment_datetime', 'event_datetime_utc']);
    const value = g.pick(badDates);
    out.push(
      post(
        'dates',
        `${field} = ${value}`,
        { ...base((n += 1)), [field]: field === 'event_datetime_utc' && /T\d\d:\d\d:\d\d$/.test(value) ? `${value}Z` : value },
        field,
      ),
    );
  }
  for (let i = 0; i < 12; i += 1) {
    const days = g.int(731, 40_000);
    out.push(
      post(
        'dates',
        `appointment ${days} days ahead`,
        { ...base((n += 1)), appointment_datetime: localTime(Math.min(days, 60_000), '09:30') },
        'appointment_datetime',
      ),
    );
  }
  for (let i = 0; i < 8; i += 1) {
    const hours = g.int(25, 24 * 365);
    out.push(
      post(
        'dates',
        `event ${hours} h ahead of the clock`,
        { ...base((n += 1)), event_datetime_utc: utcAt(hours * 3_600_000) },
        'event_datetime_utc',
      ),
    );
  }
  out.push(
    post(
      'dates',
      'event time without an offset',
      { ...base((n += 1)), event_datetime_utc: utcAt(-DAY).replace('Z', '') },
      'event_datetime_utc',
    ),
  );

  for (let i = 0; i < 44; i += 1) {
    const overHours = g.next() < 0.5;
    const hh = overHours ? g.int(15, 99) : g.int(0, 14);
    const mm = overHours ? g.int(0, 59) : g.int(60, 99);
    const sign = g.pick(['+', '-']);
    const offset = `${sign}${String(hh).padStart(2, '0')}${g.pick([':', ''])}${String(mm).padStart(2, '0')}`;
    const field = g.pick(['appointment_datetime', 'event_datetime_utc', 'appointment_timezone']);
    const value =
      field === 'appointment_timezone'
        ? offset
        : field === 'event_datetime_utc'
          ? `2026-11-25T08:00:00${offset}`
          : `2026-12-01T09:30:00${offset}`;
    out.push(post('offsets', `${field} offset ${offset}`, { ...base((n += 1)), [field]: value }, field));
  }

  const badZones = [
    'EST',
    'PST',
    'CET',
    'IST',
    'BST',
    'CST',
    'EDT',
    'Europe/Atlantis',
    'Mars/Olympus_Mons',
    'America/New York',
    '../etc/passwd',
    'America//New_York',
    'UTC+5',
    '+1500',
    '-0a00',
    '0500',
    '05:00',
    '+5',
    'America/New_York\u202e',
    '\u200bUTC',
    'America/Los_Angeles\ud800',
    'Local',
    'Z0',
    'Pacific/Honolulu/',
    '*',
  ];
  for (let i = 0; i < 40; i += 1) {
    const zone = g.pick(badZones);
    out.push(
      post(
        'zones',
        `appointment_timezone = ${JSON.stringify(zone)}`,
        { ...base((n += 1)), appointment_timezone: zone },
        'appointment_timezone',
      ),
    );
  }

  for (let i = 0; i < 44; i += 1) {
    const size = g.int(2, 12);
    const events = Array.from({ length: size }, () => base((n += 1)));
    const at = g.int(0, size - 1);
    const shape = g.pick(['array', 'wrapped']);
    const kind = g.pick(['bad phone', 'not an object', 'missing id', 'too many']);
    let payload: unknown = events;
    let field: string | undefined;
    const prefix = shape === 'array' ? `[${at}]` : `events[${at}]`;
    if (kind === 'bad phone') {
      events[at] = { ...events[at], patient_phone: g.pick(['call me', '123', '+1 055 555 0134', '']) };
      field = `${prefix}.patient_phone`;
    } else if (kind === 'not an object') {
      (events as unknown[])[at] = g.pick<unknown>(['BOOKED', 7, null, true, [events[0]]]);
      field = prefix;
    } else if (kind === 'missing id') {
      const { appointment_id: _gone, ...rest } = events[at] as Record<string, unknown>;
      (events as unknown[])[at] = rest;
      field = `${prefix}.appointment_id`;
    } else {
      payload = Array.from({ length: g.int(101, 160) }, () => base((n += 1)));
    }
    if (shape === 'wrapped' && kind !== 'too many') payload = { events };
    out.push(post('batches', `${shape} of ${size}: ${kind} at ${at}`, payload, field));
  }
  out.push(post('batches', 'empty wrapped batch', { events: [] }, 'events'));
  out.push(post('batches', 'empty array', []));
  out.push(post('batches', 'empty object', {}));
  out.push(post('batches', 'events is a string', { events: 'BOOKED' }, 'event_type'));

  const contentTypes = [
    'text/plain',
    'text/json',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/json-patch+json',
    'application/merge-patch+json',
    'application/fhir+json',
    'application/ld+json',
    'application/jsonl',
    'application/x-json',
    'application/xml',
    'application/json; charset=latin1',
    'application/json; charset=utf-16',
    'application/octet-stream',
    'json',
    '*/*',
    'application/*',
  ];
  for (let i = 0; i < 34; i += 1) {
    const type = g.pick(contentTypes);
    out.push({
      category: 'content-types',
      what: type,
      request: { path: '/ehr/events', headers: { authorization: headers.authorization, 'content-type': type }, body: body(base((n += 1))) },
    });
  }
  out.push({
    category: 'content-types',
    what: 'no Content-Type',
    request: { path: '/ehr/events', headers: { authorization: headers.authorization }, body: body(base((n += 1))) },
  });

  for (let i = 0; i < 30; i += 1) {
    const field = g.pick(
      TEXT_FIELDS.filter(
        (f) =>
          !['event_datetime_utc', 'appointment_datetime', 'appointment_timezone', 'patient_phone', 'provider_callback_phone'].includes(f),
      ),
    );
    const bad = Buffer.from(g.pick(INVALID_UTF8));
    const [head, tail] = JSON.stringify({ ...base((n += 1)), [field]: 'Ab@@cd' }).split('@@') as [string, string];
    out.push({
      category: 'encodings',
      what: `${field} with bytes ${bad.toString('hex')}`,
      field,
      request: { path: '/ehr/events', headers, body: Buffer.concat([Buffer.from(head), bad, Buffer.from(tail)]) },
    });
  }
  const malformedJson = [
    '{"event_type": "BOOKED",',
    "{'event_type': 'BOOKED'}",
    '{"a": NaN}',
    '{"a": Infinity}',
    '[1,]',
    '{"a":1}}',
    'BOOKED',
    '"BOOKED"',
    '42',
    'null',
    'true',
    '{"a":"\\x41"}',
    '{"a":"\\ud800"',
    '\u0000{}',
  ];
  for (let i = 0; i < 14; i += 1) out.push(post('encodings', `malformed JSON ${JSON.stringify(malformedJson[i])}`, malformedJson[i]));
  out.push({
    category: 'encodings',
    what: 'UTF-16LE body',
    request: { path: '/ehr/events', headers, body: Buffer.from(JSON.stringify(base((n += 1))), 'utf16le') },
  });
  out.push({
    category: 'encodings',
    what: 'gzip header, plain body',
    request: { path: '/ehr/events', headers: { ...headers, 'content-encoding': 'gzip' }, body: body(base((n += 1))) },
  });
  out.push({
    category: 'encodings',
    what: 'unknown Content-Encoding',
    request: { path: '/ehr/events', headers: { ...headers, 'content-encoding': 'x-custom' }, body: body(base((n += 1))) },
  });
  for (let i = 0; i < 4; i += 1) {
    out.push({
      category: 'encodings',
      what: `chunked, ${2 ** (i + 6)}-byte chunks`,
      request: { path: '/ehr/events', headers, body: body(base((n += 1))), chunkBytes: 2 ** (i + 6) },
    });
  }
  return out;
}

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack();
  await t.postEvents(ehrEvent({ appointment_id: 'APT-before-fuzz' }));
  // The booking text's delivery receipts arrive after the answer: let them land first.
  await t.stack.settle();
});
afterAll(async () => {
  await started(t)?.stop();
});

/** Every object in the bucket with the SHA-256 of its bytes. */
async function snapshot(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const key of await t.listKeys()) {
    const res = await t.s3.send(new GetObjectCommand({ Bucket: t.stack.bucket, Key: key }));
    out[key] = createHash('sha256')
      .update(await (res.Body?.transformToByteArray() ?? Promise.resolve(new Uint8Array())))
      .digest('hex');
  }
  return out;
}

describe(`intake fuzz (seed ${SEED})`, () => {
  it('refuses every malformed payload with a 4xx naming the field, and writes nothing', async () => {
    const all = cases(SEED, t.stack.env.EHR_API_KEY ?? '');
    expect(all.length).toBeGreaterThanOrEqual(400);
    const before = await snapshot();
    expect(Object.keys(before).length).toBeGreaterThan(0);

    const answers: RawAnswer[] = [];
    const concurrency = 4;
    for (let i = 0; i < all.length; i += concurrency) {
      answers.push(...(await Promise.all(all.slice(i, i + concurrency).map((c) => rawRequest(t.stack.url, c.request)))));
    }

    const counts: Record<string, { sent: number; statuses: Record<number, number> }> = {};
    const failures: string[] = [];
    all.forEach((c, i) => {
      const a = answers[i] as RawAnswer;
      const entry = (counts[c.category] ??= { sent: 0, statuses: {} });
      entry.sent += 1;
      entry.statuses[a.status] = (entry.statuses[a.status] ?? 0) + 1;
      const label = `[${c.category}] ${c.what}: ${a.status}`;
      if (a.status < 400 || a.status >= 500) failures.push(`${label} ${a.text.slice(0, 200)}`);
      else if (/\bat \S+ \(|\/work\/|\.ts\b/.test(a.text)) failures.push(`${label} leaks a stack or path`);
      else if (c.field) {
        const fields = ((a.json?.error?.problems ?? []) as { field: string }[]).map((p) => p.field);
        if (!fields.includes(c.field)) failures.push(`${label} names ${JSON.stringify(fields)}, not ${c.field}`);
      }
    });
    console.log(`intake fuzz, seed ${SEED}: ${all.length} payloads`);
    for (const [category, { sent, statuses }] of Object.entries(counts)) {
      console.log(
        `  ${category.padEnd(14)} ${String(sent).padStart(4)}  ${Object.entries(statuses)
          .map(([s, k]) => `${s}×${k}`)
          .join(' ')}`,
      );
    }
    expect(failures).toEqual([]);
    expect(await snapshot()).toEqual(before);
  });
});
