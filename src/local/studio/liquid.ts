import { ForTag, Liquid, filters, type Context, type FilterImplOptions, type Template } from 'liquidjs';

/**
 * Liquid as Studio runs it (docs/studio-engine.md §3.2, §3.3): LiquidJS with the overrides that make
 * its output match Studio's JVM engine. Lax: an undefined path renders as an empty string.
 */

/** §3.2: a Liquid `for` loop runs at most 15 iterations; extra items are skipped, not an error. */
export const MAX_LOOP_ITERATIONS = 15;
/** §3.2: a rendered value may be at most 16 KB. */
export const MAX_RENDERED_BYTES = 16 * 1024;
/** §3.3: `date` and `'now'` use Pacific time, DST included. */
export const STUDIO_TIME_ZONE = 'America/Los_Angeles';

export class LiquidLimitError extends Error {}

/** Hidden from templates (a symbol is not a Liquid path): the injected clock for `'now'`. */
const NOW = Symbol('studio-now');

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Java's `Map.toString()` / `List.toString()`, which Studio prints for an object (§3.2). */
function javaString(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return `[${v.map(javaString).join(', ')}]`;
  if (isPlainObject(v))
    return `{${Object.entries(v)
      .map(([k, x]) => `${k}=${javaString(x)}`)
      .join(', ')}}`;
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- Java prints any other object by its toString too
  return String(v);
}

/**
 * Applied to every `{{ }}` output: maps print Java-style; everything else is passed through for
 * LiquidJS to stringify as usual (LiquidJS types the hook as returning a string; it accepts any).
 */
function printLikeStudio(v: unknown): string {
  return (isPlainObject(v) ? javaString(v) : v) as string;
}

function isIntegerLike(v: unknown): boolean {
  if (typeof v === 'number') return Number.isInteger(v);
  return typeof v === 'string' && /^\s*[-+]?\d+\s*$/.test(v);
}

/** §3.2: `10 | divided_by: 3` is 3 when both operands are integers (Java `long` division truncates). */
function dividedBy(dividend: unknown, divisor: unknown): number {
  const a = Number(typeof dividend === 'string' ? dividend.trim() : dividend);
  const b = Number(typeof divisor === 'string' ? divisor.trim() : divisor);
  if (isIntegerLike(dividend) && isIntegerLike(divisor)) {
    if (b === 0) throw new Error('divided by 0');
    return Math.trunc(a / b);
  }
  return a / b;
}

type FilterHandler = Extract<FilterImplOptions, (...args: never[]) => unknown>;
type FilterThis = ThisParameterType<FilterHandler>;
type Filter = (this: FilterThis, v: unknown, ...args: unknown[]) => unknown;

function builtin(name: string): Filter {
  const f: FilterImplOptions | undefined = filters[name];
  if (typeof f !== 'function') throw new Error(`LiquidJS has no ${name} filter`);
  return f;
}

const builtinDate = builtin('date');

/** `'now'` / `'today'` read the engine's clock, so a test that moves the clock sees it in messages. */
function studioDate(this: FilterThis, v: unknown, ...args: unknown[]): unknown {
  const env = this.context.environments as Record<symbol, unknown>;
  const now = env[NOW];
  const value = (v === 'now' || v === 'today') && typeof now === 'number' ? new Date(now) : v;
  return builtinDate.call(this, value, ...args);
}

/** `for` with Studio's iteration cap: a guard template breaks the loop before the 16th pass. */
class CappedForTag extends ForTag {
  constructor(...args: ConstructorParameters<typeof ForTag>) {
    super(...args);
    const guard: Template = {
      token: this.token,
      render(ctx: Context) {
        const index = ctx.getSync(['forloop', 'index0']);
        if (typeof index === 'number' && index >= MAX_LOOP_ITERATIONS) ctx.breakCalled = true;
        return '';
      },
    };
    this.templates = [guard, ...this.templates];
  }
}

function createStudioLiquid(): Liquid {
  const liquid = new Liquid({
    strictVariables: false,
    strictFilters: false,
    timezoneOffset: STUDIO_TIME_ZONE,
    outputEscape: printLikeStudio,
    // Guards against pathological templates; the 16 KB output rule is checked after rendering.
    renderLimit: 2_000,
    memoryLimit: 10_000_000,
  });
  liquid.registerTag('for', CappedForTag);
  liquid.registerFilter('divided_by', dividedBy);
  // §3.2: `to_json` is an alias of `json` (chosen: Twilio documents the filter, not its output).
  liquid.registerFilter('to_json', builtin('json'));
  liquid.registerFilter('date', studioDate);
  return liquid;
}

const liquid = createStudioLiquid();
const parsedTemplates = new Map<string, Template[]>();
const PARSE_CACHE_SIZE = 500;

function parse(template: string): Template[] {
  let parsed = parsedTemplates.get(template);
  if (!parsed) {
    parsed = liquid.parse(template);
    if (parsedTemplates.size >= PARSE_CACHE_SIZE) parsedTemplates.clear();
    parsedTemplates.set(template, parsed);
  }
  return parsed;
}

export interface RenderOptions {
  /** Epoch ms used for `'now'`; defaults to the real time. */
  now?: number;
}

/**
 * Renders one Studio property value against an execution context. Throws a LiquidJS error for a
 * syntax error and LiquidLimitError when the output is over 16 KB.
 */
export async function render(template: string, context: object, options: RenderOptions = {}): Promise<string> {
  let out = template;
  if (template.includes('{{') || template.includes('{%')) {
    const scope = { ...context, [NOW]: options.now ?? Date.now() };
    out = String(await liquid.render(parse(template), scope));
  }
  if (Buffer.byteLength(out, 'utf8') > MAX_RENDERED_BYTES) {
    throw new LiquidLimitError(`rendered value is over ${MAX_RENDERED_BYTES} bytes`);
  }
  return out;
}
