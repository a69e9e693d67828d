import { call, describe } from './api';
import { barChart, shortDay } from './chart';
import { $, h, replaceChildren, setBanner, whileBusy } from './dom';
import type { Figure, FiguresAnswer } from '../../../src/admin/api-types';

/** The figures in the order a practice manager reads them, with their names on the page. */
const SHOWN: { figure: Figure; name: string }[] = [
  { figure: 'sent', name: 'Texts sent' },
  { figure: 'delivered', name: 'Delivered' },
  { figure: 'failed', name: 'Failed' },
  { figure: 'confirmation_asks', name: 'Asked to confirm' },
  { figure: 'confirmed_by_text', name: 'Confirmed by text' },
  { figure: 'canceled_by_text', name: 'Canceled by text' },
  { figure: 'no_shows', name: 'No-shows' },
  { figure: 'opt_outs', name: 'Opt-outs' },
];

/** `YYYY-MM-DD` of an instant in the browser's zone (the clinic's, on the front desk's machine). */
function localDay(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

function percent(rate: number | null): string {
  return rate === null ? '—' : `${Math.round(rate * 100)} %`;
}

export function setUpFigures(options: { now: () => number }): { load(): Promise<void> } {
  const form = $<HTMLFormElement>('figures-form');
  const period = $<HTMLSelectElement>('figures-period');
  const custom = $('figures-custom');
  const from = $<HTMLInputElement>('figures-from');
  const to = $<HTMLInputElement>('figures-to');
  const state = $('figures-state');
  const totals = $('figures-totals');
  const charts = $('figures-charts');
  const table = $('figures-table');

  const range = (): { from: string; to: string } => {
    if (period.value === 'custom' && from.value && to.value) return { from: from.value, to: to.value };
    const days = period.value === '30' ? 30 : 7;
    const today = options.now();
    return { from: localDay(today - (days - 1) * 86_400_000), to: localDay(today) };
  };

  const showCustom = () => {
    custom.hidden = period.value !== 'custom';
    if (!custom.hidden && !from.value) {
      const r = range();
      from.value = localDay(options.now() - 6 * 86_400_000);
      to.value = r.to;
    }
  };

  async function load(): Promise<void> {
    const r = range();
    setBanner(state, 'loading', 'Loading the figures…');
    let f: FiguresAnswer;
    try {
      f = await call<FiguresAnswer>('admin/figures', { query: r });
    } catch (err) {
      setBanner(state, 'error', `The figures could not be loaded: ${describe(err)}`);
      return;
    }
    setBanner(state, 'info', `${shortDay(f.from)} to ${shortDay(f.to)} (${f.days.length} days), each day where the appointment is.`);
    const tile = (name: string, value: string, definition: string | undefined, key: string) =>
      h(
        'div',
        { class: 'figure-tile', 'data-figure': key },
        h('dt', {}, name),
        h('dd', {}, h('span', { class: 'figure-value' }, value), definition ? h('span', { class: 'figure-def muted' }, definition) : null),
      );
    replaceChildren(
      totals,
      ...SHOWN.map((s) => tile(s.name, String(f.totals[s.figure]), f.definitions[s.figure], s.figure)),
      tile('Confirmation rate', percent(f.confirmation_rate), f.definitions.confirmation_rate, 'confirmation_rate'),
      tile('Replies waiting in the inbox', String(f.inbox_waiting), f.definitions.inbox_waiting, 'inbox_waiting'),
    );
    replaceChildren(
      charts,
      ...SHOWN.map((s) =>
        h(
          'figure',
          { class: 'figure-chart' },
          h('figcaption', {}, `${s.name} per day`),
          barChart(
            s.name,
            f.days.map((d) => ({ day: d.day, value: d.counts[s.figure] })),
          ),
        ),
      ),
    );
    replaceChildren(
      table,
      h(
        'table',
        { class: 'figures-table' },
        h('caption', { class: 'visually-hidden' }, 'Figures per day'),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Day'), ...SHOWN.map((s) => h('th', { scope: 'col' }, s.name)))),
        h(
          'tbody',
          {},
          ...f.days.map((d) =>
            h('tr', {}, h('th', { scope: 'row' }, shortDay(d.day)), ...SHOWN.map((s) => h('td', {}, String(d.counts[s.figure])))),
          ),
        ),
      ),
    );
  }

  period.addEventListener('change', () => {
    showCustom();
    if (period.value !== 'custom') void load();
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void whileBusy($<HTMLButtonElement>('figures-show'), load);
  });
  return { load };
}
