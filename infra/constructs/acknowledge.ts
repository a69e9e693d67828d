import { Validations } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/** Records why a finding of the cdk-nag packs (AwsSolutions, HIPAA Security) does not apply here. */
export function acknowledge(scope: Construct, findings: [id: string, reason: string][]): void {
  for (const [id, reason] of findings) Validations.of(scope).acknowledge({ id, reason });
}

export const REPLICATION_REASON =
  'one region by design; versioning and the retained bucket are the recovery path, and a replica region is a per-customer decision (it doubles where the data lives)';
export const SECRET_KEY_REASON =
  "encrypted with the account's AWS managed Secrets Manager key; who may read it is decided by IAM (only the sweep reads the Twilio secret, only the deployer the key secret)";
