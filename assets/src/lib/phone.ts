import { call, describe, localFetch } from './api';
import { $, formatTime, h, Poller, replaceChildren } from './dom';
import type { MessageView, MessagesAnswer } from '../../../src/admin/api-types';

/** A message as the panel shows it; `inbound` means from the patient. */

/**
 * The patient's phone: the conversation, live. Locally it follows the virtual phone (its message
 * list, then its event stream) and the admin can answer as the patient; deployed it polls the
 * message log through the admin Function and the admin answers from the real phone.
 */
export function setUpPhonePanel(options: { local: boolean; onActivity: () => void }) {
  const list = $('conversation');
  const state = $('phone-state');
  const replyForm = $<HTMLFormElement>('reply-form');
  const replyBody = $<HTMLInputElement>('reply-body');
  let phone: string | undefined;
  let messages: MessageView[] = [];
  let stream: EventSource | undefined;

  const render = () => {
    replaceChildren(
      list,
      ...messages.map((m) => {
        const fromPatient = m.from === phone;
        return h(
          'li',
          { class: `msg ${fromPatient ? 'inbound' : 'outbound'}`, 'data-sid': m.sid },
          h('span', { class: 'visually-hidden' }, fromPatient ? 'Patient: ' : 'Clinic: '),
          m.body,
          h('span', { class: 'meta' }, `${formatTime(m.date_created)} · ${m.status}`),
        );
      }),
    );
    list.scrollTop = list.scrollHeight;
    state.textContent = messages.length === 0 ? 'No messages yet.' : `${messages.length} message${messages.length === 1 ? '' : 's'}.`;
  };

  const upsert = (m: MessageView) => {
    const i = messages.findIndex((x) => x.sid === m.sid);
    if (i >= 0) messages[i] = m;
    else messages.push(m);
    render();
  };

  async function loadLocal(): Promise<void> {
    if (!phone) return;
    const res = await localFetch(`__local/phones/${encodeURIComponent(phone)}/messages`, { cache: 'no-store' });
    if (!res.ok) throw new Error(`the local phone answered ${res.status}`);
    messages = ((await res.json()) as { messages: MessageView[] }).messages;
    render();
  }

  const deployedPoller = new Poller(async () => {
    if (!phone) return;
    try {
      const res = await call<MessagesAnswer>('admin/messages', { query: { phone } });
      const before = messages.length;
      messages = res.messages;
      render();
      if (messages.length !== before) options.onActivity();
    } catch (err) {
      state.textContent = `The message log could not be read: ${describe(err)}`;
    }
  }, 5000);

  function follow(next: string): void {
    if (next === phone) return;
    stop();
    phone = next;
    messages = [];
    $('phone-number').textContent = next;
    state.textContent = 'Loading…';
    render();
    if (options.local) {
      replyForm.hidden = false;
      loadLocal().catch((err: unknown) => (state.textContent = `The conversation could not be read: ${describe(err)}`));
      stream = new EventSource(`__local/phones/${encodeURIComponent(next)}/stream`);
      const onEvent = (e: MessageEvent<string>) => {
        upsert(JSON.parse(e.data) as MessageView);
        options.onActivity();
      };
      stream.addEventListener('message', onEvent);
      stream.addEventListener('status', onEvent as EventListener);
    } else {
      $('reply-deployed').hidden = false;
      deployedPoller.start();
    }
  }

  function stop(): void {
    stream?.close();
    stream = undefined;
    deployedPoller.stop();
  }

  replyForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const body = replyBody.value.trim();
    if (!phone || body === '') {
      replyBody.focus();
      return;
    }
    const button = $<HTMLButtonElement>('reply-send');
    button.disabled = true;
    localFetch(`__local/phones/${encodeURIComponent(phone)}/messages`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ body }),
    })
      .then(async (res) => {
        if (!res.ok) {
          const err = (await res.json()) as { error?: { message?: string } };
          throw new Error(err.error?.message ?? `HTTP ${res.status}`);
        }
        replyBody.value = '';
      })
      .catch((err: unknown) => (state.textContent = `The reply could not be sent: ${describe(err)}`))
      .finally(() => {
        button.disabled = false;
        replyBody.focus();
      });
  });

  return { follow, stop, current: () => phone };
}
