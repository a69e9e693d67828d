import { checkParameter, checkSchema } from './schema-check';
import type { Exchange } from './exchange-recorder';
import { findOperation, PRODUCTS, type Product } from './twilio-spec';

/**
 * Checks recorded exchanges with the stand-in against Twilio's OpenAPI specs: the request's query
 * and form parameters are ones the operation declares, its required ones are present whenever the
 * stand-in accepted it, the status is declared, and the JSON body fits the response schema.
 */

export interface Allowance {
  /** Operation ids of the spec the allowance holds for. */
  operations: string[];
  /** Field paths in the answer (`$.author_sid`, `$.flows[].author_sid`) or form parameter names. */
  fields: string[];
  reason: string;
}

const FLOW_ANSWERS = ['CreateFlow', 'UpdateFlow', 'FetchFlow'];
const REVISION_ANSWERS = ['FetchFlowRevision'];
const EXECUTION_ANSWERS = ['CreateExecution', 'FetchExecution', 'UpdateExecution'];
const NUMBER_ANSWERS = ['CreateIncomingPhoneNumber', 'FetchIncomingPhoneNumber', 'UpdateIncomingPhoneNumber'];

/**
 * Fields the stand-in answers with although the spec (older than the SDK) does not declare them.
 * Each needs a reason; a field no client reads and Twilio's own examples do not show does not
 * belong here, it belongs out of the stand-in.
 */
export const ALLOWED_EXTRA_FIELDS: readonly Allowance[] = [
  {
    operations: FLOW_ANSWERS,
    fields: ['$.author_sid'],
    reason: 'twilio-node 6.2.0 reads author_sid into FlowInstance.authorSid (rest/studio/v2/flow.js); the Studio v2 spec lacks it.',
  },
  { operations: ['ListFlow'], fields: ['$.flows[].author_sid'], reason: 'as above, for each flow of a list page' },
  {
    operations: REVISION_ANSWERS,
    fields: ['$.author_sid'],
    reason: 'twilio-node 6.2.0 reads author_sid into FlowRevisionInstance (rest/studio/v2/flow/flowRevision.js).',
  },
  { operations: ['ListFlowRevision'], fields: ['$.revisions[].author_sid'], reason: 'as above, for each revision of a list page' },
  {
    operations: EXECUTION_ANSWERS,
    fields: ['$.contact_sid', '$.flow_version', '$.initiated_by'],
    reason: 'twilio-node 6.2.0 reads contact_sid, flow_version and initiated_by into ExecutionInstance (rest/studio/v2/flow/execution.js).',
  },
  {
    operations: ['ListExecution'],
    fields: ['$.executions[].contact_sid', '$.executions[].flow_version', '$.executions[].initiated_by'],
    reason: 'as above, for each execution of a list page',
  },
  {
    operations: ['FetchExecutionStep'],
    fields: ['$.type'],
    reason: 'twilio-node 6.2.0 reads type (the widget type) into ExecutionStepInstance (rest/studio/v2/flow/execution/executionStep.js).',
  },
  { operations: ['ListExecutionStep'], fields: ['$.steps[].type'], reason: 'as above, for each step of a list page' },
  {
    operations: NUMBER_ANSWERS,
    fields: ['$.type'],
    reason: 'twilio-node 6.2.0 reads type into IncomingPhoneNumberInstance.type (rest/api/v2010/account/incomingPhoneNumber.js).',
  },
  {
    operations: NUMBER_ANSWERS,
    fields: ['$.subresource_uris'],
    reason: "Twilio's own example answer in the 2010-04-01 spec carries subresource_uris although its schema omits it.",
  },
  {
    operations: ['ListIncomingPhoneNumber'],
    fields: ['$.incoming_phone_numbers[].type', '$.incoming_phone_numbers[].subresource_uris'],
    reason: 'as above, for each number of a list page',
  },
];

/** Form parameters clients we run send although the operation does not declare them (Twilio ignores unknown ones). */
export const ALLOWED_EXTRA_PARAMETERS: readonly Allowance[] = [
  {
    operations: ['CreateEnvironment'],
    fields: ['FriendlyName'],
    reason:
      '@twilio-labs/serverless-api 5.7.0 sends FriendlyName when it creates an environment (dist/api/environments.js); the spec declares only UniqueName and DomainSuffix.',
  },
];

/** Uploads go to serverless-upload.twilio.com, which the Serverless spec does not describe. */
export const UNDESCRIBED_PRODUCTS: Readonly<Record<string, string>> = {
  'serverless-upload':
    'Function and Asset Versions are created by multipart upload to serverless-upload.twilio.com; the Serverless v1 spec has no create operation for them.',
};

