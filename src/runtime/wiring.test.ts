import { describe, expect, it } from 'vitest';
import { FUNCTIONS_ENV } from '../../test/fixtures/env';
import { adminRuntime } from '../admin/runtime';
import { DEFAULT_REMINDER_POLICY } from '../domain/reminder-plan';
import { REMINDER_VARIABLES } from '../config/rules';
import { loadFunctionsConfig } from '../config/config';
import { functionsRuntime } from './functions';
import { receiverDepsFromEnv } from './receiver';
import { sweepDepsFromEnv } from './sweep';
import { TwilioFlowStarter } from '../messaging/twilio-flow-starter';

/** One environment as `npm start` hands it to every runtime (the Lambdas get the API key, the Functions the token). */
const ENV = {
  ...FUNCTIONS_ENV,
  S3_BUCKET: 'appointments-wiring',
  S3_ENDPOINT: 'http://127.0.0.1:9',
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
  TWILIO_API_KEY_SID: `SK${'3'.repeat(32)}`,
  TWILIO_API_KEY_SECRET: 's'.repeat(32),
  TWILIO_API_BASE_URL: 'http://127.0.0.1:9/twilio',
};

async function everyRuntime(env: Record<string, string>) {
  const functions = functionsRuntime(env);
  const sweep = await sweepDepsFromEnv(env);
  const receiver = await receiverDepsFromEnv(env);
  const admin = adminRuntime(env);
  return { functions, sweep, receiver, admin };
}

function targetOf(flows: unknown) {
  expect(flows).toBeInstanceOf(TwilioFlowStarter);
  return (flows as TwilioFlowStarter).target;
}

describe('one composition root', () => {
  it('gives the Functions, the sweep and the receiver the same reminder policy and sender, from the Messaging Service', async () => {
    const env = {
      ...ENV,
      TWILIO_MESSAGING_SERVICE_SID: `MG${'4'.repeat(32)}`,
      REMINDER_FIRST_TIMING: '7200',
      REMINDER_SECOND_TIMING: '0130',
      REMINDER_OUTREACH_START: '0915',
      REMINDER_OUTREACH_FINISH: '1945',
      REMINDER_MIN_GAP_HOURS: '6',
    };
    const { functions, sweep, receiver } = await everyRuntime(env);
    const expected = {
      firstLeadMinutes: 72 * 60,
      secondLeadMinutes: 90,
      outreachStartMinutes: 9 * 60 + 15,
      outreachFinishMinutes: 19 * 60 + 45,
      minGapMinutes: 6 * 60,
    };
    for (const policy of [functions.policy, sweep.policy, receiver.policy, receiver.record.policy, functions.record.policy]) {
      expect(policy).toEqual(expected);
    }
    const targets = [targetOf(functions.flows), targetOf(sweep.flows), targetOf(receiver.flows)];
    for (const t of targets) expect(t).toEqual({ flowSid: env.TWILIO_FLOW_SID, from: env.TWILIO_MESSAGING_SERVICE_SID });
  });

  it('starts from the clinic number when there is no Messaging Service, in every runtime', async () => {
    const { functions, sweep, receiver } = await everyRuntime(ENV);
    for (const flows of [functions.flows, sweep.flows, receiver.flows]) expect(targetOf(flows).from).toBe(ENV.TWILIO_PHONE_NUMBER);
  });

  it('uses the one set of reminder defaults when nothing is set', async () => {
    const { functions, sweep, receiver } = await everyRuntime(ENV);
    const { maxRemindersPerLocalDay: _cap, ...defaults } = DEFAULT_REMINDER_POLICY;
    for (const policy of [functions.policy, sweep.policy, receiver.policy]) expect(policy).toEqual(defaults);
    // The HHMM defaults the deploy and the stack write are the same numbers, spelled the reference app's way.
    expect(Object.values(REMINDER_VARIABLES).map((v) => v.default)).toEqual(['4800', '2400', '0800', '2100']);
    const loaded = loadFunctionsConfig(ENV);
    expect(loaded.ok && loaded.config.REMINDER_MIN_GAP_HOURS * 60).toBe(DEFAULT_REMINDER_POLICY.minGapMinutes);
  });

  it('files the admin records in the same bucket the appointments are in', async () => {
    const { functions, admin } = await everyRuntime(ENV);
    expect(admin.store.bucket).toBe(ENV.S3_BUCKET);
    expect(admin.records).not.toBe(functions.store);
  });
});
