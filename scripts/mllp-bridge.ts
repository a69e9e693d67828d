// `npm run mllp-bridge`: HL7 v2 over MLLP from an on-premises engine → POST /ehr/hl7 (README, "Connecting an HL7 v2 feed").
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'dotenv';
import { describeProblems } from '../src/config/config';
import { loadMllpBridgeConfig } from '../src/config/mllp-bridge-config';
import { startMllpBridge } from '../src/mllp/bridge';
import { isAddressInUse, PortInUseError } from '../src/local/busy-port';

const ROOT = path.resolve(__dirname, '..');

function main() {
  const { values } = parseArgs({
    options: { host: { type: 'string' }, port: { type: 'string' }, endpoint: { type: 'string' }, 'max-frame-bytes': { type: 'string' } },
  });
  const envFile = path.join(ROOT, '.env');
  const env: Record<string, string | undefined> = { ...(existsSync(envFile) ? parse(readFileSync(envFile)) : {}), ...process.env };
  if (values.host) env.MLLP_HOST = values.host;
  if (values.port) env.MLLP_PORT = values.port;
  if (values.endpoint) env.HL7_ENDPOINT = values.endpoint;
  if (values['max-frame-bytes']) env.MLLP_MAX_FRAME_BYTES = values['max-frame-bytes'];
  // Against `npm start` on this machine, the local stack's generated key is the one to use.
  const local = path.resolve(ROOT, env.LOCAL_DATA_DIR ?? '.local', 'local-secrets.json');
  if (env.HL7_ENDPOINT && /^http:\/\/(127\.0\.0\.1|localhost)[:/]/.test(env.HL7_ENDPOINT) && existsSync(local)) {
    env.EHR_API_KEY = (JSON.parse(readFileSync(local, 'utf8')) as { EHR_API_KEY?: string }).EHR_API_KEY;
  }
  const loaded = loadMllpBridgeConfig(env);
  if (!loaded.ok) {
    console.error(`The MLLP bridge cannot start:\n${describeProblems(loaded.problems)}`);
    process.exit(1);
  }
  const c = loaded.config;
  startMllpBridge({
    host: c.MLLP_HOST,
    port: c.MLLP_PORT,
    endpoint: c.HL7_ENDPOINT,
    apiKey: c.EHR_API_KEY,
    maxFrameBytes: c.MLLP_MAX_FRAME_BYTES,
    timeoutMs: c.MLLP_TIMEOUT_MS,
  })
    .then((bridge) => console.log(`MLLP bridge on ${c.MLLP_HOST}:${bridge.port} → ${c.HL7_ENDPOINT}`))
    .catch((err: unknown) => {
      const why = isAddressInUse(err) ? new PortInUseError('MLLP_PORT', c.MLLP_PORT, c.MLLP_HOST) : (err as Error);
      console.error(`The MLLP bridge cannot listen: ${why.message}`);
      process.exit(1);
    });
}

main();
