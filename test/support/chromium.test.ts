import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findChromium, findOnPath } from './chromium';

let dir: string;

function fakeBinary(folder: string, name: string, mode = 0o755): string {
  mkdirSync(folder, { recursive: true });
  const file = path.join(folder, name);
  writeFileSync(file, '#!/bin/sh\n');
  chmodSync(file, mode);
  return file;
}

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pam-chromium-lookup-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the browser tests find a Chromium', () => {
  it('takes CHROMIUM_PATH over a Chromium on PATH', async () => {
    const chosen = fakeBinary(path.join(dir, 'chosen'), 'my-chrome');
    fakeBinary(path.join(dir, 'bin'), 'chromium');
    const found = await findChromium({ CHROMIUM_PATH: chosen, PATH: path.join(dir, 'bin') });
    expect(found).toEqual({ executablePath: chosen, args: [], source: 'CHROMIUM_PATH' });
  });

  it('refuses a CHROMIUM_PATH that is not an executable file, naming the variable', async () => {
    const plain = fakeBinary(dir, 'not-executable', 0o644);
    await expect(findChromium({ CHROMIUM_PATH: plain, PATH: '' })).rejects.toThrow(/^CHROMIUM_PATH is set to .*not an executable file/);
    await expect(findChromium({ CHROMIUM_PATH: dir, PATH: '' })).rejects.toThrow(/CHROMIUM_PATH/);
  });

  it('searches PATH folders in order and each folder for every known name', async () => {
    const first = path.join(dir, 'first');
    const second = path.join(dir, 'second');
    mkdirSync(first);
    const wanted = fakeBinary(second, 'google-chrome');
    fakeBinary(path.join(dir, 'third'), 'chromium');
    const searchPath = [first, second, path.join(dir, 'third')].join(path.delimiter);
    expect(findOnPath(['chromium', 'chromium-browser', 'google-chrome'], searchPath)).toBe(wanted);
    const found = await findChromium({ PATH: searchPath });
    expect(found.source).toBe('PATH');
    expect(found.executablePath).toBe(wanted);
  });

  it('skips a file of the right name that cannot be run', () => {
    fakeBinary(path.join(dir, 'a'), 'chromium', 0o644);
    const runnable = fakeBinary(path.join(dir, 'b'), 'chromium');
    expect(findOnPath(['chromium'], [path.join(dir, 'a'), path.join(dir, 'b')].join(path.delimiter))).toBe(runnable);
    expect(findOnPath(['chromium'], path.join(dir, 'a'))).toBeUndefined();
  });
});
