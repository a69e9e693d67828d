/**
 * The Functions' access key slots, shared by the stack and the deploy (which must not load
 * aws-cdk-lib to read its outputs). IAM allows two access keys per user, so two slots.
 */
export const FUNCTIONS_KEY_SLOTS = ['a', 'b'] as const;
export type FunctionsKeySlot = (typeof FUNCTIONS_KEY_SLOTS)[number];

/** Construct ids and output names of a slot; slot a keeps the names from before slots existed. */
export function functionsKeyNames(slot: FunctionsKeySlot) {
  const suffix = slot === 'a' ? '' : slot.toUpperCase();
  return {
    key: `FunctionsAccessKey${suffix}`,
    secret: `FunctionsAccessKeySecret${suffix}`,
    secretName: (code: string) => `appointments-${code}/functions-s3-key${slot === 'a' ? '' : `-${slot}`}`,
    idOutput: `FunctionsAccessKeyId${suffix}`,
    secretOutput: `FunctionsAccessKeySecretArn${suffix}`,
  };
}
