import { call, describe } from './api';
import { $, h, replaceChildren, whileBusy } from './dom';
import { browserZone } from './time';
import type { AppointmentPage, AppointmentRow, CsvPage, HistoryView, TimelineEntry } from '../../../src/admin/api-types';

const KIND_LABEL: Record<TimelineEntry['kind'], string> = {
  'ehr-event': 'EHR',
  text: 'Text',
  reply: 'Patient',
  'ehr-request': 'To the EHR',
  reminder: 'Reminder',
  system: 'System',
};

/** Fetches every page of an export and saves it as one CSV file. */
async function downloadCsv(table: 'appointments' | 'history', appointmentId?: string): Promise<number> {
  let csv = '';
  let cursor: string | undefined;
  let rows = 0;
  do {
    const page = await call<CsvPage>('admin/export', {
      query: { table, cursor, appointment_id: appointmentId },
    });
    csv += page.csv;
    rows += page.rows;
    cursor = page.cursor;
  } while (cursor);
  // The byte-order mark tells spreadsheet programs the file is UTF-8 (accents in names).
  const blob = new Blob(['\ufeff', csv], { type: 'text/csv;charset=utf-8' });
  const href = URL.createObjectURL(blob);
  const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
  const a = h('a', {
    href,
    download: `${appointmentId ? `history-${appointmentId.replace(/[^A-Za-z0-9_-]/g, '_')}` : table}-${stamp}.csv`,
  });
  document.body.append(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(href), 10_000);
  return rows;
}

