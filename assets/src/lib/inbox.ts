import { call, describe } from './api';
import { $, formatTime, h, replaceChildren } from './dom';

interface InboxItem {
  id: string;
  phone: string;
  appointment_id?: string;
  body: string;
  intent: string;
  at: string;
  done_at?: string;
}

/** Patient replies we did not understand, for a person to answer; "Mark done" once answered. */
export function setUpInbox() {
  const list = $('inbox-list');
  const state = $('inbox-state');
  const count = $('inbox-unread');

  async function markDone(id: string, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    try {
      await call('admin/inbox-done', { method: 'POST', body: { id } });
      await load();
    } catch (err) {
      button.disabled = false;
      state.textContent = `Could not mark it done: ${describe(err)}`;
    }
  }

  async function load(): Promise<void> {
    try {
      const { items, unread } = await call<{ items: InboxItem[]; unread: number }>('admin/inbox');
      count.textContent = unread > 0 ? `${unread} unread` : '';
      state.textContent = items.length === 0 ? 'Empty: every reply so far was understood.' : `${unread} unread of the ${items.length} most recent.`;
      replaceChildren(
        list,
        ...items.map((item) => {
          const done = h('button', { type: 'button', class: 'secondary small' }, 'Mark done');
          done.addEventListener('click', () => void markDone(item.id, done));
          return h(
            'li',
            {},
            h('strong', {}, item.phone),
            ` · ${item.appointment_id ? `appointment ${item.appointment_id}` : 'no upcoming appointment'} · ${formatTime(item.at)}`,
            h('br'),
            h('span', {}, item.body),
            h('br'),
            item.done_at ? h('span', { class: 'muted' }, `Done ${formatTime(item.done_at)}`) : done,
          );
        }),
      );
    } catch {
      state.textContent = 'Could not load the inbox.';
    }
  }

  $('inbox-refresh').addEventListener('click', () => void load());
  return { load };
}
