import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

export const ROOT = path.resolve(__dirname, '..', '..');
export const SERVICE_DIR = path.join(ROOT, 'build', 'service');

function listFiles(dir: string, filter: (f: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? listFiles(full, filter) : filter(full) ? [full] : [];
  });
}

/**
 * Builds the Twilio Functions service folder: each `functions/**\/*.ts` bundled on its own (Twilio
 * deploys functions file by file, so the shared core goes into every bundle), `assets/` copied.
 * `twilio` stays external: the Functions runtime provides it.
 */
export async function buildService(outDir = SERVICE_DIR): Promise<{ functions: string[]; ms: number }> {
  const started = Date.now();
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const functionsDir = path.join(ROOT, 'functions');
  const entries = listFiles(functionsDir, (f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'));
  await build({
    entryPoints: entries,
    outbase: functionsDir,
    outdir: path.join(outDir, 'functions'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['twilio'],
    legalComments: 'none',
    logLevel: 'warning',
  });
  const assetsDir = path.join(ROOT, 'assets');
  const pageSources = path.join(assetsDir, 'src');
  cpSync(assetsDir, path.join(outDir, 'assets'), {
    recursive: true,
    // The page's TypeScript is compiled below; its sources and tsconfig are not served.
    filter: (src) => !src.endsWith('.ts') && src !== pageSources && src !== path.join(assetsDir, 'tsconfig.json'),
  });
  await buildPage(pageSources, path.join(outDir, 'assets'));
  writeFileSync(
    path.join(outDir, 'package.json'),
    `${JSON.stringify({ name: 'patient-appointment-management', private: true, type: 'commonjs', dependencies: { twilio: '6.2.0' } }, null, 2)}\n`,
  );
  return { functions: entries.map((e) => path.relative(functionsDir, e)), ms: Date.now() - started };
}

/**
 * The admin page's scripts: each `assets/src/*.ts` is bundled for the browser into
 * `assets/<name>.js` (one request per page, no framework, ES2020 for current browsers).
 */
export async function buildPage(sourceDir: string, outDir: string): Promise<void> {
  const entries = listFiles(
    sourceDir,
    (f) => path.dirname(f) === sourceDir && f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'),
  );
  if (entries.length === 0) return;
  await build({
    entryPoints: entries,
    outdir: outDir,
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2020',
    minify: true,
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'warning',
  });
}
