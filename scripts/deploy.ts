// `npm run deploy`: `.env` → the AWS stack, the Twilio Functions, the Studio Flow, the number's webhook.
import path from 'node:path';
import { buildService, ROOT } from './lib/build-service';
import { exitCode, parseArgs, productionDeps, runMain } from './lib/deploy/cli';
import { deploy } from './lib/deploy/deploy';

runMain(async () => {
  const args = parseArgs(process.argv.slice(2), ['--replace-flow']);
  const deps = productionDeps(args.envFile);
  if (!deps.fileFound) console.log(`No ${args.envFile}: reading the variables from the environment only (copy .env.example to .env).`);
  // A folder of its own: build/service may be what a running `npm start` serves.
  const dir = path.join(ROOT, 'build', 'deploy-service');
  const result = await deploy({
    ...deps,
    replaceFlow: args.flags.has('--replace-flow'),
    build: async () => ({ dir, functions: (await buildService(dir)).functions }),
  });
  return exitCode(result);
});
