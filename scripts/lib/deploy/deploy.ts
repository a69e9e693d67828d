import { randomBytes } from 'node:crypto';
import { originMarker } from '../../../src/messaging/origin-marker';
import { loadFlowTemplate, renderFlow } from '../../../studio/render-flow';
import { functionsKeySlotsOf, functionsKeysOf, type StackOutputs } from './aws';
import { stackContext } from './cdk';
import { printFailure, printProblems, startSteps, twilioAuthHint, verifyServiceName, type CommandDeps, type CommandResult } from './common';
import { functionsEnvironment, functionsEnvironmentProblems } from './functions-env';
import { ActionableError, formatDuration, StepFailure } from './report';
import { loadDeploySettings, type DeploySettings } from './settings';
import { integrationDetails } from './summary';
import { describeEdit } from './flow-edits';
import type { FlowEdits, FlowInfo, FunctionsDeployment, Outcome, TwilioInventory } from './twilio';

export interface DeployDeps extends CommandDeps {
  /** Builds the Functions service folder (build/service) and returns it. */
  build: () => Promise<{ dir: string; functions: string[] }>;
  /** Generates SESSION_SECRET the first time (kept on the service afterwards). */
  randomSecret?: () => string;
  /** `--replace-flow`: publish studio/flow.json even over texts a clinic edited in the Studio canvas. */
  replaceFlow?: boolean;
}

export interface DeploySummary {
  stackName: string;
  outputs: StackOutputs;
  functions: FunctionsDeployment;
  flow: FlowInfo & { outcome: Outcome };
  numberSid: string;
  verifyServiceSid: string;
}

const RERUN = '`npm run deploy`';

/**
 * `npm run deploy`: from `.env` to a working deployment, in an order where every step only needs
 * what the steps before it produced. Re-running finds what exists (service and flow by name, the
 * stack by its name) and updates it, so a second run adds nothing but new versions.
 */
