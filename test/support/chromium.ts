import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Which Chromium the browser tests drive, so `npm test` works on a machine nobody installed a
 * browser on. In order: `CHROMIUM_PATH` (an explicit choice, never second-guessed), a system
 * Chromium on `PATH` (Debian's, as CI installs), and last the Chromium that ships inside the
 * `@sparticuz/chromium` dev dependency (decompressed to the temp folder on first use).
 */
export interface ChromiumChoice {
  executablePath: string;
  /** Extra command-line switches this build needs to start. */
  args: string[];
  source: 'CHROMIUM_PATH' | 'PATH' | '@sparticuz/chromium';
}

/** Names a system Chromium goes by (Debian, Ubuntu's snap wrapper, Google's build). */
export const SYSTEM_CHROMIUM_NAMES = ['chromium', 'chromium-browser', 'google-chrome'];

/**
 * Switches of @sparticuz/chromium's default set that only serve its Lambda use and would make the
 * test weaker than a real browser: it must see the same origin rules and mixed-content blocking a
 * clinic's browser applies.
 */
const WEAKENING = ['--disable-web-security', '--allow-running-insecure-content'];

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The first of `names` found as an executable file in one of `searchPath`'s folders. */
export function findOnPath(names: readonly string[], searchPath: string | undefined): string | undefined {
  const dirs = (searchPath ?? '').split(path.delimiter).filter((d) => d !== '');
  for (const dir of dirs) {
    for (const name of names) {
      const file = path.join(dir, name);
      if (isExecutable(file)) return file;
    }
  }
  return undefined;
}

export async function findChromium(env: NodeJS.ProcessEnv = process.env): Promise<ChromiumChoice> {
  const explicit = env.CHROMIUM_PATH;
  if (explicit !== undefined && explicit !== '') {
    if (!isExecutable(explicit))
      throw new Error(`CHROMIUM_PATH is set to ${explicit}, which is not an executable file; fix it or unset it.`);
    return { executablePath: explicit, args: [], source: 'CHROMIUM_PATH' };
  }
  const onPath = findOnPath(SYSTEM_CHROMIUM_NAMES, env.PATH);
  if (onPath) return { executablePath: onPath, args: [], source: 'PATH' };
  // An ES module in a CommonJS project: loaded only when no system browser was found.
  const { default: packaged } = await import('@sparticuz/chromium');
  const executablePath = await packaged.executablePath();
  return { executablePath, args: packaged.args.filter((a) => !WEAKENING.includes(a)), source: '@sparticuz/chromium' };
}
