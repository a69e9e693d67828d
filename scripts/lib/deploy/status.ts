import type { StackDescription } from './aws';
import { printFailure, printProblems, startSteps, twilioAuthHint, verifyServiceName, type CommandDeps, type CommandResult } from './common';
import { StepFailure } from './report';
import { loadTargetSettings, SERVICE_NAME } from './settings';
import type { TwilioInventory } from './twilio';

export interface StatusReport {
  twilio: TwilioInventory;
  stack: StackDescription | undefined;
  /** Whether everything a working deployment needs is in place. */
  complete: boolean;
}

/** `npm run status`: what exists, read-only. */
export async function status(deps: CommandDeps): Promise<CommandResult<StatusReport>> {
  const { steps, masker } = startSteps(deps);
  const loaded = loadTargetSettings(deps.env, { hasSharedAwsConfig: deps.hasSharedAwsConfig ?? false });
  if (!loaded.ok) {
    printProblems(deps.out, masker, loaded.problems, 'npm run status');
    return { ok: false, reason: 'invalid-configuration', problems: loaded.problems };
  }
  const s = loaded.settings;
  const twilio = deps.twilio(s);
  const aws = deps.aws(s);
  try {
    const inventory = await steps.run('Read the Twilio account', 'check the Twilio credentials in .env', async () => ({
      value: await twilio
        .inspect({ ...(s.phoneNumber ? { phoneNumber: s.phoneNumber } : {}), verifyServiceName: verifyServiceName(s.customerCode), ...(s.verifyServiceSid ? { verifyServiceSid: s.verifyServiceSid } : {}) })
        .catch(twilioAuthHint),
    }));
    const stack = await steps.run(`Read the AWS stack ${s.stackName}`, 'check the AWS credentials in .env', async () => ({ value: await aws.describeStack() }));

    const flow = inventory.flows[0];
    const numberOk = Boolean(flow && inventory.number?.smsUrl === flow.webhookUrl);
    const lines = [
      '',
      `Customer ${s.customerCode}: Twilio account ${s.twilio.accountSid}, AWS ${s.region}`,
      'Twilio',
      `  Functions service  ${inventory.service ? `${inventory.service.sid} (${SERVICE_NAME})` : 'not deployed'}`,
      ...(inventory.environment
        ? [
            `  Environment        ${inventory.environment.sid} https://${inventory.environment.domainName}`,
            `  Build              ${inventory.build ? `${inventory.build.sid} ${inventory.build.status}: ${inventory.build.functions.length} functions, ${inventory.build.assets.length} assets` : 'none deployed'}`,
            `  Variables          ${Object.keys(inventory.variables).sort().join(', ') || 'none'}`,
          ]
        : inventory.service
          ? ['  Environment        none']
          : []),
      `  Studio Flow        ${flow ? `${flow.sid} revision ${flow.revision}, ${flow.status}${flow.valid ? '' : ', INVALID'}` : 'not deployed'}`,
      ...(inventory.flows.length > 1 ? [`                     (${inventory.flows.length - 1} more with the same name: ${inventory.flows.slice(1).map((f) => f.sid).join(', ')})`] : []),
      `  Phone number       ${
        !s.phoneNumber
          ? 'TWILIO_PHONE_NUMBER not set'
          : !inventory.number
            ? `${s.phoneNumber} is not in this account`
            : `${s.phoneNumber} (${inventory.number.sid}): incoming SMS ${numberOk ? '→ the Studio Flow' : `→ ${inventory.number.smsUrl || 'nowhere'} (not the flow)`}`
      }`,
      `  Verify service     ${inventory.verifyService ? `${inventory.verifyService.sid} "${inventory.verifyService.friendlyName}"` : 'none'}`,
      'AWS',
      `  Stack              ${stack ? `${stack.name}: ${stack.status} (${stack.source})` : `${s.stackName}: not deployed`}`,
      ...(stack ? Object.entries(stack.outputs).map(([k, v]) => `    ${k.padEnd(28)} ${v}`) : []),
    ];
    for (const l of lines) steps.line(l);
    // Without CloudFormation's answer, the outputs of a deploy from this machine are the best evidence.
    const stackOk = stack ? (stack.status === 'unknown' ? Object.keys(stack.outputs).length > 0 : /_COMPLETE$/.test(stack.status) && !/ROLLBACK|DELETE/.test(stack.status)) : false;
    const complete = Boolean(inventory.build && flow && numberOk && inventory.verifyService && stackOk);
    steps.line('');
    steps.line(complete ? 'Everything a working deployment needs is in place.' : 'Incomplete: run `npm run deploy` to create or repair what is missing.');
    return { ok: true, value: { twilio: inventory, stack, complete } };
  } catch (err) {
    if (err instanceof StepFailure) {
      printFailure(deps.out, err, '`npm run status`');
      return { ok: false, reason: 'step-failed', failure: err };
    }
    throw err;
  }
}
