import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import type { AwsTarget } from '../../scripts/lib/deploy/aws';
import { deploy } from '../../scripts/lib/deploy/deploy';
import { rotateKeys } from '../../scripts/lib/deploy/rotate-keys';
import type { TwilioTarget } from '../../scripts/lib/deploy/twilio';
import {
  FUNCTIONS_SECRET_KEY,
  harness,
  SECRETS,
  STACK_OUTPUTS,
  startSecretsStandIn,
  startTwilioStandIn,
  validEnv,
  type Harness,
  type SecretsStandIn,
  type TwilioStandIn,
} from './support';

const serviceDir = inject('serviceDir');
const OLD_KEY = STACK_OUTPUTS.FunctionsAccessKeyId;

let twilio: TwilioStandIn;
let aws: SecretsStandIn;
let h: Harness;

beforeEach(async () => {
  twilio = await startTwilioStandIn();
  aws = await startSecretsStandIn({
    [STACK_OUTPUTS.TwilioSecretArn]: JSON.stringify({ account_sid: '', api_key_sid: '', api_key_secret: 'generated-placeholder' }),
    [STACK_OUTPUTS.FunctionsAccessKeySecretArn]: JSON.stringify({
      AWS_ACCESS_KEY_ID: OLD_KEY,
      AWS_SECRET_ACCESS_KEY: FUNCTIONS_SECRET_KEY,
    }),
  });
  h = harness(validEnv(), twilio, aws);
  const deployed = await deploy({
    ...h.deps,
    build: async () => ({ dir: serviceDir, functions: [] }),
    randomSecret: () => 'generated-session-secret-0123456789abcdef0123456789',
  });
  expect(deployed.ok).toBe(true);
  h.output.length = 0;
});

afterEach(async () => {
  await twilio.close();
  await aws.close();
});

/** The Functions' variables as the Twilio stand-in holds them. */
function functionsVariables(): Record<string, string> {
  const service = twilio.serverless.listServices()[0]!;
  const [env] = twilio.serverless.listEnvironments(service.sid);
  return Object.fromEntries(twilio.serverless.listVariables(service.sid, env!.sid).map((v) => [v.key, v.value]));
}

/** The `-c functionsKeys=…` of every `cdk deploy` since the given call. */
function keySlotsDeployed(since = 0): string[] {
  return h.processes
    .cdk('deploy')
    .slice(since)
    .map((r) => r.args.find((a, i) => r.args[i - 1] === '-c' && a.startsWith('functionsKeys='))?.split('=')[1] ?? '(none)');
}

const rotate = (over: Partial<Harness['deps']> = {}) =>
  rotateKeys({ ...h.deps, ...over, sleep: async () => undefined, keyCheckAttempts: 3 });

/** Whether the Functions hold a whole key pair that IAM (and so S3) accepts. */
function functionsKeyWorks(): boolean {
  const vars = functionsVariables();
  return aws.iamKeys.get(vars.AWS_ACCESS_KEY_ID ?? '') === vars.AWS_SECRET_ACCESS_KEY;
}

