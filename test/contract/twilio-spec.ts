import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Twilio's own OpenAPI descriptions of the APIs the stand-in imitates, read from the
 * `@twilio-alpha/mcp` dev dependency (`twilio-oai/spec/json`, Apache-2.0) so nothing of Twilio's is
 * copied into this repository and a version bump of the package is a version bump of the contract.
 */

/** The stand-in mounts each Twilio host under a product prefix; this is the spec file behind each. */
export const SPEC_FILES = {
  api: 'twilio_api_v2010.json',
  studio: 'twilio_studio_v2.json',
  verify: 'twilio_verify_v2.json',
  serverless: 'twilio_serverless_v1.json',
  messaging: 'twilio_messaging_v1.json',
} as const;

export type Product = keyof typeof SPEC_FILES;
export const PRODUCTS = Object.keys(SPEC_FILES) as Product[];

export type Schema = {
  $ref?: string;
  type?: string;
  format?: string;
  nullable?: boolean;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  items?: Schema;
  required?: string[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
};

interface SpecParameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema?: Schema;
}

interface SpecOperationObject {
  operationId: string;
  parameters?: SpecParameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
}

interface SpecDocument {
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, Schema> };
}

export interface SpecOperation {
  product: Product;
  method: string;
  /** The spec's path template, e.g. `/v1/Services/{ServiceSid}/Builds/{Sid}`. */
  template: string;
  operationId: string;
  queryParameters: string[];
  requiredQueryParameters: string[];
  /** Form fields of the request body (`application/x-www-form-urlencoded`). */
  formParameters: string[];
  requiredFormParameters: string[];
  /** The schema of each query and form parameter, for checking the values sent. */
  parameterSchemas: Map<string, Schema>;
  /** Declared status codes, each with its JSON body schema when it has one. */
  responses: Map<number, Schema | undefined>;
  /** Resolves `#/components/schemas/…` references of this operation's document. */
  resolve(ref: string): Schema;
  matches(pathname: string): boolean;
  /** How many `{…}` segments the template has: the most literal match wins (`/Flows/Validate` over `/Flows/{Sid}`). */
  variables: number;
}

export function specDirectory(): string {
  return path.join(path.dirname(require.resolve('@twilio-alpha/mcp/package.json')), 'twilio-oai', 'spec', 'json');
}

const METHODS = ['get', 'post', 'delete'] as const;

/** `/v1/Services/{ServiceSid}/Functions/{Sid}` → a regex that takes one path segment per variable. */
export function templatePattern(template: string): RegExp {
  const escaped = template
    .split(/\{[^}]+\}/)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]+');
  return new RegExp(`^${escaped}$`);
}

function loadDocument(product: Product): SpecDocument {
  return JSON.parse(readFileSync(path.join(specDirectory(), SPEC_FILES[product]), 'utf8')) as SpecDocument;
}

function operationsOf(product: Product, doc: SpecDocument): SpecOperation[] {
  const resolve = (ref: string): Schema => {
    const name = ref.replace('#/components/schemas/', '');
    const schema = doc.components.schemas[name];
    if (!schema) throw new Error(`${SPEC_FILES[product]}: unresolvable $ref ${ref}`);
    return schema;
  };
  const ops: SpecOperation[] = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    const pattern = templatePattern(template);
    for (const method of METHODS) {
      const op = item[method] as SpecOperationObject | undefined;
      if (!op) continue;
      const query = (op.parameters ?? []).filter((p) => p.in === 'query');
      const form = op.requestBody?.content['application/x-www-form-urlencoded']?.schema;
      const responses = new Map<number, Schema | undefined>();
      for (const [code, response] of Object.entries(op.responses))
        responses.set(Number(code), response.content?.['application/json']?.schema);
      ops.push({
        product,
        method: method.toUpperCase(),
        template,
        operationId: op.operationId,
        queryParameters: query.map((p) => p.name),
        requiredQueryParameters: query.filter((p) => p.required).map((p) => p.name),
        formParameters: Object.keys(form?.properties ?? {}),
        requiredFormParameters: form?.required ?? [],
        parameterSchemas: new Map([
          ...query.flatMap((p): [string, Schema][] => (p.schema ? [[p.name, p.schema]] : [])),
          ...Object.entries(form?.properties ?? {}),
        ]),
        responses,
        resolve,
        matches: (pathname) => pattern.test(pathname),
        variables: (template.match(/\{/g) ?? []).length,
      });
    }
  }
  return ops;
}

let cache: Map<Product, SpecOperation[]> | undefined;

/** Every operation of the four specs, parsed once per test file (the 2010 spec is 2 MB). */
export function specOperations(): Map<Product, SpecOperation[]> {
  cache ??= new Map(PRODUCTS.map((p) => [p, operationsOf(p, loadDocument(p))]));
  return cache;
}

/** The spec operation a request to the stand-in stands for, or undefined when Twilio has none. */
export function findOperation(product: Product, method: string, pathname: string): SpecOperation | undefined {
  const candidates = (specOperations().get(product) ?? []).filter((op) => op.method === method && op.matches(pathname));
  return candidates.sort((a, b) => a.variables - b.variables)[0];
}
