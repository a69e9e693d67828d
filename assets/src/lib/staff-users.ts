import { ApiError, call, describe } from './api';
import { $, formatTime, h, replaceChildren, setBanner, whileBusy } from './dom';
import type { StaffUserRow, UsersAnswer } from '../../../src/admin/api-types';

/** The Users panel (admin only): list, add, disable or enable, change role. */
export function setUpStaffUsers() {
  const body = $('users-table').querySelector('tbody') as HTMLTableSectionElement;
  const state = $('users-state');
  const form = $<HTMLFormElement>('user-form');
  const result = $('user-result');
  const fields = ['id', 'name', 'phone', 'role', 'password'] as const;

  const update = async (button: HTMLButtonElement, change: Record<string, unknown>, done: string) => {
    await whileBusy(button, async () => {
      try {
        await call('admin/user-update', { method: 'POST', body: change });
        setBanner(result, 'ok', done);
        await load();
      } catch (err) {
        setBanner(result, 'error', describe(err));
      }
    });
  };

  function row(u: StaffUserRow): HTMLTableRowElement {
    const status = u.built_in ? 'built in' : u.disabled ? 'disabled' : 'active';
    const actions = u.built_in
      ? h('span', { class: 'muted' }, 'APPLICATION_PASSWORD and ADMINISTRATOR_PHONE')
      : h(
          'div',
          { class: 'row' },
          h(
            'button',
            {
              type: 'button',
              class: 'secondary small',
              'aria-label': `${u.disabled ? 'Enable' : 'Disable'}: ${u.id}`,
              onclick: (e: Event) =>
                void update(
                  e.currentTarget as HTMLButtonElement,
                  { id: u.id, disabled: !u.disabled },
                  `${u.id} is ${u.disabled ? 'enabled' : 'disabled; their sessions have ended'}.`,
                ),
            },
            u.disabled ? 'Enable' : 'Disable',
          ),
          h(
            'button',
            {
              type: 'button',
              class: 'secondary small',
              'aria-label': `${u.role === 'admin' ? 'Make staff' : 'Make admin'}: ${u.id}`,
              onclick: (e: Event) =>
                void update(
                  e.currentTarget as HTMLButtonElement,
                  { id: u.id, role: u.role === 'admin' ? 'staff' : 'admin' },
                  `${u.id} now has the ${u.role === 'admin' ? 'staff' : 'admin'} role; they log in again.`,
                ),
            },
            u.role === 'admin' ? 'Make staff' : 'Make admin',
          ),
        );
    return h(
      'tr',
      { 'data-user': u.id },
      h('td', { class: 'mono' }, u.id),
      h('td', {}, u.name),
      h('td', { class: 'mono' }, u.phone ?? ''),
      h('td', {}, u.role),
      h('td', {}, h('span', { class: `badge ${u.disabled ? 'error' : 'ok'}` }, status)),
      h('td', {}, u.updated_at ? `${formatTime(u.updated_at)} by ${u.updated_by ?? '?'}` : ''),
      h('td', {}, actions),
    );
  }

  async function load(): Promise<void> {
    try {
      const { users } = await call<UsersAnswer>('admin/users');
      replaceChildren(body, ...users.map(row));
      state.textContent = `${users.length} user${users.length === 1 ? '' : 's'}.`;
    } catch (err) {
      state.textContent = `Could not load the users: ${describe(err)}`;
    }
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const data = Object.fromEntries(fields.map((f) => [f, $<HTMLInputElement | HTMLSelectElement>(`user-${f}`).value]));
    for (const f of fields) $(`user-${f}`).removeAttribute('aria-invalid');
    void whileBusy($<HTMLButtonElement>('user-submit'), async () => {
      try {
        await call('admin/user-add', { method: 'POST', body: data });
        setBanner(result, 'ok', `${data.id ?? ''} was added. Give them their password in person; their codes go to the phone entered.`);
        form.reset();
        await load();
      } catch (err) {
        if (err instanceof ApiError && err.problems.length > 0) {
          for (const p of err.problems) document.getElementById(`user-${p.field}`)?.setAttribute('aria-invalid', 'true');
          setBanner(
            result,
            'error',
            'The user was not added:',
            h('ul', {}, ...err.problems.map((p) => h('li', {}, `${p.field} ${p.message}`))),
          );
        } else setBanner(result, 'error', describe(err));
      }
    });
  });

  $('users-refresh').addEventListener('click', () => void load());
  return { load };
}

/** "Change my password" for a staff user (the built-in administrator's is APPLICATION_PASSWORD). */
export function setUpMyPassword(options: { onChanged: () => void }) {
  const form = $<HTMLFormElement>('my-password-form');
  const result = $('my-password-result');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const current = $<HTMLInputElement>('my-password-current');
    const next = $<HTMLInputElement>('my-password-new');
    for (const el of [current, next]) el.removeAttribute('aria-invalid');
    void whileBusy($<HTMLButtonElement>('my-password-submit'), async () => {
      try {
        await call('admin/my-password', { method: 'POST', body: { current_password: current.value, new_password: next.value } });
        form.reset();
        result.hidden = true;
        options.onChanged();
      } catch (err) {
        if (err instanceof ApiError && err.problems.length > 0) {
          for (const p of err.problems)
            document
              .getElementById(p.field === 'current_password' ? 'my-password-current' : 'my-password-new')
              ?.setAttribute('aria-invalid', 'true');
          setBanner(
            result,
            'error',
            err.problems.map((p) => `${p.field === 'current_password' ? 'Current password' : 'New password'} ${p.message}.`).join(' '),
          );
        } else setBanner(result, 'error', describe(err));
      }
    });
  });
}
