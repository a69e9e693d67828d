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
  // Each side is read on its own, so an unreachable Twilio still shows the AWS side and vice versa.
  const failures: StepFailure[] = [];
  const attempt = async <T>(run: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await run();
    } catch (err) {
      if (!(err instanceof StepFailure)) throw err;
      failures.push(err);
      return undefined;
    }
  };
  const inventory = await attempt(() =>
    steps.run('Read the Twilio account', 'check the Twilio credentials in .env and the network', async () => ({
      value: await twilio
        .inspect({
          ...(s.phoneNumber ? { phoneNumber: s.phoneNumber } : {}),
          verifyServiceName: verifyServiceName(s.customerCode),
          ...(s.verifyServiceSid ? { verifyServiceSid: s.verifyServiceSid } : {}),
        })
        .catch(twilioAuthHint),
    })),
  );
  const stack = await attempt(() =>
    steps.run(`Read the AWS stack ${s.stackName}`, 'check the AWS credentials in .env and the network', async () => ({
      value: await aws.describeStack(),
    })),
  );
  const twilioLines = inventory ? describeTwilio(inventory, s.phoneNumber) : ['  (not readable: see the failure below)'];
  const stackRead = failures.every((f) => !f.step.startsWith('Read the AWS stack'));
  const awsLines = !stackRead
    ? ['  (not readable: see the failure below)']
    : stack
      ? [
          `  Stack              ${stack.name}: ${stack.status} (${stack.source})`,
          ...Object.entries(stack.outputs).map(([k, v]) => `    ${k.padEnd(28)} ${v}`),
        ]
      : [`  Stack              ${s.stackName}: not deployed`];
  for (const l of [
    '',
    `Customer ${s.customerCode}: Twilio account ${s.twilio.accountSid}, AWS ${s.region}`,
    'Twilio',
    ...twilioLines,
    'AWS',
    ...awsLines,
  ])
    steps.line(l);
  for (const f of failures) printFailure(deps.out, f);
  if (!inventory || failures.length > 0) return { ok: false, reason: 'step-failed', failure: failures[0] as StepFailure };

  const flow = inventory.flows[0];
  const numberOk = Boolean(flow && inventory.number?.smsUrl === flow.webhookUrl);
  // Without CloudFormation's answer, the outputs of a deploy from this machine are the best evidence.
  const stackOk = stack
    ? stack.status === 'unknown'
      ? Object.keys(stack.outputs).length > 0
      : /_COMPLETE$/.test(stack.status) && !/ROLLBACK|DELETE/.test(stack.status)
    : false;
  const complete = Boolean(inventory.build && flow && numberOk && inventory.verifyService && stackOk);
  steps.line('');
  steps.line(
    complete
      ? 'Everything a working deployment needs is in place.'
      : 'Incomplete: run `npm run deploy` to create or repair what is missing.',
  );
  return { ok: true, value: { twilio: inventory, stack, complete } };
}

function describeTwilio(inventory: TwilioInventory, phoneNumber: string | undefined): string[] {
  const flow = inventory.flows[0];
  const numberOk = Boolean(flow && inventory.number?.smsUrl === flow.webhookUrl);
  return [
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
    ...(inventory.flows.length > 1
      ? [
          `                     (${inventory.flows.length - 1} more with the same name: ${inventory.flows
            .slice(1)
            .map((f) => f.sid)
            .join(', ')})`,
        ]
      : []),
    `  Phone number       ${
      !phoneNumber
        ? 'TWILIO_PHONE_NUMBER not set'
        : !inventory.number
          ? `${phoneNumber} is not in this account`
          : `${phoneNumber} (${inventory.number.sid}): incoming SMS ${numberOk ? '→ the Studio Flow' : `→ ${inventory.number.smsUrl || 'nowhere'} (not the flow)`}`
    }`,
    `  Verify service     ${inventory.verifyService ? `${inventory.verifyService.sid} "${inventory.verifyService.friendlyName}"` : 'none'}`,
  ];
}
