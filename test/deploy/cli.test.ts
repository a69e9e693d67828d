import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/lib/build-service';
import { exitCode, parseArgs } from '../../scripts/lib/deploy/cli';
import { StepFailure } from '../../scripts/lib/deploy/report';

describe('the command lines of deploy, status and destroy', () => {
  it('read .env from the repository root unless --env-file says otherwise', () => {
    expect(parseArgs([], []).envFile).toBe(path.join(ROOT, '.env'));
    expect(parseArgs(['--env-file', 'clinics/acme.env'], []).envFile).toBe(path.resolve('clinics/acme.env'));
    expect(parseArgs(['--env-file=/etc/acme.env'], []).envFile).toBe('/etc/acme.env');
  });

  it('take only the flags they know', () => {
    expect([...parseArgs(['--delete-data', '--yes'], ['--delete-data', '--yes']).flags]).toEqual(['--delete-data', '--yes']);
    expect(() => parseArgs(['--delete-data'], [])).toThrow(/unknown argument --delete-data/);
  });

  it('exit 0 on success, 2 for an invalid .env, 1 for a failed step or a refusal', () => {
    expect(exitCode({ ok: true, value: undefined })).toBe(0);
    expect(exitCode({ ok: false, reason: 'invalid-configuration', problems: [] })).toBe(2);
    expect(exitCode({ ok: false, reason: 'step-failed', failure: new StepFailure('x', 'y', 'z') })).toBe(1);
    expect(exitCode({ ok: false, reason: 'refused', message: 'no' })).toBe(1);
  });
});