export interface Violation {
  exchange: string;
  problem: string;
}

function describe(x: Exchange): string {
  return `${x.method} /${x.product}${x.path} → ${x.status}`;
}

function names(params: Record<string, unknown> | undefined): string[] {
  return Object.keys(params ?? {});
}

function present(params: Record<string, unknown> | undefined, name: string): boolean {
  const v = params?.[name];
  return v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0);
}

/** Twilio's error body: `{ code, message, more_info, status }` (details optional). */
function errorBodyProblems(body: unknown, status: number): string[] {
  if (body === null || typeof body !== 'object') return ['an error answer without a Twilio error body'];
  const b = body as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof b.code !== 'number') problems.push('error body has no numeric code');
  if (typeof b.message !== 'string') problems.push('error body has no message');
  if (typeof b.more_info !== 'string') problems.push('error body has no more_info');
  if (b.status !== status) problems.push(`error body says status ${String(b.status)}, the HTTP status is ${status}`);
  if ('stack' in b) problems.push('error body carries a stack trace');
  return problems;
}

function allowedFor(list: readonly Allowance[], operationId: string): Set<string> {
  return new Set(list.filter((a) => a.operations.includes(operationId)).flatMap((a) => a.fields));
}

export function checkExchange(x: Exchange): string[] {
  if (x.status >= 500) return [`the stand-in failed (${x.status})`, ...errorBodyProblems(x.body, x.status)];
  if (x.product in UNDESCRIBED_PRODUCTS) return x.status >= 400 ? errorBodyProblems(x.body, x.status) : [];
  if (!PRODUCTS.includes(x.product as Product)) return [`unknown product prefix /${x.product}`];
  const op = findOperation(x.product as Product, x.method, x.path);
  // A path Twilio lacks is fine only when refused as Twilio refuses it: 404 with its error body.
  if (!op) return x.status === 404 ? errorBodyProblems(x.body, x.status) : ['no operation in Twilio’s spec has this method and path'];
  const problems: string[] = [];
  for (const q of names(x.query))
    if (!op.queryParameters.includes(q)) problems.push(`${op.operationId}: query parameter ${q} is not declared`);
  const extraParameters = allowedFor(ALLOWED_EXTRA_PARAMETERS, op.operationId);
  for (const f of names(x.form))
    if (!op.formParameters.includes(f) && !extraParameters.has(f)) problems.push(`${op.operationId}: form parameter ${f} is not declared`);
  if (x.status >= 400) return [...problems, ...errorBodyProblems(x.body, x.status)];
  // What the stand-in accepted must be what Twilio would accept: each value fits its parameter's schema.
  for (const [name, sent] of [...Object.entries(x.query), ...Object.entries(x.form ?? {})]) {
    const schema = op.parameterSchemas.get(name);
    if (schema) problems.push(...checkParameter(name, sent, schema, op.resolve).map((p) => `${op.operationId}: parameter ${p}`));
  }
  for (const q of op.requiredQueryParameters)
    if (!present(x.query, q)) problems.push(`${op.operationId}: accepted without the required query parameter ${q}`);
  for (const f of op.requiredFormParameters)
    if (!present(x.form, f)) problems.push(`${op.operationId}: accepted without the required parameter ${f}`);
  if (!op.responses.has(x.status)) {
    problems.push(`${op.operationId}: status ${x.status} is not declared (declared: ${[...op.responses.keys()].join(', ')})`);
    return problems;
  }
  const schema = op.responses.get(x.status);
  if (schema && x.status !== 204) {
    const found = checkSchema(x.body, schema, {
      resolve: op.resolve,
      allowedExtraFields: allowedFor(ALLOWED_EXTRA_FIELDS, op.operationId),
    });
    problems.push(...found.map((p) => `${op.operationId}: ${p.at} ${p.problem}`));
  }
  return problems;
}

export function checkExchanges(exchanges: readonly Exchange[]): Violation[] {
  return exchanges.flatMap((x) => checkExchange(x).map((problem) => ({ exchange: describe(x), problem })));
}

/** For a test helper's teardown: fails with every violation listed (ids and paths only, no bodies). */
export function assertConformance(exchanges: readonly Exchange[], where: string): void {
  const violations = checkExchanges(exchanges);
  if (violations.length === 0) return;
  const unique = [...new Set(violations.map((v) => `${v.exchange}: ${v.problem}`))];
  throw new Error(
    `${where}: ${unique.length} exchange(s) with the Twilio stand-in differ from Twilio's OpenAPI spec:\n  ${unique.slice(0, 50).join('\n  ')}`,
  );
}
