import { call, describe } from './api';
import { $, formatTime, h, replaceChildren } from './dom';
import type { InboxAnswer, InboxItem } from '../../../src/admin/api-types';

/** A fresh id per send: the server texts once per id, so a retried request cannot text twice. */
function newReplyId(): string {
  return `r-${crypto.randomUUID()}`;
}

const REPLY_STATUS: Record<string, string> = { sending: 'sending…', sent: 'sent', failed: 'not sent' };

/**
 * Patient replies we did not understand, for a person to answer: text the patient back from the
 * item (through the same flow as every other text), or "Mark done" once answered another way.
 */
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

  function replyForm(item: InboxItem): HTMLFormElement {
    const fieldId = `inbox-reply-${item.id}`;
    const text = h('textarea', { id: fieldId, name: 'body', rows: 2, maxlength: 2000, required: true });
    const send = h('button', { type: 'submit', class: 'small' }, 'Send text');
    const note = h('span', { class: 'muted', role: 'status' });
    const form = h('form', { class: 'inbox-reply' }, h('label', { for: fieldId }, 'Reply to the patient'), text, send, note);
    // One id per attempt: resubmitting after an error is a new attempt, a double click is not.
    let replyId = newReplyId();
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      send.disabled = true;
      note.textContent = 'Sending…';
      call('admin/inbox-reply', { method: 'POST', body: { id: item.id, reply_id: replyId, body: text.value } })
        .then(() => load())
        .catch((err: unknown) => {
          replyId = newReplyId();
          send.disabled = false;
          note.textContent = `Not sent: ${describe(err)}`;
        });
    });
    return form;
  }

  async function load(): Promise<void> {
    try {
      const { items, unread } = await call<InboxAnswer>('admin/inbox');
      count.textContent = unread > 0 ? `${unread} unread` : '';
      state.textContent =
        items.length === 0 ? 'Empty: every reply so far was understood.' : `${unread} unread of the ${items.length} most recent.`;
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
            ...(item.replies ?? []).map((r) =>
              h('p', { class: 'muted inbox-replied' }, `Texted back ${formatTime(r.at)} by ${r.by}: ${REPLY_STATUS[r.status] ?? r.status}`),
            ),
            h('br'),
            item.done_at ? h('span', { class: 'muted' }, `Done ${formatTime(item.done_at)}`) : done,
            replyForm(item),
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
