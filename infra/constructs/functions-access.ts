import { SecretValue, type Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { functionsKeyNames, type FunctionsKeySlot } from '../key-slots';
import { acknowledgeObjectPatterns, FUNCTIONS_OBJECT_ACCESS, objectAccessStatements } from '../object-access';
import { acknowledge, SECRET_KEY_REASON } from './acknowledge';

const ROTATION_REASON =
  'the key must also change in the Twilio Functions environment, which Secrets Manager cannot reach: `npm run rotate-keys` rotates it (docs/deploy.md)';

/**
 * Twilio Functions cannot assume a role, so they get a user with an access key per slot; its
 * permissions come from a group, never from policies on the user itself. Added to the stack itself,
 * so the logical ids of deployed stacks stay what they were.
 */
export class FunctionsAccess {
  readonly user: iam.User;
  /** The key secrets by slot. */
  readonly keySecrets: Partial<Record<FunctionsKeySlot, secretsmanager.Secret>> = {};
  /** The stack outputs naming each slot's key id and secret: id, value, description. */
  readonly outputs: [string, string, string][] = [];

  constructor(stack: Stack, code: string, bucket: s3.Bucket, slots: FunctionsKeySlot[]) {
    const policy = new iam.ManagedPolicy(stack, 'FunctionsAccess', {
      managedPolicyName: `appointments-functions-${code}`,
      description: 'What the Twilio Functions may do: their key families of the data bucket',
      statements: objectAccessStatements(bucket, FUNCTIONS_OBJECT_ACCESS),
    });
    acknowledgeObjectPatterns(policy, bucket, FUNCTIONS_OBJECT_ACCESS);
    const group = new iam.Group(stack, 'FunctionsGroup', {
      groupName: `appointments-functions-${code}`,
      managedPolicies: [policy],
    });
    this.user = new iam.User(stack, 'FunctionsUser', { userName: `appointments-functions-${code}`, groups: [group] });
    for (const slot of slots) {
      const names = functionsKeyNames(slot);
      const accessKey = new iam.AccessKey(stack, names.key, { user: this.user });
      const secret = new secretsmanager.Secret(stack, names.secret, {
        secretName: names.secretName(code),
        description: `S3 access key of the Twilio Functions (${code}, slot ${slot}); the deploy step copies it into the Functions environment`,
        // Field names match the Functions configuration variables.
        secretObjectValue: {
          AWS_ACCESS_KEY_ID: SecretValue.resourceAttribute(accessKey.accessKeyId),
          AWS_SECRET_ACCESS_KEY: accessKey.secretAccessKey,
        },
      });
      acknowledge(secret, [
        ['AwsSolutions::AwsSolutions-SMG4', ROTATION_REASON],
        ['HIPAA.Security::HIPAA.Security-SecretsManagerRotationEnabled', ROTATION_REASON],
        ['HIPAA.Security::HIPAA.Security-SecretsManagerUsingKMSKey', SECRET_KEY_REASON],
      ]);
      this.keySecrets[slot] = secret;
      this.outputs.push([names.idOutput, accessKey.accessKeyId, `AWS_ACCESS_KEY_ID of key slot ${slot} for the Twilio Functions`]);
      this.outputs.push([names.secretOutput, secret.secretArn, `Secret holding AWS_SECRET_ACCESS_KEY of key slot ${slot}`]);
    }
  }
}
