// The raw-body receiver Lambda behind the Function URL of infra/stack.ts (RAW_RECEIVER=true).
import { lambdaEnvironment } from '../src/runtime/lambda-env';
import { makeReceiverHandler, receiverDepsFromEnv } from '../src/runtime/receiver';

export type { FunctionUrlEvent, FunctionUrlResult } from '../src/http/raw-receiver';

export const handler = makeReceiverHandler(() => receiverDepsFromEnv(lambdaEnvironment()));
