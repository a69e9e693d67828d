import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import config, { ALL, EXCLUDE, INTEGRATION } from '../vitest.config.mjs';

/*
 * Which vitest project runs a test file is decided by its name alone (`*.int.test.ts` is
 * integration). A file that leaves the test process but is named as a unit test would run in the
 * unit project, without the built service and in parallel with the fast tests: this finds those.
 */

const ROOT = path.join(__dirname, '..');

/** What makes a test an integration test, as calls in its source. */
const LEAVES_THE_PROCESS: [string, RegExp][] = [
  ['starts the local stack', /\bstart(?:Test|Local)Stack\s*\(/],
  ['spawns the embedded S3', /\bstartEmbeddedS3\s*\(/],
  ['launches Chromium', /\bopenBrowser\s*\(|\bchromium\s*\.\s*launch\w*\s*\(/],
  ['synthesizes CDK', /\bTemplate\s*\.\s*from(?:Stack|Json)\s*\(|\.synth\s*\(/],
];

/** Strings and comments go first: a call named in a message or a comment (or in this file's samples) is not made. */
const STRINGS_AND_COMMENTS = /'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|`(?:\\.|[^`\\])*`|\/\/[^\n]*|\/\*[\s\S]*?\*\//g;

function integrationReasons(source: string): string[] {
  const code = source.replace(STRINGS_AND_COMMENTS, '');
  return LEAVES_THE_PROCESS.filter(([, pattern]) => pattern.test(code)).map(([reason]) => reason);
}

const SKIPPED_DIRS = new Set(EXCLUDE.map((g) => g.replace(/\/\*\*$/, '')));

function testFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.posix.join(dir, e.name);
    if (e.isDirectory()) return SKIPPED_DIRS.has(rel) ? [] : testFiles(rel);
    return e.name.endsWith('.test.ts') ? [rel] : [];
  });
}

/** The folders `ALL` covers (`test/**\/*.test.ts` → `test`). */
const ROOTS = ALL.map((g) => g.split('/')[0] ?? '');
const INT_SUFFIX = INTEGRATION.replace(/^\*\*\/\*/, '');

type Project = { test: { name: string; include?: string[]; exclude?: string[] } };
const projects = (config.test?.projects ?? []) as Project[];
const project = (name: string) => projects.find((p) => p.test.name === name)?.test;

describe('test projects', () => {
  it('select integration tests by the *.int.test.ts name alone', () => {
    expect(INT_SUFFIX).toBe('.int.test.ts');
    expect(project('integration')?.include).toEqual([INTEGRATION]);
    expect(project('unit')?.exclude).toContain(INTEGRATION);
    expect(project('unit')?.include).toEqual(ALL);
  });

  it('find what makes a test an integration test, and nothing in a unit test', () => {
    expect(integrationReasons("t = await startTestStack({ EHR_STRICT: 'true' });")).toEqual(['starts the local stack']);
    expect(integrationReasons('const start = startLocalStack({ dataDir });')).toEqual(['starts the local stack']);
    expect(integrationReasons("s3 = await startEmbeddedS3({ directory: dir, buckets: ['b'] });")).toEqual(['spawns the embedded S3']);
    expect(integrationReasons("browser = await openBrowser({ name: 'admin' });")).toEqual(['launches Chromium']);
    expect(integrationReasons('await chromium.launchPersistentContext(profile, {});')).toEqual(['launches Chromium']);
    expect(integrationReasons('const template = Template.fromStack(stack);')).toEqual(['synthesizes CDK']);
    expect(integrationReasons('app.synth();')).toEqual(['synthesizes CDK']);
    expect(integrationReasons("import { findChromium } from './chromium';\nconst store = new MemoryAppointmentStore();")).toEqual([]);
    expect(
      integrationReasons("// unlike startTestStack(), this stays in process\nthrow new Error('call startEmbeddedS3() first');"),
    ).toEqual([]);
  });

  it('name every test file that leaves the process *.int.test.ts, so none lands in the unit project', () => {
    const files = ROOTS.flatMap((r) => testFiles(r));
    const found = files.map((f) => ({ file: f, reasons: integrationReasons(readFileSync(path.join(ROOT, f), 'utf8')) }));
    // The scan itself must see the integration tests, or the check below would pass on nothing.
    expect(found.filter((f) => f.reasons.length > 0 && f.file.endsWith(INT_SUFFIX)).length).toBeGreaterThan(0);
    expect(found.filter((f) => f.reasons.length > 0 && !f.file.endsWith(INT_SUFFIX))).toEqual([]);
  });
});
