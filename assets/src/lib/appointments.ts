import { call, describe } from './api';
import { $, formatTime, h, replaceChildren, whileBusy } from './dom';

interface ReminderSummary {
  text: string;
  next?: { n: number; at: string; at_local: string; reason?: string };
  skipped: { n: number; reason: string; why: string }[];
}

interface AppointmentRow {
  appointment_id: string;
  disposition: string;
  patient_name: string;
  patient_phone: string;
  provider_name: string;
  appointment_location: string;
  appointment_local: string;
  appointment_at: string;
  patient_request: string;
  /** Empty unless Twilio reported the number cannot receive texts. */
  undeliverable?: string;
  reminder: ReminderSummary;
  updated_at: string;
}

interface HistoryView {
  appointment: AppointmentRow | null;
  plan: { reminders: { n: number; due_at: string; status: string; at?: string; reason?: string }[] } | null;
  history: { event_type: string; event_id: string; event_datetime_utc: string; received_at: string; appointment_local: string; detail?: Record<string, string> }[];
}

/** Fetches every page of an export and saves it as one CSV file. */
async function downloadCsv(table: 'appointments' | 'history', appointmentId?: string): Promise<number> {
  let csv = '';
  let cursor: string | undefined;
  let rows = 0;
  do {
    const page = await call<{ csv: string; cursor?: string; rows: number }>('admin/export', { query: { table, cursor, appointment_id: appointmentId } });
    csv += page.csv;
    rows += page.rows;
    cursor = page.cursor;
  } while (cursor);
  // The byte-order mark tells spreadsheet programs the file is UTF-8 (accents in names).
  const blob = new Blob(['\ufeff', csv], { type: 'text/csv;charset=utf-8' });
  const href = URL.createObjectURL(blob);
  const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
  const a = h('a', { href, download: `${appointmentId ? `history-${appointmentId.replace(/[^A-Za-z0-9_-]/g, '_')}` : table}-${stamp}.csv` });
  document.body.append(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(href), 10_000);
  return rows;
}

