// `npm run destroy [-- --delete-data [--yes]]`: removes the deployment; the data bucket stays unless --delete-data.
import { exitCode, parseArgs, productionDeps, runMain, terminalQuestion } from './lib/deploy/cli';
import { destroy } from './lib/deploy/destroy';

runMain(async () => {
  const args = parseArgs(process.argv.slice(2), ['--delete-data', '--yes']);
  const ask = terminalQuestion();
  const result = await destroy(productionDeps(args.envFile), {
    deleteData: args.flags.has('--delete-data'),
    yes: args.flags.has('--yes'),
    ...(ask ? { ask } : {}),
  });
  return exitCode(result);
});