export function setUpAppointments(options: { highlight: () => string | undefined }) {
  const state = $('appointments-state');
  const body = $('appointments-table').querySelector('tbody') as HTMLTableSectionElement;
  const form = $<HTMLFormElement>('appointments-filters');
  const prev = $<HTMLButtonElement>('appointments-prev');
  const next = $<HTMLButtonElement>('appointments-next');
  const pageLabel = $('appointments-page');
  const dialog = $<HTMLDialogElement>('history-dialog');
  const field = <T extends HTMLInputElement | HTMLSelectElement>(id: string) => $<T>(id);
  let range = 'all';
  let rows: AppointmentRow[] = [];
  /** Cursors of the pages before the one shown (the first page has none), and of the next one. */
  let previous: (string | undefined)[] = [];
  let current: string | undefined;
  let nextCursor: string | undefined;
  let shownHistory: string | undefined;
  const locations = new Set<string>();
  const providers = new Map<string, string>();

  const query = (): Record<string, string | undefined> => {
    const from = field<HTMLInputElement>('appt-from').value;
    const to = field<HTMLInputElement>('appt-to').value;
    return {
      q: field<HTMLInputElement>('appt-q').value.trim() || undefined,
      ...(from || to ? { from: from || undefined, to: to || undefined } : { range: range === 'all' ? undefined : range }),
      disposition: field<HTMLSelectElement>('appt-disposition').value || undefined,
      attention: field<HTMLSelectElement>('appt-attention').value || undefined,
      location: field<HTMLInputElement>('appt-location').value || undefined,
      provider: field<HTMLInputElement>('appt-provider').value.trim() || undefined,
      sort: field<HTMLSelectElement>('appt-sort').value,
      tz: browserZone(),
      limit: '25',
    };
  };

  const render = (page: AppointmentPage) => {
    const highlighted = options.highlight();
    replaceChildren(
      body,
      ...rows.map((r) => {
        const cell = (heading: string, cls: string | undefined, ...children: (Node | string | null)[]) =>
          h('td', { 'data-label': heading, class: cls }, ...children);
        return h(
          'tr',
          { 'data-appointment-id': r.appointment_id, class: r.appointment_id === highlighted ? 'current' : undefined },
          cell(
            'Appointment',
            undefined,
            h('span', { class: 'mono' }, r.appointment_id),
            r.appointment_location ? h('div', { class: 'muted' }, r.appointment_location) : null,
          ),
          cell('Patient', undefined, r.patient_name, h('div', { class: 'muted mono' }, r.patient_phone)),
          cell(
            "When (patient's time)",
            undefined,
            r.appointment_local,
            r.provider_name ? h('div', { class: 'muted' }, `with ${r.provider_name}`) : null,
          ),
          cell(
            'Disposition',
            'disposition',
            h('span', { class: `badge disp-${r.disposition}` }, r.disposition),
            r.patient_request ? h('div', { class: 'muted' }, `patient asked: ${r.patient_request.split(' at ')[0] ?? ''}`) : null,
            r.undeliverable
              ? h('div', { class: 'muted undeliverable' }, `number cannot receive texts: ${r.undeliverable.split(' at ')[0] ?? ''}`)
              : null,
          ),
          cell('Next reminder', undefined, r.reminder.text),
          cell(
            'Actions',
            'actions',
            h(
              'button',
              {
                type: 'button',
                class: 'secondary small',
                'aria-label': `History of ${r.appointment_id}`,
                onclick: () => void showHistory(r.appointment_id),
              },
              'History',
            ),
          ),
        );
      }),
    );
    const n = rows.length;
    const pageNo = previous.length + 1;
    const zone = page.zone.source === 'utc' ? 'UTC' : page.zone.name;
    // A rare filter can end a page before finding a row (each request looks at a bounded stretch).
    const shown =
      n === 0 && nextCursor
        ? 'None found in this stretch of the list yet; Next page looks further.'
        : n === 0
          ? pageNo === 1
            ? 'No appointments match. Clear the filters, or simulate BOOKED to create one.'
            : 'No more appointments.'
          : `${n} appointment${n === 1 ? '' : 's'} on page ${pageNo}${nextCursor ? ', more on the next page' : ''}. Dates are read in ${zone}.`;
    const unreadable = page.unreadable ?? [];
    state.textContent = [
      shown,
      page.truncated ? 'The search matched too many to show them all; add a word or a filter.' : '',
      page.filing_behind ? 'Some changes just received are still being added to this list; reload in a minute to see them.' : '',
      unreadable.length > 0 ? `${unreadable.length} could not be read (${unreadable.join(', ')}); see the logs.` : '',
    ]
      .filter(Boolean)
      .join(' ');
    pageLabel.textContent = `Page ${pageNo}`;
    prev.disabled = previous.length === 0;
    next.disabled = !nextCursor;
    for (const r of rows) {
      if (r.appointment_location) locations.add(r.appointment_location);
      if (r.provider_id) providers.set(r.provider_id, r.provider_name || r.provider_id);
    }
    replaceChildren($('appt-locations'), ...[...locations].sort().map((l) => h('option', { value: l })));
    replaceChildren($('appt-providers'), ...[...providers].map(([id, name]) => h('option', { value: id, label: name })));
  };

  async function fetchPage(cursor: string | undefined): Promise<void> {
    // One page at a time: a second click waits for the answer to the first.
    prev.disabled = true;
    next.disabled = true;
    try {
      const page = await call<AppointmentPage>('admin/appointments', { query: { ...query(), cursor } });
      rows = page.appointments;
      current = cursor;
      nextCursor = page.cursor;
      render(page);
    } catch (err) {
      state.textContent = `The appointments could not be loaded: ${describe(err)}`;
      prev.disabled = previous.length === 0;
      next.disabled = !nextCursor;
    }
  }

  /** The first page of the current filters. */
  async function load(): Promise<void> {
    previous = [];
    await fetchPage(undefined);
  }

  /** Shows one appointment: its id as the search, every other filter cleared. */
  async function show(id: string): Promise<void> {
    clearFilters();
    field<HTMLInputElement>('appt-q').value = id;
    await load();
  }

  const setRange = (value: string) => {
    range = value;
    for (const b of form.querySelectorAll<HTMLButtonElement>('[data-range]'))
      b.setAttribute('aria-pressed', String(b.dataset.range === value));
  };

  const clearFilters = () => {
    form.reset();
    setRange('all');
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void whileBusy($<HTMLButtonElement>('appt-apply'), load);
  });
  for (const b of form.querySelectorAll<HTMLButtonElement>('[data-range]')) {
    b.addEventListener('click', () => {
      setRange(b.dataset.range ?? 'all');
      field<HTMLInputElement>('appt-from').value = '';
      field<HTMLInputElement>('appt-to').value = '';
      void load();
    });
  }
  // A custom date range replaces the shortcut.
  for (const id of ['appt-from', 'appt-to']) field<HTMLInputElement>(id).addEventListener('change', () => setRange('all'));
  for (const id of ['appt-disposition', 'appt-attention', 'appt-sort'])
    field<HTMLSelectElement>(id).addEventListener('change', () => void load());
  $('appt-clear').addEventListener('click', () => {
    clearFilters();
    void load();
  });
  // Not whileBusy: it would enable the buttons again after render has set them for the new page.
  prev.addEventListener('click', () => {
    if (previous.length === 0) return;
    const back = previous.pop();
    void fetchPage(back);
  });
  next.addEventListener('click', () => {
    if (!nextCursor) return;
    previous.push(current);
    void fetchPage(nextCursor);
  });

  async function showHistory(id: string): Promise<void> {
    shownHistory = id;
    const target = $('history-body');
    $('history-title').textContent = `Timeline of ${id}`;
    replaceChildren(target, h('p', { class: 'muted' }, 'Loading…'));
    if (!dialog.open) dialog.showModal();
    try {
      const v = await call<HistoryView>('admin/history', { query: { appointment_id: id } });
      const a = v.appointment;
      const zoneNote =
        v.zone.source === 'clinic'
          ? `Times in the clinic's zone, ${v.zone.name}.`
          : `Times in the appointment's zone, ${v.zone.name} (no clinic zone is set: EHR_DEFAULT_TIMEZONE).`;
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
        h('p', { class: 'muted', id: 'timeline-zone' }, zoneNote),
        h('ol', { class: 'timeline', 'aria-label': `Timeline of ${id}, oldest first` }, ...v.timeline.map(timelineItem)),
      );
    } catch (err) {
      replaceChildren(target, h('p', { class: 'banner error' }, `The timeline could not be loaded: ${describe(err)}`));
    }
  }

  const exportButton = (id: string, table: 'appointments' | 'history', appointmentId?: () => string | undefined) =>
    $(id).addEventListener(
      'click',
      (e) =>
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
  $('appointments-refresh').addEventListener(
    'click',
    (e) => void whileBusy(e.currentTarget as HTMLButtonElement, () => fetchPage(current)),
  );
  return { load, show, refresh: () => fetchPage(current) };
}

