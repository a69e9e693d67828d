import type { TestStack } from './local-stack';

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers of the local APIs */

/** The virtual phones and the sandbox EHR, driven through their HTTP APIs as the page does. */
export function phonesApi(t: TestStack) {
  const base = () => t.stack.url;
  return {
    async conversation(phone: string): Promise<{ direction: string; body: string; from: string; to: string; sid: string }[]> {
      await t.stack.settle();
      const res = await fetch(`${base()}/__local/phones/${encodeURIComponent(phone)}/messages`);
      return ((await res.json()) as any).messages;
    },
    /** Texts received by the phone, oldest first. */
    async received(phone: string): Promise<string[]> {
      return (await this.conversation(phone)).filter((m) => m.to === phone).map((m) => m.body);
    },
    async send(phone: string, body: string): Promise<void> {
      const res = await fetch(`${base()}/__local/phones/${encodeURIComponent(phone)}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ body }),
      });
      if (res.status !== 202) throw new Error(`send failed: ${res.status} ${await res.text()}`);
      await t.stack.settle();
    },
    async ehrRequests(): Promise<any[]> {
      await t.stack.settle();
      return ((await (await fetch(`${base()}/__local/ehr/requests`)).json()) as any).requests;
    },
    async ehrBehaviour(body: Record<string, unknown>): Promise<void> {
      await fetch(`${base()}/__local/ehr/behaviour`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    },
  };
}
