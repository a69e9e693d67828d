import { printFailure, printProblems, startSteps, twilioAuthHint, verifyServiceName, type CommandDeps, type CommandResult } from './common';
import { StepFailure } from './report';
import { loadTargetSettings } from './settings';

export interface DestroyOptions {
  /** Also delete the bucket and every appointment in it. */
  deleteData: boolean;
  /** Confirmation given on the command line (`--yes`), for non-interactive runs. */
  yes: boolean;
  /** Asks the operator; undefined when there is no terminal to ask on. */
  ask?: (question: string) => Promise<string>;
}

export interface DestroyReport {
  removed: string[];
  kept: string[];
}

/**
 * `npm run destroy`: the Twilio service, flow and Verify service, the number's webhook, and the
 * stack. The bucket is retained by the stack's removal policy, so its data survives unless
 * `--delete-data` is confirmed; then the stack is first redeployed with the bucket deletable
 * (the policy only takes effect once deployed) and destroyed after.
 */
export async function destroy(deps: CommandDeps, options: DestroyOptions): Promise<CommandResult<DestroyReport>> {
  const { steps, masker } = startSteps(deps);
  const loaded = loadTargetSettings(deps.env, { hasSharedAwsConfig: deps.hasSharedAwsConfig ?? false });
  if (!loaded.ok) {
    printProblems(deps.out, masker, loaded.problems, 'npm run destroy');
    return { ok: false, reason: 'invalid-configuration', problems: loaded.problems };
  }
  const s = loaded.settings;

  if (options.deleteData && !options.yes) {
    if (!options.ask) {
      const message = '--delete-data deletes every appointment and its history; confirm with --yes when there is no terminal to ask on';
      deps.out(message);
      return { ok: false, reason: 'refused', message };
    }
    const answer = await options.ask(
      `This deletes the bucket of "${s.customerCode}" and ALL appointment data in it. Type the customer code to confirm: `,
    );
    if (answer.trim() !== s.customerCode) {
      const message = 'Not confirmed; nothing was changed.';
      deps.out(message);
      return { ok: false, reason: 'refused', message };
    }
  }

  const twilio = deps.twilio(s);
  const aws = deps.aws(s);
  const removed: string[] = [];
  const kept: string[] = [];
  try {
    const inventory = await steps.run('Find what exists on Twilio', 'check the Twilio credentials in .env', async () => ({
      value: await twilio
        .inspect({
          ...(s.phoneNumber ? { phoneNumber: s.phoneNumber } : {}),
          verifyServiceName: verifyServiceName(s.customerCode),
          ...(s.verifyServiceSid ? { verifyServiceSid: s.verifyServiceSid } : {}),
        })
        .catch(twilioAuthHint),
    }));
    const stack = await steps.run(`Find the AWS stack ${s.stackName}`, 'check the AWS credentials in .env', async () => {
      const d = await aws.describeStack();
      return { value: d, summary: d ? `${d.status}: ${d.source}` : 'does not exist' };
    });

    const flowUrls = new Set(inventory.flows.map((f) => f.webhookUrl));
    if (inventory.number && flowUrls.has(inventory.number.smsUrl)) {
      const n = inventory.number;
      await steps.run(
        `Disconnect ${n.phoneNumber} from the flow`,
        'clear the number’s messaging webhook in the Twilio Console, then run `npm run destroy` again',
        async () => {
          await twilio.pointNumber(n.sid, '');
          removed.push(`webhook of ${n.phoneNumber}`);
          return { value: undefined, summary: 'incoming messages no longer reach the flow' };
        },
      );
    }
    for (const flow of inventory.flows) {
      await steps.run(
        `Delete the Studio Flow ${flow.sid}`,
        'delete it in the Twilio Console (Studio), then run `npm run destroy` again',
        async () => {
          await twilio.deleteFlow(flow.sid);
          removed.push(`Studio Flow ${flow.sid}`);
          return { value: undefined };
        },
      );
    }
    if (inventory.service) {
      const service = inventory.service;
      await steps.run(
        `Delete the Functions service ${service.sid}`,
        'delete it in the Twilio Console (Functions and Assets → Services), then run `npm run destroy` again',
        async () => {
          await twilio.deleteService(service.sid);
          removed.push(`Functions service ${service.sid}`);
          return { value: undefined, summary: 'its environment, functions, assets and variables with it' };
        },
      );
    }
    // A Verify service named in .env belongs to the operator; only the one the deploy made goes.
    if (inventory.verifyService && !s.verifyServiceSid) {
      const v = inventory.verifyService;
      await steps.run(
        `Delete the Verify service ${v.sid}`,
        'delete it in the Twilio Console (Verify → Services), then run `npm run destroy` again',
        async () => {
          await twilio.deleteVerifyService(v.sid);
          removed.push(`Verify service ${v.sid}`);
          return { value: undefined };
        },
      );
    }

    const bucket = stack?.outputs.BucketName;
    if (stack) {
      const context = { customerCode: s.customerCode, ...(options.deleteData ? { deleteData: 'true' } : {}) };
      if (options.deleteData) {
        await steps.run(
          'Make the bucket deletable',
          'read the CDK messages above, then run `npm run destroy -- --delete-data` again',
          async (ctx) => {
            await aws.deployStack(context, ctx.note);
            return { value: undefined, summary: 'the stack now deletes the bucket and its objects with it' };
          },
        );
      }
      await steps.run(
        `Delete the AWS stack ${s.stackName}`,
        'read the CDK messages above, then run `npm run destroy` again',
        async (ctx) => {
          await aws.destroyStack(context, ctx.note);
          removed.push(`AWS stack ${s.stackName}`);
          return { value: undefined };
        },
      );
      const name = bucket ? `bucket ${bucket}` : `the bucket of ${s.stackName}`;
      if (options.deleteData) removed.push(`${name} and its data`);
      else kept.push(`${name} with all appointment data (retained by design)`);
    }

    steps.line('');
    steps.line(removed.length === 0 ? 'Nothing to remove: no deployment found.' : `Removed: ${removed.join('; ')}.`);
    if (kept.length > 0) {
      steps.line(`Kept: ${kept.join('; ')}.`);
      steps.line('  To delete it later, empty and delete it in the S3 console. While it exists, a new deploy with the');
      steps.line('  same CUSTOMER_CODE cannot create its bucket (same name); use `npm run destroy -- --delete-data` when the data may go.');
    }
    return { ok: true, value: { removed, kept } };
  } catch (err) {
    if (err instanceof StepFailure) {
      printFailure(deps.out, err, '`npm run destroy`');
      return { ok: false, reason: 'step-failed', failure: err };
    }
    throw err;
  }
}
