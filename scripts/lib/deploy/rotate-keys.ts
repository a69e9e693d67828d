import { FUNCTIONS_KEY_SLOTS, type FunctionsKeySlot } from '../../../infra/key-slots';
import { functionsKeySlotsOf, functionsKeysOf, type FunctionsKey } from './aws';
import { stackContext } from './cdk';
import { printFailure, printProblems, startSteps, twilioAuthHint, verifyServiceName, type CommandDeps, type CommandResult } from './common';
import { ActionableError, StepFailure } from './report';
import { loadDeploySettings } from './settings';

export interface RotateDeps extends CommandDeps {
  /** Waits between checks of a new key while IAM makes it known everywhere (eventually consistent). */
  sleep?: (ms: number) => Promise<void>;
  /** How often the new key is tried before the rotation stops (default 12, 5 s apart). */
  keyCheckAttempts?: number;
}

export interface RotationReport {
  oldAccessKeyId: string;
  newAccessKeyId: string;
  slot: FunctionsKeySlot;
}

const RERUN = '`npm run rotate-keys`';

/**
 * `npm run rotate-keys`: a new access key for the Functions' IAM user, in the order that never
 * leaves the Functions without a working key. The stack has two key slots (IAM allows two keys
 * per user): the unused slot gets a new key through the same `cdk deploy` the deploy runs, the
 * key is tried against the bucket, the Functions' variables are switched to it with the deploy's
 * setVariables, and only then does a last `cdk deploy` remove the old slot, and with it the old key.
 */
