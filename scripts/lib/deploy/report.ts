/**
 * How the operator commands talk: numbered steps with their duration, secrets masked in every line
 * (whoever wrote it: our code, the CDK, an SDK error), and failures that name the step and what to do.
 */

export type Out = (line: string) => void;

/** Replaces every known secret value in a text; short values are left alone (they would mask words). */
export class Masker {
  private secrets: string[] = [];

  constructor(secrets: string[]) {
    this.add(...secrets);
  }

  /** For secrets that appear during a run (read from Secrets Manager, generated). */
  add(...secrets: string[]): void {
    this.secrets = [...new Set([...this.secrets, ...secrets.filter((s) => s.length >= 8)])].sort((a, b) => b.length - a.length);
  }

  mask(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join('****');
    return out;
  }
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

/** A step that failed: the step's title, what went wrong, and what the operator should do. */
export class StepFailure extends Error {
  constructor(
    readonly step: string,
    message: string,
    readonly whatToDo: string,
  ) {
    super(message);
  }
}

/** Thrown inside a step to give its failure a specific remedy. */
export class ActionableError extends Error {
  constructor(
    message: string,
    readonly whatToDo: string,
  ) {
    super(message);
  }
}

export interface StepContext {
  /** A progress line under the step (indented, masked). */
  note: (line: string) => void;
}

export interface StepResult<T> {
  value: T;
  /** Shown after the step's duration, e.g. "created ZS…" or "unchanged". */
  summary?: string;
}

export class Steps {
  private count = 0;

  constructor(
    private readonly out: Out,
    private readonly masker: Masker,
    private readonly now: () => number = () => performance.now(),
  ) {}

  line(text = ''): void {
    this.out(this.masker.mask(text));
  }

  /**
   * Runs one step. `whatToDo` is the default remedy printed when it fails; an ActionableError
   * thrown inside overrides it with a more specific one.
   */
  async run<T>(title: string, whatToDo: string, fn: (ctx: StepContext) => Promise<StepResult<T>>): Promise<T> {
    this.count += 1;
    const started = this.now();
    this.line(`[${this.count}] ${title}`);
    const ctx: StepContext = { note: (l) => this.line(`      ${l}`) };
    try {
      const { value, summary } = await fn(ctx);
      this.line(`    ✓ ${formatDuration(this.now() - started)}${summary ? ` — ${summary}` : ''}`);
      return value;
    } catch (err) {
      const message = this.masker.mask(errorMessage(err));
      const remedy = err instanceof ActionableError ? err.whatToDo : whatToDo;
      this.line(`    ✗ failed after ${formatDuration(this.now() - started)}: ${message}`);
      throw new StepFailure(title, message, this.masker.mask(remedy));
    }
  }
}

/** The message of an error, including Twilio's code and the SDK's validation details when present. */
export function errorMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const e = err as Error & { code?: unknown; status?: unknown; details?: { errors?: { property_path?: string; message?: string }[] } };
  const details = e.details?.errors?.map((d) => `${d.property_path ?? ''} ${d.message ?? ''}`.trim()) ?? [];
  const code = typeof e.code === 'number' ? ` (Twilio error ${e.code})` : '';
  return `${e.message}${code}${details.length > 0 ? `: ${details.join('; ')}` : ''}`;
}
