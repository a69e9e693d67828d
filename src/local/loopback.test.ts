import { describe, expect, it } from 'vitest';
import type { NextFunction, Request, Response } from 'express';
import { issueToken } from '../admin/tokens';
import { beyondLoopbackWarning, checkLocalAccess, isLoopbackAddress, localOnly } from './loopback';

const SECRET = 's'.repeat(40);
const NOW = Date.parse('2026-11-25T17:00:00Z');

describe('local endpoints answer this machine only', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.4.5.6', true],
    ['::1', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['192.168.1.20', false],
    ['10.0.0.1', false],
    ['::ffff:192.168.1.20', false],
    ['fe80::1', false],
    ['128.0.0.1', false],
    ['', false],
    [undefined, false],
  ])('%j is loopback: %s', (address, loopback) => {
    expect(isLoopbackAddress(address)).toBe(loopback);
  });

  it('refuses a caller from another machine unless it has an admin session (a challenge or a forged token is not one)', () => {
    const base = { remoteAddress: '192.168.1.20', sessionSecret: SECRET, nowMs: NOW };
    expect(checkLocalAccess({ ...base, authorization: undefined })).toEqual({ ok: false, reason: 'not-loopback' });
    expect(checkLocalAccess({ ...base, authorization: `Bearer ${issueToken(SECRET, 'challenge', NOW).token}` }).ok).toBe(false);
    expect(checkLocalAccess({ ...base, authorization: `Bearer ${issueToken('x'.repeat(40), 'session', NOW).token}` }).ok).toBe(false);
    expect(checkLocalAccess({ ...base, authorization: `Bearer ${issueToken(SECRET, 'session', NOW).token}` }).ok).toBe(true);
    expect(checkLocalAccess({ ...base, remoteAddress: '127.0.0.1', authorization: undefined }).ok).toBe(true);
  });

  it('the middleware answers a socket from another machine with a 403 in the error shape, no stack trace', () => {
    let status = 0;
    let body: unknown;
    let passed = false;
    const req = { socket: { remoteAddress: '203.0.113.9' }, headers: {} } as unknown as Request;
    const res = {
      status(s: number) {
        status = s;
        return this;
      },
      json(b: unknown) {
        body = b;
        return this;
      },
    } as unknown as Response;
    localOnly(() => SECRET)(req, res, (() => (passed = true)) as NextFunction);
    expect(passed).toBe(false);
    expect(status).toBe(403);
    expect(body).toMatchObject({ error: { code: 'forbidden' } });
    expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+/);
  });

  it('warns when the stack listens beyond loopback, and only then', () => {
    expect(beyondLoopbackWarning('0.0.0.0', 3000)).toMatch(/^WARNING: listening on 0\.0\.0\.0:3000, beyond this machine/);
    expect(beyondLoopbackWarning('192.168.1.20', 3000)).toMatch(/^WARNING/);
    expect(beyondLoopbackWarning('127.0.0.1', 3000)).toBeUndefined();
    expect(beyondLoopbackWarning('localhost', 3000)).toBeUndefined();
    expect(beyondLoopbackWarning('::1', 3000)).toBeUndefined();
  });
});
