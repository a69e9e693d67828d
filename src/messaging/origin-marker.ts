import { createHmac } from 'node:crypto';

/**
 * The value our Functions and the sweep put in every Studio execution they start
 * (`flow.data.origin`), and the flow compares with the constant rendered into it at deploy. It is
 * derived from the secret shared with the EHR integration engine (IE_SIGNING_SECRET), so only a
 * holder of that secret can produce it: an execution started by anyone else (an engine built for
 * the reference app, posting its events to the flow) takes the branch that records the event
 * through /studio/event first. A label keeps the derived value unrelated to the HMAC signatures
 * made with the same secret.
 */
export function originMarker(ieSigningSecret: string): string {
  return createHmac('sha256', ieSigningSecret).update('studio-execution-origin/v1').digest('hex').slice(0, 32);
}
