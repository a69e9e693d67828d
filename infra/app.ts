import { App } from 'aws-cdk-lib';
import { readDeploySettings } from './settings';
import { AppointmentStack } from './stack';

// The CDK CLI runs this (cdk.json) and synthesizes when it exits.
const app = new App();
try {
  const { stackName, props } = readDeploySettings((key) => app.node.tryGetContext(key), process.env);
  new AppointmentStack(app, stackName, {
    ...props,
    // Set by the CLI when credentials are available; without them the stack stays environment-agnostic.
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