describe('npm run rotate-keys', () => {
  it('adds a key in the other slot, checks it against the bucket, gives it to the Functions, then deletes the old key', async () => {
    const before = functionsVariables();
    const deploysBefore = h.processes.cdk('deploy').length;
    const result = await rotate();
    expect(result).toMatchObject({ ok: true, value: { oldAccessKeyId: OLD_KEY, slot: 'b' } });
    const newKey = result.ok ? result.value.newAccessKeyId : '';
    expect(newKey).not.toBe(OLD_KEY);

    // Through the deploy's own cdk command line: both slots, then only the new one.
    expect(keySlotsDeployed(deploysBefore)).toEqual(['a,b', 'b']);
    expect([...aws.iamKeys.keys()]).toEqual([newKey]);
    // The check used the new key, before the Functions got it.
    expect(aws.s3Requests).toEqual([newKey, newKey]);
    const after = functionsVariables();
    expect(after.AWS_ACCESS_KEY_ID).toBe(newKey);
    expect(functionsKeyWorks()).toBe(true);
    // Every other variable is untouched.
    const rest = (v: Record<string, string>) =>
      Object.fromEntries(Object.entries(v).filter(([k]) => !k.startsWith('AWS_ACCESS') && !k.startsWith('AWS_SECRET')));
    expect(rest(after)).toEqual(rest(before));

    const text = h.output.join('\n');
    expect(text).toContain('[5] Delete the old key');
    for (const secret of [...SECRETS, FUNCTIONS_SECRET_KEY, after.AWS_SECRET_ACCESS_KEY!]) expect(text).not.toContain(secret);
  });

  it('leaves the key slots alone on the next deploy, and rotates back into slot a the next time', async () => {
    const first = await rotate();
    const key = first.ok ? first.value.newAccessKeyId : '';
    const deploysBefore = h.processes.cdk('deploy').length;
    const redeployed = await deploy({ ...h.deps, build: async () => ({ dir: serviceDir, functions: [] }) });
    expect(redeployed.ok).toBe(true);
    expect(keySlotsDeployed(deploysBefore)).toEqual(['b']);
    expect(functionsVariables().AWS_ACCESS_KEY_ID).toBe(key);

    const second = await rotate();
    expect(second).toMatchObject({ ok: true, value: { oldAccessKeyId: key, slot: 'a' } });
    expect([...aws.iamKeys.keys()]).toEqual([second.ok ? second.value.newAccessKeyId : '']);
    expect(functionsKeyWorks()).toBe(true);
  });

  describe('stopped halfway, never leaves the Functions without a working key', () => {
    it('when the new key cannot be created: the old key stays in use', async () => {
      h.processes.failCdkCall = h.processes.cdk().length + 1;
      const result = await rotate();
      expect(result).toMatchObject({ ok: false, reason: 'step-failed', failure: { step: 'Create a new key' } });
      expect(functionsVariables().AWS_ACCESS_KEY_ID).toBe(OLD_KEY);
      expect(functionsKeyWorks()).toBe(true);
    });

    it('when the bucket refuses the new key: the old key stays in use, and a second run removes the unused key and rotates', async () => {
      const refusing = (s: Parameters<Harness['deps']['aws']>[0]): AwsTarget => {
        const target = h.deps.aws(s);
        return Object.assign(Object.create(target) as AwsTarget, {
          checkFunctionsKey: () => Promise.reject(Object.assign(new Error('403'), { name: 'InvalidAccessKeyId' })),
        });
      };
      const failed = await rotate({ aws: refusing });
      expect(failed).toMatchObject({
        ok: false,
        failure: { step: 'Check the new key against the bucket', message: expect.stringContaining('refused the new key 3 times') },
      });
      expect(functionsVariables().AWS_ACCESS_KEY_ID).toBe(OLD_KEY);
      expect(functionsKeyWorks()).toBe(true);
      expect(aws.iamKeys.size).toBe(2);

      const deploysBefore = h.processes.cdk('deploy').length;
      const retried = await rotate();
      expect(retried.ok).toBe(true);
      expect(h.output.join('\n')).toContain('Remove the unused key of an earlier rotation');
      expect(keySlotsDeployed(deploysBefore)).toEqual(['a', 'a,b', 'b']);
      expect(aws.iamKeys.size).toBe(1);
      expect(functionsKeyWorks()).toBe(true);
    });

    it('when Twilio fails after changing one of the two variables: the old pair is put back', async () => {
      const failOnce = (s: Parameters<Harness['deps']['twilio']>[0]): TwilioTarget => {
        const target = h.deps.twilio(s);
        let calls = 0;
        return Object.assign(Object.create(target) as TwilioTarget, {
          // The first update sets only the id, then the connection is lost; the rollback goes through.
          setVariables: async (service: string, env: string, vars: Record<string, string>) => {
            calls += 1;
            if (calls > 1) return target.setVariables(service, env, vars);
            await target.setVariables(service, env, { ...functionsVariables(), AWS_ACCESS_KEY_ID: vars.AWS_ACCESS_KEY_ID ?? '' });
            throw new Error('socket hang up');
          },
        });
      };
      const failed = await rotate({ twilio: failOnce });
      expect(failed).toMatchObject({ ok: false, failure: { step: 'Give the Functions the new key' } });
      expect(functionsVariables().AWS_ACCESS_KEY_ID).toBe(OLD_KEY);
      expect(functionsKeyWorks()).toBe(true);
    });

    it('when Twilio is lost between the two variables and for the rollback: both keys are kept, and the next run repairs the pair first', async () => {
      const lost = (s: Parameters<Harness['deps']['twilio']>[0]): TwilioTarget => {
        const target = h.deps.twilio(s);
        let calls = 0;
        return Object.assign(Object.create(target) as TwilioTarget, {
          setVariables: async (service: string, env: string, vars: Record<string, string>) => {
            calls += 1;
            if (calls === 1)
              await target.setVariables(service, env, { ...functionsVariables(), AWS_ACCESS_KEY_ID: vars.AWS_ACCESS_KEY_ID ?? '' });
            throw new Error('socket hang up');
          },
        });
      };
      const failed = await rotate({ twilio: lost });
      expect(failed).toMatchObject({ ok: false, failure: { step: 'Give the Functions the new key' } });
      // The one state Twilio's one-variable-at-a-time API allows: the new id with the old secret.
      // Both keys still exist, so a whole pair of either works again as soon as Twilio answers.
      expect(functionsKeyWorks()).toBe(false);
      expect(aws.iamKeys.size).toBe(2);

      const retried = await rotate();
      expect(retried.ok).toBe(true);
      expect(h.output.join('\n')).toContain('Repair the Functions key left half-changed by an earlier run');
      expect(functionsKeyWorks()).toBe(true);
      expect(aws.iamKeys.size).toBe(1);
    });

    it('when the old key cannot be deleted: the Functions use the new key and the next run rotates on', async () => {
      // The 1st rotation cdk call adds the slot, the 2nd removes the old one.
      h.processes.failCdkCall = h.processes.cdk().length + 2;
      const result = await rotate();
      expect(result).toMatchObject({ ok: false, failure: { step: 'Delete the old key', whatToDo: expect.stringContaining(OLD_KEY) } });
      expect(functionsVariables().AWS_ACCESS_KEY_ID).not.toBe(OLD_KEY);
      expect(functionsKeyWorks()).toBe(true);
      expect(aws.iamKeys.has(OLD_KEY)).toBe(true);

      const retried = await rotate();
      expect(retried.ok).toBe(true);
      expect(aws.iamKeys.has(OLD_KEY)).toBe(false);
      expect(aws.iamKeys.size).toBe(1);
      expect(functionsKeyWorks()).toBe(true);
    });
  });
});