export async function deploy(deps: DeployDeps): Promise<CommandResult<DeploySummary>> {
  const { steps, masker } = startSteps(deps);
  const started = (deps.now ?? (() => performance.now()))();
  const loaded = loadDeploySettings(deps.env, { hasSharedAwsConfig: deps.hasSharedAwsConfig ?? false });
  if (!loaded.ok) {
    printProblems(deps.out, masker, loaded.problems, 'npm run deploy');
    return { ok: false, reason: 'invalid-configuration', problems: loaded.problems };
  }
  const s = loaded.settings;
  steps.line(
    `Deploying "${s.customerName}" (customer code ${s.customerCode}) to Twilio account ${s.twilio.accountSid} and AWS ${s.region}`,
  );
  const twilio = deps.twilio(s);
  const aws = deps.aws(s);

  try {
    const inventory = await steps.run(
      'Find what already exists on Twilio',
      'check the Twilio credentials in .env and your network, then run `npm run deploy` again',
      async (ctx) => {
        const found = await twilio
          .inspect({
            phoneNumber: s.phoneNumber,
            verifyServiceName: verifyServiceName(s.customerCode),
            ...(s.verifyServiceSid ? { verifyServiceSid: s.verifyServiceSid } : {}),
          })
          .catch(twilioAuthHint);
        checkInventory(s, found);
        if (found.flows.length > 1)
          ctx.note(`${found.flows.length} flows are named patient-appointment-management; using ${found.flows[0]?.sid}`);
        return { value: found, summary: describeInventory(found) };
      },
    );
    if (s.messagingServiceSid) {
      const sid = s.messagingServiceSid;
      await steps.run(
        'Check the Messaging Service',
        'set TWILIO_MESSAGING_SERVICE_SID to a Messaging Service of this account that holds TWILIO_PHONE_NUMBER (Console → Messaging → Services), or leave it unset, then run `npm run deploy` again',
        async () => {
          const m = await twilio.fetchMessagingService(sid);
          if (!m)
            throw new Error(`TWILIO_MESSAGING_SERVICE_SID ${sid} is not a Messaging Service of Twilio account ${s.twilio.accountSid}`);
          return { value: undefined, summary: `${m.sid} found` };
        },
      );
    }
    // checkInventory guarantees the number is there.
    const number = inventory.number as NonNullable<TwilioInventory['number']>;
    const knownFlowSid = inventory.flows[0]?.sid;

    // Before anything is deployed: refusing after the Functions went up would leave them ahead of the flow.
    const edits = knownFlowSid
      ? await steps.run(
          'Check the Studio Flow for edits made in the canvas',
          'check the Twilio error above, then run `npm run deploy` again',
          async () => {
            const found = await twilio.flowEdits(
              knownFlowSid,
              flowDefinition(s, {
                domain: inventory.environment?.domainName ?? '',
                serviceSid: inventory.service?.sid,
                environmentSid: inventory.environment?.sid,
                functionSids: Object.fromEntries((inventory.build?.functions ?? []).map((f) => [f.path.replace(/^\//, ''), f.sid])),
              }),
            );
            if (found.changes.length === 0) return { value: found, summary: `revision ${found.revision} is the one deployed` };
            if (!deps.replaceFlow) throw canvasEditsRefused(knownFlowSid, found);
            return {
              value: found,
              summary: `--replace-flow: studio/flow.json will replace ${describeEdits(found)}`,
            };
          },
        )
      : undefined;

    const built = await steps.run(
      'Build the Functions',
      'run `npm run build` to see the compiler errors, fix them, and run `npm run deploy` again',
      async () => {
        const b = await deps.build();
        return { value: b, summary: `${b.functions.length} functions bundled` };
      },
    );

    const outputs = await steps.run(
      `Deploy the AWS stack ${s.stackName}`,
      'read the CDK messages above, fix the cause, and run `npm run deploy` again',
      async (ctx) => {
        const keySlots = functionsKeySlotsOf((await aws.describeStack())?.outputs ?? {});
        const o = await aws.deployStack(stackContext(s, knownFlowSid, keySlots), ctx.note);
        return { value: o, summary: `bucket ${o.BucketName}, sweep ${o.SweepFunctionName}` };
      },
    );

    const key = await steps.run(
      'Store the Twilio credentials for the reminder sweep',
      'check that the AWS credentials may read and write Secrets Manager secrets, then run `npm run deploy` again',
      async () => {
        const stored = await aws.putTwilioSecret(outputs.TwilioSecretArn, {
          account_sid: s.twilio.accountSid,
          api_key_sid: s.twilio.apiKeySid,
          api_key_secret: s.twilio.apiKeySecret,
          ie_signing_secret: s.ieSigningSecret,
        });
        // The key the Functions use now (after an interrupted rotation there may be two), else the first.
        const keys = functionsKeysOf(outputs);
        const chosen = keys.find((k) => k.accessKeyId === inventory.variables.AWS_ACCESS_KEY_ID) ?? keys[0];
        if (!chosen)
          throw new Error(`the outputs of ${s.stackName} name no access key for the Functions (infra/stack.ts and the deploy disagree)`);
        const k = await aws.readFunctionsKey(chosen.secretArn);
        masker.add(k.secretAccessKey);
        return { value: k, summary: `Twilio secret ${stored}; the Functions' S3 key read from Secrets Manager` };
      },
    );

    if (s.rawReceiver) {
      await steps.run(
        "Store the raw-body receiver's secrets",
        'check that the AWS credentials may write Secrets Manager secrets, then run `npm run deploy` again',
        async () => {
          if (!outputs.IntakeSecretArn || !outputs.ReceiverUrl)
            throw new Error(
              `the outputs of ${s.stackName} name no receiver although RAW_RECEIVER=true (infra/stack.ts and the deploy disagree)`,
            );
          const fields = { EHR_API_KEY: s.ehrApiKey, ...pickSecrets(s.intake) };
          const stored = await aws.putIntakeSecret(outputs.IntakeSecretArn, fields);
          return { value: undefined, summary: `intake secret ${stored} (${Object.keys(fields).join(', ')})` };
        },
      );
    }

    const verifyServiceSid = await steps.run(
      'Prepare the admin login (Twilio Verify)',
      'check that the API key may manage Verify services, then run `npm run deploy` again',
      async () => {
        if (inventory.verifyService) return { value: inventory.verifyService.sid, summary: `${inventory.verifyService.sid} (existing)` };
        const v = await twilio.ensureVerifyService(verifyServiceName(s.customerCode));
        return { value: v.sid, summary: `${v.sid} (${v.outcome})` };
      },
    );

    const sessionSecret =
      s.sessionSecret ?? inventory.variables.SESSION_SECRET ?? (deps.randomSecret ?? (() => randomBytes(32).toString('hex')))();
    masker.add(sessionSecret);
    const envFor = (flowSid: string | undefined) =>
      functionsEnvironment(s, { outputs, key, verifyServiceSid, sessionSecret, ...(flowSid ? { flowSid } : {}) });

    const functions = await steps.run(
      'Deploy the Functions and assets',
      'read the Twilio error above, fix the cause, and run `npm run deploy` again',
      async (ctx) => {
        const env = envFor(knownFlowSid);
        const problems = functionsEnvironmentProblems(env);
        if (problems.length > 0) {
          throw new Error(
            `the computed Functions environment is invalid (a deploy bug): ${problems.map((p) => `${p.variable} ${p.problem}`).join('; ')}`,
          );
        }
        const d = await twilio.deployFunctions({
          ...(inventory.service ? { serviceSid: inventory.service.sid } : {}),
          serviceDir: built.dir,
          env,
          onProgress: ctx.note,
        });
        return {
          value: d,
          summary: `${inventory.service ? 'updated' : 'created'} ${d.serviceSid} at https://${d.domain} (build ${d.buildSid})`,
        };
      },
    );

    const flow = await steps.run(
      'Publish the Studio Flow',
      'read the Studio errors above (they name the widget and property), fix studio/flow.json, and run `npm run deploy` again',
      async () => {
        const definition = flowDefinition(s, functions);
        await twilio.validateFlow(definition).catch((err: unknown) => {
          throw new ActionableError(
            `Studio refused studio/flow.json: ${(err as Error).message}${validationDetails(err)}`,
            'fix studio/flow.json where the errors point, check it with `npm test`, and run `npm run deploy` again',
          );
        });
        const replacing = edits && edits.changes.length > 0 ? edits.revision : undefined;
        const f = await twilio.saveFlow(knownFlowSid, definition, replacing);
        const replaced = replacing === undefined ? '' : ` (replaced the canvas edits of revision ${replacing})`;
        return { value: f, summary: `${f.outcome} ${f.sid}, revision ${f.revision}, published${replaced}` };
      },
    );

    await steps.run(
      'Connect the flow to the Functions and the phone number',
      'check the Twilio error above, then run `npm run deploy` again',
      async () => {
        const vars = await twilio.setVariables(functions.serviceSid, functions.environmentSid, envFor(flow.sid));
        const pointed = await twilio.pointNumber(number.sid, flow.webhookUrl);
        const changed = vars.changed.length + vars.removed.length;
        return {
          value: undefined,
          summary: `${changed === 0 ? 'variables unchanged' : `variables changed: ${[...vars.changed, ...vars.removed.map((k) => `-${k}`)].join(', ')}`}; ${s.phoneNumber} → flow ${pointed}`,
        };
      },
    );

    if (s.messagingServiceSid) {
      const sid = s.messagingServiceSid;
      await steps.run(
        'Send delivery receipts to the status Function',
        'check the Twilio error above, then run `npm run deploy` again',
        async () => {
          const url = `https://${functions.domain}/twilio/status`;
          const outcome = await twilio.pointStatusCallback(sid, url);
          return { value: undefined, summary: `${sid} status callback → ${url} (${outcome})` };
        },
      );
    }

    if (flow.sid !== knownFlowSid) {
      await steps.run(
        'Give the reminder sweep the new flow',
        'run `npm run deploy` again: the stack is then deployed with the flow from the start',
        async (ctx) => {
          await aws.deployStack(stackContext(s, flow.sid, functionsKeySlotsOf(outputs)), ctx.note);
          return { value: undefined, summary: `TWILIO_FLOW_SID=${flow.sid}` };
        },
      );
    }

    steps.line('');
    steps.line(`Deployed in ${formatDuration((deps.now ?? (() => performance.now()))() - started)}.`);
    steps.line('');
    for (const line of integrationDetails(s, functions.domain, outputs.ReceiverUrl)) steps.line(line);
    return { ok: true, value: { stackName: s.stackName, outputs, functions, flow, numberSid: number.sid, verifyServiceSid } };
  } catch (err) {
    if (err instanceof StepFailure) {
      printFailure(deps.out, err, RERUN);
      return { ok: false, reason: 'step-failed', failure: err };
    }
    throw err;
  }
}

function flowDefinition(
  s: DeploySettings,
  at: { domain: string; serviceSid?: string | undefined; environmentSid?: string | undefined; functionSids: Record<string, string> },
): Record<string, unknown> {
  return renderFlow(loadFlowTemplate(), {
    functionsBaseUrl: `https://${at.domain}`,
    ieEndpoint: s.ieEndpoint,
    customerName: s.customerName,
    originMarker: originMarker(s.ieSigningSecret),
    ...(at.serviceSid ? { serviceSid: at.serviceSid } : {}),
    ...(at.environmentSid ? { environmentSid: at.environmentSid } : {}),
    functionSids: at.functionSids,
  });
}

function describeEdits(e: FlowEdits): string {
  const what = e.status === 'draft' ? `the unpublished draft (revision ${e.revision})` : `revision ${e.revision}`;
  return `${what}: ${e.changes.map(describeEdit).join('; ')}`;
}

/** The flow texts are the clinic's wording, not patient data, so the operator may see which changed. */
function canvasEditsRefused(sid: string, e: FlowEdits): ActionableError {
  const since =
    e.deployedRevision === undefined
      ? 'no revision of it was published by `npm run deploy`'
      : `it was edited in the Studio canvas after revision ${e.deployedRevision}, the last one \`npm run deploy\` published`;
  return new ActionableError(
    `the Studio Flow ${sid} would lose edits: ${since}. Nothing was changed. Differing from studio/flow.json, ${describeEdits(e)}`,
    "copy the wording you want to keep into studio/flow.json and run `npm run deploy` again (widgets that match are not counted), or run `npm run deploy -- --replace-flow` to publish studio/flow.json over the canvas edits (they stay in the flow's revision history)",
  );
}

function pickSecrets(intake: DeploySettings['intake']): Record<string, string> {
  return Object.fromEntries((['FHIR_BEARER_TOKEN', 'FHIR_CLIENT_SECRET'] as const).flatMap((k) => (intake[k] ? [[k, intake[k]]] : [])));
}

function validationDetails(err: unknown): string {
  const errors = (err as { details?: { errors?: { property_path?: string; message?: string }[] } }).details?.errors ?? [];
  return errors.length === 0 ? '' : `\n        ${errors.map((e) => `${e.property_path ?? ''}: ${e.message ?? ''}`).join('\n        ')}`;
}

function checkInventory(s: DeploySettings, inventory: TwilioInventory): void {
  if (!inventory.number) {
    throw new ActionableError(
      `${s.phoneNumber} is not a phone number of Twilio account ${s.twilio.accountSid}`,
      'buy or port the number in the Twilio Console (Phone Numbers → Manage), or set TWILIO_PHONE_NUMBER to one the account owns',
    );
  }
  if (s.verifyServiceSid && !inventory.verifyService) {
    throw new ActionableError(
      `VERIFY_SERVICE_SID ${s.verifyServiceSid} is not a Verify service of this account`,
      'use the SID of one of your Verify services, or leave VERIFY_SERVICE_SID empty and the deploy creates one',
    );
  }
}

function describeInventory(i: TwilioInventory): string {
  const parts = [
    i.service ? `service ${i.service.sid}` : 'no service yet',
    i.flows[0] ? `flow ${i.flows[0].sid} (revision ${i.flows[0].revision})` : 'no flow yet',
    i.number ? `number ${i.number.sid}` : 'number not found',
  ];
  return parts.join(', ');
}
