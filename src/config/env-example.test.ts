import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeployVariables } from '../../scripts/lib/deploy/settings';
import { AdminRuntimeConfig } from './admin-config';
import { FunctionsConfig, ReceiverConfig, SweepConfig } from './config';
import { LOCAL_VARIABLES } from './local-settings';
import { MllpBridgeConfig } from './mllp-bridge-config';

// Every reader of the environment: the Functions, the sweep and receiver Lambdas, the admin page,
// the deploy, `npm start` and the MLLP bridge. The names come from the schemas themselves, so a
// variable added to one of them without a line in .env.example fails here.
const readers: Record<string, readonly string[]> = {
  functions: Object.keys(FunctionsConfig.shape),
  sweep: Object.keys(SweepConfig.shape),
  receiver: Object.keys(ReceiverConfig.shape),
  admin: Object.keys(AdminRuntimeConfig.shape),
  deploy: Object.keys(DeployVariables.shape),
  mllpBridge: Object.keys(MllpBridgeConfig.shape),
  local: LOCAL_VARIABLES,
};

function templateVariables(text: string): string[] {
  return [...text.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1] ?? '');
}

const template = readFileSync(path.join(__dirname, '../../.env.example'), 'utf8');

describe('.env.example', () => {
  const listed = templateVariables(template);
  const read = new Set(Object.values(readers).flat());

  it('lists every variable a configuration schema reads', () => {
    expect([...read].filter((v) => !listed.includes(v)).sort()).toEqual([]);
  });

  it('lists nothing that no schema reads', () => {
    expect(listed.filter((v) => !read.has(v)).sort()).toEqual([]);
  });

  it('lists each variable once', () => {
    expect(listed.filter((v, i) => listed.indexOf(v) !== i)).toEqual([]);
  });

  it('says what each variable is for in a comment above it', () => {
    const lines = template.split('\n');
    const uncommented = lines.flatMap((line, i) => {
      const name = /^([A-Z][A-Z0-9_]*)=/.exec(line)?.[1];
      if (name === undefined) return [];
      let j = i - 1;
      while (j >= 0 && /^[A-Z][A-Z0-9_]*=/.test(lines[j] ?? '')) j--;
      return (lines[j] ?? '').startsWith('# ') ? [] : [name];
    });
    expect(uncommented).toEqual([]);
  });

  it('finds the names in a template, and only at the start of a line', () => {
    expect(templateVariables('# A_COMMENT=1\nFOO_BAR=\n  INDENTED=x\nBAZ=2\n')).toEqual(['FOO_BAR', 'BAZ']);
  });
});
