import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startLocalStack } from '../../src/local/stack';

/** A port held by another program for the length of the test. */
let holder: net.Server;
let busy: number;
let dataDir: string;

beforeAll(async () => {
  holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  busy = (holder.address() as net.AddressInfo).port;
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'pam-busy-port-'));
});
afterAll(async () => {
  await new Promise<void>((resolve) => holder.close(() => resolve()));
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start on a port another program holds', () => {
  it('names the port and says that PORT moves the Functions server', async () => {
    const start = startLocalStack({ dataDir, serviceDir: inject('serviceDir'), port: busy, env: { SWEEP_INTERVAL_SECONDS: '0' } });
    await expect(start).rejects.toThrow(
      `port ${busy} on 127.0.0.1 is in use (another npm start, or another program); set PORT to a free port, e.g. PORT=${busy + 1} (0 picks any free port)`,
    );
  });

  it('names the port and says that S3_PORT moves the embedded S3 server', async () => {
    const start = startLocalStack({
      dataDir,
      serviceDir: inject('serviceDir'),
      port: 0,
      env: { S3_PORT: String(busy), SWEEP_INTERVAL_SECONDS: '0' },
    });
    await expect(start).rejects.toThrow(new RegExp(`^port ${busy} on 127\\.0\\.0\\.1 is in use .*; set S3_PORT to a free port`));
  });
});
