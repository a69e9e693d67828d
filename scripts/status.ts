// `npm run status`: what exists on Twilio and AWS for the customer in `.env` (read-only).
import { exitCode, parseArgs, productionDeps, runMain } from './lib/deploy/cli';
import { status } from './lib/deploy/status';

runMain(async () => {
  const args = parseArgs(process.argv.slice(2), []);
  return exitCode(await status(productionDeps(args.envFile)));
});
