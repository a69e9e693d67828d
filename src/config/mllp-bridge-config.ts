import { z } from 'zod';
import { FunctionsConfig, loadConfig, type Env } from './config';

const port = (fallback: number) =>
  z.coerce
    .number({ error: 'is not a number' })
    .int({ error: 'is not a whole number' })
    .min(0, { error: 'must be 0–65535' })
    .max(65535, { error: 'must be 0–65535' })
    .default(fallback);

/** The MLLP bridge (`npm run mllp-bridge`): where it listens and where it forwards to. */
export const MllpBridgeConfig = z.object({
  MLLP_HOST: z
    .string()
    .default('127.0.0.1')
    .meta({ fix: 'the interface to listen on; 0.0.0.0 to accept engines on the network (keep it inside the clinic network)' }),
  MLLP_PORT: port(2575).meta({ fix: 'a TCP port, e.g. 2575 (the usual HL7 port)' }),
  HL7_ENDPOINT: z
    .url({ error: (i) => (i.input === undefined ? 'is not set' : 'is not a URL') })
    .refine(
      (u) => !URL.canParse(u) || new URL(u).protocol === 'https:' || ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(u).hostname),
      { error: 'must be https (plain http only to this machine)' },
    )
    .meta({ fix: 'the URL of POST /ehr/hl7, e.g. https://<service>.twil.io/ehr/hl7 (printed by `npm run deploy`)' }),
  EHR_API_KEY: FunctionsConfig.shape.EHR_API_KEY,
  MLLP_MAX_FRAME_BYTES: z.coerce
    .number({ error: 'is not a number' })
    .int()
    .min(1024, { error: 'must be at least 1024' })
    .max(256 * 1024, { error: 'must be at most 262144 (the endpoint accepts no more)' })
    .default(256 * 1024)
    .meta({ fix: 'bytes per message, e.g. 262144' }),
  MLLP_TIMEOUT_MS: z.coerce
    .number({ error: 'is not a number' })
    .int()
    .min(1000)
    .max(60_000)
    .default(15_000)
    .meta({ fix: 'milliseconds per forwarded message, e.g. 15000' }),
});
export type MllpBridgeConfig = z.infer<typeof MllpBridgeConfig>;

export function loadMllpBridgeConfig(env: Env) {
  const fixes = Object.fromEntries(
    Object.entries(MllpBridgeConfig.shape).map(([k, s]) => [k, String((s.meta() as { fix?: string } | undefined)?.fix ?? '')]),
  );
  return loadConfig(MllpBridgeConfig, env, fixes);
}