export function setUpAppointments(options: { highlight: () => string | undefined }) {
  const state = $('appointments-state');
  const body = $('appointments-table').querySelector('tbody') as HTMLTableSectionElement;
  const more = $<HTMLButtonElement>('appointments-more');
  const dialog = $<HTMLDialogElement>('history-dialog');
  let rows: AppointmentRow[] = [];
  let cursor: string | undefined;
  /** Appointments the server could not read (named by id; the rest of the table still shows). */
  let unreadable = new Set<string>();
  let shownHistory: string | undefined;

  const render = () => {
    const current = options.highlight();
    const sorted = rows.slice().sort((a, b) => b.updated_at.localeCompare(a.updated_at));
    replaceChildren(
      body,
      ...sorted.map((r) =>
        h(
          'tr',
          { 'data-appointment-id': r.appointment_id, class: r.appointment_id === current ? 'current' : undefined },
          h('td', {}, h('span', { class: 'mono' }, r.appointment_id), r.appointment_location ? h('div', { class: 'muted' }, r.appointment_location) : null),
          h('td', {}, r.patient_name, h('div', { class: 'muted mono' }, r.patient_phone)),
          h('td', {}, r.appointment_local, r.provider_name ? h('div', { class: 'muted' }, `with ${r.provider_name}`) : null),
          h(
            'td',
            { class: 'disposition' },
            h('span', { class: `badge disp-${r.disposition}` }, r.disposition),
            r.patient_request ? h('div', { class: 'muted' }, `patient asked: ${r.patient_request.split(' at ')[0] ?? ''}`) : null,
            r.undeliverable ? h('div', { class: 'muted undeliverable' }, `number cannot receive texts: ${r.undeliverable.split(' at ')[0] ?? ''}`) : null,
          ),
          h('td', {}, r.reminder.text),
          h('td', {}, h('button', { type: 'button', class: 'secondary small', 'aria-label': `History of ${r.appointment_id}`, onclick: () => void showHistory(r.appointment_id) }, 'History')),
        ),
      ),
    );
    const shown = rows.length === 0 ? 'No appointments yet. Simulate BOOKED to create one.' : `${rows.length} appointment${rows.length === 1 ? '' : 's'}${cursor ? ' (more available)' : ''}.`;
    state.textContent = unreadable.size === 0 ? shown : `${shown} ${unreadable.size} could not be read (${[...unreadable].join(', ')}); see the logs.`;
    more.hidden = !cursor;
  };

  async function load(): Promise<void> {
    try {
      const page = await call<{ appointments: AppointmentRow[]; cursor?: string; unreadable?: string[] }>('admin/appointments', { query: { limit: '100' } });
      rows = page.appointments;
      unreadable = new Set(page.unreadable ?? []);
      cursor = page.cursor;
      render();
    } catch (err) {
      state.textContent = `The appointments could not be loaded: ${describe(err)}`;
    }
  }

  async function loadMore(): Promise<void> {
    if (!cursor) return;
    try {
      const page = await call<{ appointments: AppointmentRow[]; cursor?: string; unreadable?: string[] }>('admin/appointments', { query: { limit: '100', cursor } });
      for (const id of page.unreadable ?? []) unreadable.add(id);
      const known = new Set(rows.map((r) => r.appointment_id));
      rows = rows.concat(page.appointments.filter((r) => !known.has(r.appointment_id)));
      cursor = page.cursor;
      render();
    } catch (err) {
      state.textContent = `More appointments could not be loaded: ${describe(err)}`;
    }
  }

  async function showHistory(id: string): Promise<void> {
    shownHistory = id;
    const target = $('history-body');
    $('history-title').textContent = `History of ${id}`;
    replaceChildren(target, h('p', { class: 'muted' }, 'Loading…'));
    if (!dialog.open) dialog.showModal();
    try {
      const v = await call<HistoryView>('admin/history', { query: { appointment_id: id } });
      const a = v.appointment;
      replaceChildren(
        target,
        a
          ? h(
              'p',
              {},
              h('span', { class: `badge disp-${a.disposition}` }, a.disposition),
              ` ${a.patient_name} · ${a.appointment_local}${a.provider_name ? ` with ${a.provider_name}` : ''}`,
              h('br'),
              h('span', { class: 'muted' }, a.reminder.text),
            )
          : h('p', { class: 'muted' }, 'No current state (only history records).'),
        v.plan && v.plan.reminders.length > 0
          ? h(
              'div',
              { class: 'scroll' },
              h(
                'table',
                {},
                h('caption', {}, 'Reminders'),
                h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, '#'), h('th', { scope: 'col' }, 'Due'), h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, 'When / why'))),
                h(
                  'tbody',
                  {},
                  ...v.plan.reminders.map((r) =>
                    h('tr', {}, h('td', {}, r.n), h('td', {}, r.due_at ? formatTime(r.due_at) : ''), h('td', {}, r.status), h('td', {}, [r.at ? formatTime(r.at) : '', r.reason ?? ''].filter(Boolean).join(' · '))),
                  ),
                ),
              ),
            )
          : null,
        h(
          'div',
          { class: 'scroll' },
          h(
            'table',
            {},
            h('caption', {}, 'Events, oldest first'),
            h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Event time'), h('th', { scope: 'col' }, 'Event'), h('th', { scope: 'col' }, 'Appointment time'), h('th', { scope: 'col' }, 'Received'), h('th', { scope: 'col' }, 'Detail'))),
            h(
              'tbody',
              {},
              ...v.history.map((e) =>
                h(
                  'tr',
                  {},
                  h('td', {}, formatTime(e.event_datetime_utc, true)),
                  h('td', {}, h('strong', {}, e.event_type)),
                  h('td', {}, e.appointment_local),
                  h('td', {}, formatTime(e.received_at, true)),
                  h('td', { class: 'mono' }, e.detail ? Object.entries(e.detail).map(([k, val]) => `${k}=${val}`).join(' ') : ''),
                ),
              ),
            ),
          ),
        ),
      );
    } catch (err) {
      replaceChildren(target, h('p', { class: 'banner error' }, `The history could not be loaded: ${describe(err)}`));
    }
  }

  const exportButton = (id: string, table: 'appointments' | 'history', appointmentId?: () => string | undefined) =>
    $(id).addEventListener('click', (e) =>
      void whileBusy(e.currentTarget as HTMLButtonElement, async () => {
        try {
          const n = await downloadCsv(table, appointmentId?.());
          state.textContent = `Downloaded ${n} row${n === 1 ? '' : 's'}.`;
        } catch (err) {
          state.textContent = `The export failed: ${describe(err)}`;
        }
      }),
    );
  exportButton('export-appointments', 'appointments');
  exportButton('export-history', 'history');
  exportButton('history-export', 'history', () => shownHistory);

  $('history-close').addEventListener('click', () => dialog.close());
  $('appointments-refresh').addEventListener('click', (e) => void whileBusy(e.currentTarget as HTMLButtonElement, load));
  more.addEventListener('click', () => void whileBusy(more, loadMore));
  return { load };
}
