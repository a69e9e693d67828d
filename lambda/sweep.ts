// The reminder sweep Lambda, run by the EventBridge schedule in infra/stack.ts.
import { makeSweepHandler, sweepDepsFromEnv } from '../src/runtime/sweep';
import { lambdaEnvironment } from '../src/runtime/lambda-env';

export type { ScheduledEvent } from '../src/runtime/sweep';

export const handler = makeSweepHandler(() => sweepDepsFromEnv(lambdaEnvironment()));
