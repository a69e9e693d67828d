import type { Schema } from './twilio-spec';

/**
 * A small checker for the subset of JSON Schema that Twilio's OpenAPI response schemas use: type,
 * nullable, enum, properties, items, pattern, min/maxLength, $ref and a few formats. It is stricter
 * than JSON Schema in one way on purpose: an object that declares its properties may not carry any
 * other field unless the allow-list names it, because a field the stand-in invents is a field our
 * code may start reading and real Twilio never sends.
 */

export interface SchemaProblem {
  /** Where in the body, e.g. `$.build.function_versions[0]`. */
  at: string;
  problem: string;
}

export interface CheckOptions {
  resolve(ref: string): Schema;
  /** Field paths (`$.links.logs`, `$.services[].links.x`) allowed although the spec does not declare them. */
  allowedExtraFields: ReadonlySet<string>;
}

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const RFC_2822 =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$/;
const HTTP_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH'];
/** Deep schemas are shallow in practice (Twilio's go four levels down); the bound keeps a cyclic $ref from looping. */
const MAX_DEPTH = 32;

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function formatProblem(format: string | undefined, value: string): string | undefined {
  switch (format) {
    case 'date-time':
      return ISO_DATE_TIME.test(value) ? undefined : `is not an ISO 8601 date-time: ${JSON.stringify(value)}`;
    case 'date-time-rfc-2822':
      return RFC_2822.test(value) ? undefined : `is not an RFC 2822 date: ${JSON.stringify(value)}`;
    case 'uri':
      // 2010-04-01 "uri" fields are paths relative to api.twilio.com; the newer APIs give absolute URLs.
      return value.startsWith('/') || URL.canParse(value) ? undefined : `is not a URI: ${JSON.stringify(value)}`;
    case 'http-method':
      return HTTP_METHODS.includes(value) ? undefined : `is not an HTTP method: ${JSON.stringify(value)}`;
    case undefined:
    default:
      return undefined;
  }
}

/** Where a field sits for the allow-list: array indexes collapse to `[]`. */
function listPath(at: string): string {
  return at.replace(/\[\d+\]/g, '[]');
}

export function checkSchema(value: unknown, schema: Schema, options: CheckOptions, at = '$', depth = 0): SchemaProblem[] {
  if (depth > MAX_DEPTH) return [{ at, problem: `schema nests deeper than ${MAX_DEPTH} levels` }];
  if (schema.$ref) return checkSchema(value, options.resolve(schema.$ref), options, at, depth + 1);
  if (value === null)
    return schema.nullable || schema.type === undefined ? [] : [{ at, problem: 'is null but the spec does not allow null' }];
  const actual = typeOf(value);
  if (schema.type && !(schema.type === actual || (schema.type === 'number' && actual === 'integer'))) {
    return [{ at, problem: `is ${actual}, the spec says ${schema.type}` }];
  }
  const problems: SchemaProblem[] = [];
  if (schema.enum && !schema.enum.includes(value))
    problems.push({ at, problem: `${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}` });
  // Twilio's own examples answer "" for an unset SID or URL (sms_application_sid, sms_url), so a
  // nullable string may be empty whatever its pattern or format says.
  if (typeof value === 'string' && !(value === '' && schema.nullable)) {
    if (schema.pattern && !new RegExp(schema.pattern).test(value))
      problems.push({ at, problem: `${JSON.stringify(value)} does not match ${schema.pattern}` });
    if (schema.minLength !== undefined && value.length < schema.minLength)
      problems.push({ at, problem: `is shorter than ${schema.minLength}` });
    if (schema.maxLength !== undefined && value.length > schema.maxLength)
      problems.push({ at, problem: `is longer than ${schema.maxLength}` });
    const f = formatProblem(schema.format, value);
    if (f) problems.push({ at, problem: f });
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((item, i) => problems.push(...checkSchema(item, schema.items as Schema, options, `${at}[${i}]`, depth + 1)));
  }
  if (actual === 'object' && schema.properties) {
    const record = value as Record<string, unknown>;
    for (const [key, v] of Object.entries(record)) {
      const declared = schema.properties[key];
      const here = `${at}.${key}`;
      if (declared) problems.push(...checkSchema(v, declared, options, here, depth + 1));
      else if (!options.allowedExtraFields.has(listPath(here)))
        problems.push({ at: here, problem: 'is not declared by the spec (and not on the allow-list)' });
    }
    for (const key of schema.required ?? [])
      if (!(key in record)) problems.push({ at: `${at}.${key}`, problem: 'is required by the spec but missing' });
  }
  return problems;
}

/**
 * A form or query value as sent (always text; repeated keys give a list) against the parameter's
 * schema: booleans and integers must read as such, enums and patterns hold, lists hold per item.
 * Parameters whose schema gives no type (Studio's Definition and Parameters are JSON) pass.
 */
export function checkParameter(name: string, sent: unknown, schema: Schema, resolve: (ref: string) => Schema, depth = 0): string[] {
  if (depth > MAX_DEPTH) return [`${name}: schema nests deeper than ${MAX_DEPTH} levels`];
  if (schema.$ref) return checkParameter(name, sent, resolve(schema.$ref), resolve, depth + 1);
  const values = Array.isArray(sent) ? sent : [sent];
  if (schema.type === 'array')
    return values.flatMap((v) => (schema.items ? checkParameter(name, v, schema.items, resolve, depth + 1) : []));
  if (values.length > 1) return [`${name}: sent ${values.length} times, the spec takes one value`];
  const value = values[0];
  if (typeof value !== 'string') return [`${name}: not text`];
  switch (schema.type) {
    case 'boolean':
      return /^(true|false)$/i.test(value) ? [] : [`${name}: ${JSON.stringify(value)} is not a boolean`];
    case 'integer':
      return /^-?\d+$/.test(value) ? [] : [`${name}: ${JSON.stringify(value)} is not an integer`];
    case 'number':
      return value.trim() !== '' && Number.isFinite(Number(value)) ? [] : [`${name}: ${JSON.stringify(value)} is not a number`];
    case 'string':
      // An empty URL is how a client clears one (the deploy's destroy empties the number's SmsUrl).
      if (value === '' && schema.format === 'uri') return [];
      return checkSchema(value, schema, { resolve, allowedExtraFields: new Set() }, name, depth + 1).map((p) => `${p.at}: ${p.problem}`);
    case undefined:
    default:
      return [];
  }
}