export async function rotateKeys(deps: RotateDeps): Promise<CommandResult<RotationReport>> {
  const { steps, masker } = startSteps(deps);
  const loaded = loadDeploySettings(deps.env, { hasSharedAwsConfig: deps.hasSharedAwsConfig ?? false });
  if (!loaded.ok) {
    printProblems(deps.out, masker, loaded.problems, 'npm run rotate-keys');
    return { ok: false, reason: 'invalid-configuration', problems: loaded.problems };
  }
  const s = loaded.settings;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const attempts = deps.keyCheckAttempts ?? 12;
  const twilio = deps.twilio(s);
  const aws = deps.aws(s);

  try {
    const found = await steps.run(
      'Find the deployment and the key the Functions use',
      'run `npm run deploy` first if the deployment is incomplete, then `npm run rotate-keys` again',
      async () => {
        const inventory = await twilio
          .inspect({
            phoneNumber: s.phoneNumber,
            verifyServiceName: verifyServiceName(s.customerCode),
            ...(s.verifyServiceSid ? { verifyServiceSid: s.verifyServiceSid } : {}),
          })
          .catch(twilioAuthHint);
        const stack = await aws.describeStack();
        if (!inventory.service || !inventory.environment) throw new Error('the Functions service is not deployed');
        if (!stack || stack.source !== 'CloudFormation')
          throw new Error(`CloudFormation does not answer for ${s.stackName}: ${stack?.source ?? 'the stack does not exist'}`);
        const keys = functionsKeysOf(stack.outputs);
        const inUse = keys.find((k) => k.accessKeyId === inventory.variables.AWS_ACCESS_KEY_ID);
        if (!inUse)
          throw new Error(
            `the Functions use no key of ${s.stackName} (AWS_ACCESS_KEY_ID is ${inventory.variables.AWS_ACCESS_KEY_ID ? 'another key' : 'not set'})`,
          );
        const oldKey = await aws.readFunctionsKey(inUse.secretArn);
        masker.add(oldKey.secretAccessKey);
        const value = {
          serviceSid: inventory.service.sid,
          environmentSid: inventory.environment.sid,
          variables: inventory.variables,
          flowSid: inventory.flows[0]?.sid,
          inUse,
          oldKey,
          keys,
        };
        return {
          value,
          summary: `key ${inUse.accessKeyId} (slot ${inUse.slot})${keys.length > 1 ? '; an unused key of an earlier rotation is there too' : ''}`,
        };
      },
    );
    const setKey = (key: FunctionsKey) =>
      twilio.setVariables(found.serviceSid, found.environmentSid, {
        ...found.variables,
        AWS_ACCESS_KEY_ID: key.accessKeyId,
        AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
      });

    // Twilio sets variables one at a time: a run stopped between the two leaves the id of one key
    // with the secret of another. The pair of the id is put back before anything else.
    if (found.variables.AWS_SECRET_ACCESS_KEY !== found.oldKey.secretAccessKey) {
      await steps.run('Repair the Functions key left half-changed by an earlier run', 'run `npm run rotate-keys` again', async () => {
        await setKey(found.oldKey);
        return { value: undefined, summary: `AWS_SECRET_ACCESS_KEY matches ${found.inUse.accessKeyId} again` };
      });
    }
    const { inUse } = found;
    const slot = FUNCTIONS_KEY_SLOTS.find((k) => k !== inUse.slot) as FunctionsKeySlot;
    // The CDK's remedy says to re-run the deploy; here each step says what state the keys are in.
    const deployKeys = (slots: FunctionsKeySlot[], note: (line: string) => void) =>
      aws.deployStack(stackContext(s, found.flowSid, slots), note).catch((err: unknown) => {
        throw err instanceof ActionableError
          ? new Error(`${err.message}; ${err.whatToDo.replace(/ Then run `npm run deploy` again\.$/, '')}`)
          : err;
      });

    // A key left in the other slot by an interrupted run is unused; it goes first, so the new key
    // is really new and the user never needs a third key.
    if (found.keys.some((k) => k.slot === slot)) {
      await steps.run(
        'Remove the unused key of an earlier rotation',
        'read the CDK messages above, then run `npm run rotate-keys` again (the Functions still use their key)',
        async (ctx) => {
          await deployKeys([inUse.slot], ctx.note);
          return { value: undefined, summary: `slot ${slot} emptied` };
        },
      );
    }

    const fresh = await steps.run(
      'Create a new key',
      'read the CDK messages above, then run `npm run rotate-keys` again (the Functions still use their old key)',
      async (ctx) => {
        const outputs = await deployKeys([inUse.slot, slot], ctx.note);
        const ref = functionsKeysOf(outputs).find((k) => k.slot === slot);
        if (!ref) throw new Error(`the stack outputs name no key in slot ${slot}`);
        const key = await aws.readFunctionsKey(ref.secretArn);
        masker.add(key.secretAccessKey);
        return { value: { ref, key, outputs }, summary: `${ref.accessKeyId} (slot ${slot})` };
      },
    );

    await steps.run(
      'Check the new key against the bucket',
      'the new key exists next to the old one, and the Functions still use the old one; check the network, then run `npm run rotate-keys` again',
      async (ctx) => {
        await checkWithRetries(
          () => aws.checkFunctionsKey(fresh.key, fresh.outputs.BucketName, fresh.outputs.Region),
          attempts,
          sleep,
          ctx.note,
        );
        return { value: undefined, summary: `${fresh.outputs.BucketName} answers with it` };
      },
    );

    await steps.run(
      'Give the Functions the new key',
      'both keys are kept and work; run `npm run rotate-keys` again, which first puts back a matching pair if one half changed',
      async () => {
        try {
          await setKey(fresh.key);
        } catch (err) {
          // Both keys work: whichever pair the Functions end up with is valid once it is whole again.
          await setKey(found.oldKey).catch(() => undefined);
          throw err;
        }
        const after = await twilio.inspect({
          phoneNumber: s.phoneNumber,
          verifyServiceName: verifyServiceName(s.customerCode),
          ...(s.verifyServiceSid ? { verifyServiceSid: s.verifyServiceSid } : {}),
        });
        if (
          after.variables.AWS_ACCESS_KEY_ID !== fresh.key.accessKeyId ||
          after.variables.AWS_SECRET_ACCESS_KEY !== fresh.key.secretAccessKey
        ) {
          throw new Error('the Functions environment does not hold the new key after the update');
        }
        return { value: undefined, summary: 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY changed; the other variables as they were' };
      },
    );

    const removed = await steps.run(
      'Delete the old key',
      `the Functions use the new key; the old key ${inUse.accessKeyId} still exists: run \`npm run rotate-keys\` again to remove it (and rotate once more)`,
      async (ctx) => {
        const outputs = await deployKeys([slot], ctx.note);
        const left = functionsKeysOf(outputs).map((k) => k.accessKeyId);
        if (left.includes(inUse.accessKeyId)) throw new Error(`the stack still has the old key ${inUse.accessKeyId}`);
        return { value: outputs, summary: `${inUse.accessKeyId} deleted` };
      },
    );

    steps.line('');
    steps.line(
      `The Functions use ${fresh.key.accessKeyId} now (slot ${slot}); ${inUse.accessKeyId} is deleted. \`npm run deploy\` keeps the key slots as they are (${functionsKeySlotsOf(removed).join(',')}).`,
    );
    return { ok: true, value: { oldAccessKeyId: inUse.accessKeyId, newAccessKeyId: fresh.key.accessKeyId, slot } };
  } catch (err) {
    if (err instanceof StepFailure) {
      printFailure(deps.out, err, RERUN);
      return { ok: false, reason: 'step-failed', failure: err };
    }
    throw err;
  }
}

/** IAM takes a few seconds to make a new key valid everywhere; until then S3 refuses it (403). */
async function checkWithRetries(
  check: () => Promise<void>,
  attempts: number,
  sleep: (ms: number) => Promise<void>,
  note: (line: string) => void,
): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await check();
      return;
    } catch (err) {
      const name = (err as { name?: string }).name ?? 'error';
      if (attempt >= attempts)
        throw new ActionableError(
          `the bucket refused the new key ${attempts} times (last: ${name})`,
          'the old key is kept and the Functions still use it; wait a minute and run `npm run rotate-keys` again',
        );
      note(`not yet accepted (${name}); trying again`);
      await sleep(5000);
    }
  }
}
