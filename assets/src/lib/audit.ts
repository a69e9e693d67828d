import { call, describe } from './api';
import { $, formatTime, h, replaceChildren, whileBusy } from './dom';
import type { AuditEntry, AuditPage, CsvPage } from '../../../src/admin/api-types';

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/** The Audit panel (admin only): entries for a range of days, and the same range as CSV. */
export function setUpAudit() {
  const from = $<HTMLInputElement>('audit-from');
  const to = $<HTMLInputElement>('audit-to');
  const body = $('audit-table').querySelector('tbody') as HTMLTableSectionElement;
  const state = $('audit-state');
  const more = $<HTMLButtonElement>('audit-more');
  let cursor: string | undefined;

  const row = (e: AuditEntry) =>
    h(
      'tr',
      {},
      h('td', {}, formatTime(e.at, true)),
      h('td', { class: 'mono' }, `${e.actor.user_id} (${e.actor.role})`),
      h('td', { class: 'mono' }, e.action),
      h('td', {}, h('span', { class: `badge ${e.outcome === 'success' ? 'ok' : 'error'}` }, e.outcome)),
      h(
        'td',
        { class: 'mono' },
        Object.entries(e.target)
          .map(([k, v]) => `${k}=${v}`)
          .join(' '),
      ),
      h('td', { class: 'mono' }, [e.client.id?.slice(0, 8), e.client.ip].filter(Boolean).join(' · ')),
    );

  async function load(append = false): Promise<void> {
    if (!from.value) from.value = today();
    if (!to.value) to.value = today();
    try {
      const page = await call<AuditPage>('admin/audit', {
        query: { from: from.value, to: to.value, cursor: append ? cursor : undefined },
      });
      if (append) body.append(...page.entries.map(row));
      else replaceChildren(body, ...page.entries.map(row));
      cursor = page.cursor;
      more.hidden = !cursor;
      const shown = body.rows.length;
      state.textContent =
        shown === 0 ? 'No entries in these days.' : `${shown} entr${shown === 1 ? 'y' : 'ies'}${cursor ? ' so far' : ''}, oldest first.`;
    } catch (err) {
      state.textContent = `Could not load the audit log: ${describe(err)}`;
    }
  }

  async function download(): Promise<number> {
    let csv = '';
    let next: string | undefined;
    let rows = 0;
    // Bounded: 500 pages of 200 entries is more than 93 days of a clinic's use.
    for (let page = 0; page < 500; page += 1) {
      const got = await call<CsvPage>('admin/audit-export', {
        query: { from: from.value, to: to.value, cursor: next },
      });
      csv += got.csv;
      rows += got.rows;
      next = got.cursor;
      if (!next) break;
    }
    const href = URL.createObjectURL(new Blob(['\ufeff', csv], { type: 'text/csv;charset=utf-8' }));
    const a = h('a', { href, download: `audit-${from.value}-to-${to.value}.csv` });
    document.body.append(a);
    a.click();
    a.remove();
    URL.revokeObjectURL(href);
    return rows;
  }

  $<HTMLFormElement>('audit-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void load();
  });
  more.addEventListener('click', () => void load(true));
  $<HTMLButtonElement>('audit-export').addEventListener('click', (e) => {
    void whileBusy(e.currentTarget as HTMLButtonElement, async () => {
      try {
        const n = await download();
        state.textContent = `Downloaded ${n} entr${n === 1 ? 'y' : 'ies'}.`;
      } catch (err) {
        state.textContent = `The export failed: ${describe(err)}`;
      }
    });
  });
  return { load: () => load(false) };
}
