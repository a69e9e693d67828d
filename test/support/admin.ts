import { issueToken, type TokenType } from '../../src/admin/tokens';
import type { TestStack } from './local-stack';

/* eslint-disable @typescript-eslint/no-explicit-any -- tests read JSON answers loosely and assert on them */

export interface Answer {
  status: number;
  json: any;
  text: string;
  headers: Headers;
}

/** The admin Functions over HTTP, as the page calls them. */
export function adminApi(t: TestStack) {
  const call = async (
    path: string,
    init: { method?: string; token?: string; client?: string; device?: string; body?: unknown; query?: Record<string, string> } = {},
  ): Promise<Answer> => {
    const q = new URLSearchParams(init.query ?? {}).toString();
    const res = await fetch(`${t.stack.url}/admin/${path}${q ? `?${q}` : ''}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: {
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        ...(init.client ? { 'x-client-id': init.client } : {}),
        ...(init.device ? { 'x-device-token': init.device } : {}),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text, headers: res.headers };
  };

  return {
    call,
    /** A token the stack would accept, minted with its SESSION_SECRET (for expiry and kind tests). */
    mint(type: TokenType, nowMs = Date.now()): string {
      return issueToken(t.stack.env.SESSION_SECRET ?? '', type, nowMs).token;
    },
    /** Both login steps, reading the code the local Verify texted to the administrator's phone. */
    async login(client = 'test-client-0001'): Promise<string> {
      return (await this.loginAs(client)).token;
    },
    /** Both login steps from a browser with (or without) a device token; the answer has the new one. */
    async loginAs(client: string, device?: string): Promise<{ token: string; device_token: string }> {
      const step1 = await call('login', { body: { password: t.stack.env.APPLICATION_PASSWORD }, client, device });
      if (step1.status !== 200) throw new Error(`login step 1: ${step1.status} ${step1.text}`);
      await t.stack.settle();
      const code = t.stack.verify.lastCodeFor(t.stack.env.ADMINISTRATOR_PHONE ?? '');
      const step2 = await call('verify-code', { body: { code }, token: step1.json.challenge, client, device });
      if (step2.status !== 200) throw new Error(`login step 2: ${step2.status} ${step2.text}`);
      return step2.json as { token: string; device_token: string };
    },
  };
}
