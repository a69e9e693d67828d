import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ProcessRequest {
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** Each line of stdout and stderr as it arrives. */
  onLine?: (line: string) => void;
}

export interface ProcessResult {
  code: number;
  /** The whole stdout (small for the commands run here; JSON for `aws … --output json`). */
  stdout: string;
  /** The last lines of stdout and stderr, for error messages. */
  tail: string[];
}

/** The process boundary of the operator commands: tests inject a fake and assert on the requests. */
export type ProcessRunner = (request: ProcessRequest) => Promise<ProcessResult>;

const TAIL = 15;

export const spawnProcess: ProcessRunner = (request) =>
  new Promise((resolve, reject) => {
    // No shell: arguments reach the program as they are, whatever characters they contain.
    const child = spawn(request.command, request.args, { cwd: request.cwd, env: request.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    let stdout = '';
    const take = (line: string) => {
      tail.push(line);
      if (tail.length > TAIL) tail.shift();
      request.onLine?.(line);
    };
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    createInterface({ input: child.stdout }).on('line', take);
    createInterface({ input: child.stderr }).on('line', take);
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? 1, stdout, tail }));
  });
