// `npm run rotate-keys`: a new S3 access key for the Twilio Functions, the old one deleted once the Functions use the new one.
import { exitCode, parseArgs, productionDeps, runMain } from './lib/deploy/cli';
import { rotateKeys } from './lib/deploy/rotate-keys';

runMain(async () => {
  const args = parseArgs(process.argv.slice(2), []);
  return exitCode(await rotateKeys(productionDeps(args.envFile)));
});
