import { Duration, type Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { INTAKE_OBJECT_ACCESS } from '../object-access';
import { acknowledge, SECRET_KEY_REASON } from './acknowledge';
import { ScopedLambda } from './scoped-lambda';

const RECEIVER_CONCURRENCY = 10;
const RECEIVER_AUTH_REASON =
  'integration engines send a static bearer key (EHR_API_KEY), not SigV4: the receiver checks it in code, in constant time, before reading the request, as the Twilio Functions do';
const ROTATION_REASON =
  'the EHR key is shared with the integration engine and the Twilio Functions, which Secrets Manager cannot reach; it changes in .env and `npm run deploy` writes it here';

export interface ReceiverProps {
  code: string;
  bucket: s3.Bucket;
  twilioSecret: secretsmanager.Secret;
  /** What the sweep runs with; the receiver adds its intake settings and secret. */
  environment: Record<string, string>;
  logRetention?: logs.RetentionDays;
}

/**
 * The raw-body receiver: a Lambda with a Function URL. The URL's auth type is NONE because
 * engines send a static bearer key, not SigV4; the handler checks EHR_API_KEY in constant time
 * before reading anything else, as the Functions do. The key and the FHIR secrets are read
 * from a secret of their own at cold start, never put in the environment.
 */
export class Receiver {
  readonly fn: NodejsFunction;
  readonly url: lambda.FunctionUrl;
  readonly intakeSecret: secretsmanager.Secret;

  constructor(stack: Stack, props: ReceiverProps) {
    const { code } = props;
    this.intakeSecret = new secretsmanager.Secret(stack, 'IntakeSecret', {
      secretName: `appointments-${code}/intake`,
      description: `EHR_API_KEY and the FHIR credentials of the raw-body receiver (${code}); written by the deploy step`,
      // A random key nobody knows until the deploy writes the real one: the receiver refuses everything meanwhile.
      generateSecretString: {
        secretStringTemplate: JSON.stringify({}),
        generateStringKey: 'EHR_API_KEY',
        excludePunctuation: true,
        passwordLength: 48,
      },
    });
    acknowledge(this.intakeSecret, [
      ['AwsSolutions::AwsSolutions-SMG4', ROTATION_REASON],
      ['HIPAA.Security::HIPAA.Security-SecretsManagerRotationEnabled', ROTATION_REASON],
      ['HIPAA.Security::HIPAA.Security-SecretsManagerUsingKMSKey', SECRET_KEY_REASON],
    ]);
    this.fn = new ScopedLambda(stack, 'Receiver', {
      name: `appointment-receiver-${code}`,
      entry: 'receiver.ts',
      description: 'EHR intake for raw ER7 and application/fhir+json bodies (the same handlers as the Twilio Functions)',
      roleDescription: 'The raw-body receiver Lambda (EHR intake behind a Function URL)',
      policyDescription: 'What the raw-body receiver may do: the intake key families of the data bucket, its two secrets, its log group',
      // Engines wait for the answer; athena's rest-hooks give 2 s, a FHIR fetch may take a few more.
      timeout: Duration.seconds(15),
      memorySize: 512,
      // An open URL: a flood costs at most this many concurrent runs, and the Studio and S3 rates
      // stay where one clinic's feed puts them. Requests beyond it get 429 and the engine resends.
      reservedConcurrentExecutions: RECEIVER_CONCURRENCY,
      environment: { ...props.environment, INTAKE_SECRET_ARN: this.intakeSecret.secretArn },
      logRetention: props.logRetention,
      logs: 'the receiver logs ids, codes and counts only',
      bucket: props.bucket,
      access: INTAKE_OBJECT_ACCESS,
      secrets: new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [props.twilioSecret.secretArn, this.intakeSecret.secretArn],
      }),
      outsideVpc:
        'the receiver is reached through its Function URL and calls Twilio and the EHR FHIR server on the internet; a VPC would add a NAT gateway and nothing else, as S3 and Secrets Manager are reached over TLS with IAM either way',
      noDeadLetterQueue:
        'invoked synchronously by its Function URL: the engine gets the answer and resends on failure, so there is no asynchronous event to keep',
    }).fn;
    this.url = this.fn.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
    // AuthType NONE makes CDK add the public invoke permissions (the URL's and, as AWS now requires, the function's).
    for (const id of ['invoke-function-url', 'invoke-function']) {
      const permission = this.fn.node.tryFindChild(id);
      if (permission)
        acknowledge(permission, [['HIPAA.Security::HIPAA.Security-LambdaFunctionPublicAccessProhibited', RECEIVER_AUTH_REASON]]);
    }
  }
}
