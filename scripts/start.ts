// `npm start`: the whole system on this machine, offline. See README "Run it locally".
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'dotenv';
import { LOCAL_VARIABLES } from '../src/config/local-settings';
import { startLocalStack } from '../src/local/stack';
import { portFrom } from '../src/local/stack-settings';
import { buildService, ROOT, SERVICE_DIR } from './lib/build-service';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main() {
  const envFile = path.join(ROOT, '.env');
  const fromFile = existsSync(envFile) ? parse(readFileSync(envFile)) : {};
  const merged: Record<string, string | undefined> = { ...fromFile, ...process.env };
  const env = Object.fromEntries(LOCAL_VARIABLES.map((k) => [k, merged[k]]));
  const port = portFrom(env, 'PORT', 3000);
  const dataDir = path.resolve(ROOT, env.LOCAL_DATA_DIR ?? '.local');

  const built = await buildService();
  console.log(`Built ${built.functions.length} Twilio Functions in ${built.ms} ms`);
  const stack = await startLocalStack({
    dataDir,
    serviceDir: SERVICE_DIR,
    port,
    host: env.HOST ?? '127.0.0.1',
    env,
    onStorageLost: (err) => {
      console.error(`${err.message}. Without it nothing can be stored, so the local stack stops; run npm start again.`);
      process.exit(1);
    },
  });

  console.log('');
  console.log(`Patient Appointment Management is running (local, offline)`);
  console.log(`  Admin page          ${stack.url}/`);
  console.log(`  EHR intake          POST ${stack.url}/ehr/events`);
  console.log(`  Raw-body receiver   POST ${stack.url}/raw/ehr/{events,hl7,fhir}  (raw ER7, application/fhir+json)`);
  console.log(`  Embedded S3         ${stack.s3.endpoint}  bucket ${stack.bucket}, data in ${path.relative(ROOT, stack.s3.directory)}/`);
  console.log('');
  console.log('Send events with this key (local only, generated on first start):');
  console.log(`EHR_API_KEY=${stack.env.EHR_API_KEY}`);
  console.log('');
  console.log("Log in to the admin page with this password (local only; the page's local panel shows the SMS code):");
  console.log(`APPLICATION_PASSWORD=${stack.env.APPLICATION_PASSWORD}`);
  console.log('');
  console.log('Press Ctrl-C to stop.');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    await stack.stop();
    console.log('Stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