function timelineItem(e: TimelineEntry): HTMLLIElement {
  return h(
    'li',
    { class: `tl tl-${e.kind}`, 'data-kind': e.kind },
    h('div', { class: 'tl-head' }, h('span', { class: 'tl-kind' }, KIND_LABEL[e.kind]), h('time', { datetime: e.at }, e.at_local)),
    h('strong', {}, e.title),
    e.ref ? h('span', { class: 'muted tl-ref', title: e.ref.id }, ` · ${e.ref.label}`) : null,
    e.detail ? h('div', { class: 'tl-detail' }, e.detail) : null,
    e.changes && e.changes.length > 0
      ? h(
          'ul',
          { class: 'tl-changes' },
          ...e.changes.map((c) =>
            h(
              'li',
              {},
              h('span', { class: 'tl-field' }, `${c.label}: `),
              h('del', {}, c.from || '(none)'),
              ' → ',
              h('ins', {}, c.to || '(none)'),
            ),
          ),
        )
      : null,
    e.body !== undefined ? h('blockquote', { class: 'tl-body' }, e.body) : null,
    e.status
      ? h(
          'div',
          { class: 'tl-status' },
          'Delivery: ',
          h(
            'span',
            { class: `badge ${/delivered|read/.test(e.status) ? 'ok' : /fail|undeliver/.test(e.status) ? 'error' : 'default'}` },
            e.status,
          ),
        )
      : null,
  );
}
