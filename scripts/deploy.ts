// `npm run deploy`: `.env` → the AWS stack, the Twilio Functions, the Studio Flow, the number's webhook.
import { buildService, SERVICE_DIR } from './lib/build-service';
import { exitCode, parseArgs, productionDeps, runMain } from './lib/deploy/cli';
import { deploy } from './lib/deploy/deploy';

runMain(async () => {
  const args = parseArgs(process.argv.slice(2), []);
  const deps = productionDeps(args.envFile);
  if (!deps.fileFound) console.log(`No ${args.envFile}: reading the variables from the environment only (copy .env.example to .env).`);
  const result = await deploy({
    ...deps,
    build: async () => ({ dir: SERVICE_DIR, functions: (await buildService()).functions }),
  });
  return exitCode(result);
});
