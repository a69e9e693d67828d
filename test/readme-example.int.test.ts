import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../scripts/lib/build-service';
import { stateKey } from '../src/storage/keys';
import { flowTextPattern } from './support/flow-texts';
import { startTestStack, type TestStack } from './support/local-stack';
import { phonesApi } from './support/phones';
import { started } from './support/started';

/** The README's "try it" block, exactly as a newcomer would paste it. */
function readmeExample(): string {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const marker = readme.indexOf('<!-- readme-example:');
  const start = readme.indexOf('```sh\n', marker);
  const end = readme.indexOf('\n```', start + 6);
  if (marker < 0 || start < 0 || end < 0) throw new Error('README.md has no readme-example block');
  return readme.slice(start + 6, end);
}

let t: TestStack;
let cwd: string;
beforeAll(async () => {
  // This test is about today: the stack runs on the real clock, as `npm start` does.
  t = await startTestStack({}, { now: Date.now() });
  // The block reads the key from ./.local/local-secrets.json, where `npm start` keeps it.
  cwd = mkdtempSync(path.join(os.tmpdir(), 'pam-readme-'));
  symlinkSync(t.dataDir, path.join(cwd, '.local'));
});
afterAll(async () => {
  await started(t)?.stop();
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

describe("the README's first example", () => {
  it('books an appointment in the future whatever the date, and the patient gets the booking text', async () => {
    const script = readmeExample().replaceAll('127.0.0.1:3000', new URL(t.stack.url).host);
    const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script], { cwd, timeout: 30_000 });
    // The first curl prints the intake's answer, then a line break; the second, the phone's conversation.
    const [first, second] = stdout.split('\n');
    const answer = JSON.parse(first ?? '');
    expect(answer.results[0]).toMatchObject({ appointment_id: 'A-1001', outcome: 'applied', disposition: 'QUEUED' });

    const state = await t.getJson(stateKey('A-1001'));
    const startsAt = Date.parse(state.facts.appointment_datetime_utc);
    expect(startsAt - t.stack.clock.now()).toBeGreaterThan(2 * 24 * 3_600_000);
    const texts = await phonesApi(t).received('+14155550134');
    expect(JSON.parse(second ?? '').messages.map((m: { body: string }) => m.body)).toEqual(texts);
    expect(texts).toEqual([expect.stringMatching(flowTextPattern('send_booked'))]);
    for (const shown of ['Ana', 'Sam Lee', "Suite 100, O'Brien Bldg"]) expect(texts[0]).toContain(shown);
  });
});
