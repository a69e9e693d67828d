import type { ConfigProblem, Env } from '../../../src/config/config';
import type { AwsTarget } from './aws';
import { ActionableError, Masker, Steps, type StepFailure, type Out } from './report';
import { secretValues, type TargetSettings } from './settings';
import type { TwilioTarget } from './twilio';

/** What the three operator commands share: where they are, how they print, what they act on. */
export interface CommandDeps {
  /** `.env` merged with the process environment. */
  env: Env;
  /** The repository root (outputs file, CDK working directory). */
  root: string;
  out: Out;
  /** Built only after the configuration is valid, so an invalid `.env` touches nothing. */
  twilio: (settings: TargetSettings) => TwilioTarget;
  aws: (settings: TargetSettings) => AwsTarget;
  hasSharedAwsConfig?: boolean;
  now?: () => number;
}

export type CommandResult<T> =
  | { ok: true; value: T }
  | { ok: false; reason: 'invalid-configuration'; problems: ConfigProblem[] }
  | { ok: false; reason: 'step-failed'; failure: StepFailure }
  | { ok: false; reason: 'refused'; message: string };

export function startSteps(deps: CommandDeps): { steps: Steps; masker: Masker } {
  const masker = new Masker(secretValues(deps.env));
  return { masker, steps: new Steps(deps.out, masker, deps.now) };
}

/** Every problem at once, each with its fix; values are never echoed (some are secrets). */
export function printProblems(out: Out, masker: Masker, problems: ConfigProblem[], command: string): void {
  out('');
  out(`.env has ${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was changed:`);
  for (const p of problems) {
    out(masker.mask(`  ✗ ${p.variable} ${p.problem}`));
    if (p.fix) out(masker.mask(`      fix: ${p.fix}`));
  }
  out('');
  out(`Fix them and run \`${command}\` again.`);
}

export function printFailure(out: Out, failure: StepFailure, rerun?: string): void {
  out('');
  out(`Step "${failure.step}" failed: ${failure.message}`);
  out(`What to do: ${failure.whatToDo}`);
  if (rerun) out(`${rerun} is safe to run again: finished steps are found and kept, not repeated or duplicated.`);
}

/** Twilio's 401/20003 turned into the variables to check. */
export function twilioAuthHint(err: unknown): never {
  const e = err as { status?: number; code?: number; message?: string };
  if (e.status === 401 || e.code === 20003) {
    throw new ActionableError(
      'Twilio refused the credentials (401 Authenticate)',
      'check TWILIO_ACCOUNT_SID, TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET: the key must belong to that account and be a Standard (or Main) key',
    );
  }
  throw err;
}

/** The Verify service the deploy manages when `.env` does not name one (≤ 30 characters, Twilio's limit). */
export function verifyServiceName(customerCode: string): string {
  return `${customerCode} admin`;
}
