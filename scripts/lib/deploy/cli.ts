import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { ROOT } from '../build-service';
import { CdkAwsTarget } from './aws';
import type { CommandDeps, CommandResult } from './common';
import { spawnProcess } from './process-runner';
import { hasSharedAwsConfig, readDeployEnv } from './settings';
import { TwilioDeployTarget } from './twilio';

/** The production wiring of the operator commands: real Twilio, the `cdk` CLI, the AWS SDK. */

export interface CliArgs {
  envFile: string;
  flags: Set<string>;
}

export function parseArgs(argv: string[], known: string[]): CliArgs {
  let envFile = path.join(ROOT, '.env');
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i] ?? '';
    if (a === '--env-file') envFile = path.resolve(argv[++i] ?? '.env');
    else if (a.startsWith('--env-file=')) envFile = path.resolve(a.slice('--env-file='.length));
    else if (known.includes(a)) flags.add(a);
    else throw new Error(`unknown argument ${a} (known: --env-file <path>${known.length ? `, ${known.join(', ')}` : ''})`);
  }
  return { envFile, flags };
}

export function productionDeps(envFile: string): CommandDeps & { fileFound: boolean } {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { env, fileFound } = readDeployEnv(envFile);
  return {
    env,
    fileFound,
    root: ROOT,
    out: (line) => console.log(line),
    twilio: (s) => new TwilioDeployTarget(s.twilio),
    aws: (s) => new CdkAwsTarget(s, { root: ROOT, run: spawnProcess, baseEnv: process.env }),
    hasSharedAwsConfig: hasSharedAwsConfig(),
  };
}

/** Asks on the terminal, or undefined when stdin is not one (CI, pipes). */
export function terminalQuestion(): ((q: string) => Promise<string>) | undefined {
  if (!process.stdin.isTTY) return undefined;
  return async (q) => {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    try {
      return await rl.question(q);
    } finally {
      rl.close();
    }
  };
}

export function exitCode(result: CommandResult<unknown>): number {
  if (result.ok) return 0;
  return result.reason === 'invalid-configuration' ? 2 : 1;
}

/** Runs a command's main and turns an unexpected error into a message and exit code 1. */
export function runMain(main: () => Promise<number>): void {
  main()
    .then((code) => process.exit(code))
    .catch((err: unknown) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : err);
      process.exit(1);
    });
}
