import { call, describe } from './api';
import { $, formatTime, h, replaceChildren, setBanner, whileBusy } from './dom';
import type { OptOutsAnswer } from '../../../src/admin/api-types';

/**
 * The phones opted out of texts, searchable by part of the number. There is deliberately no
 * button to undo one: only the patient's own START can.
 */
export function setUpOptOuts(): { load(): Promise<void> } {
  const form = $<HTMLFormElement>('opt-outs-form');
  const search = $<HTMLInputElement>('opt-outs-q');
  const state = $('opt-outs-state');
  const body = $('opt-outs-table').querySelector('tbody') as HTMLTableSectionElement;
  const more = $<HTMLButtonElement>('opt-outs-more');
  let cursor: string | undefined;

  const row = (o: OptOutsAnswer['opt_outs'][number]) =>
    h('tr', {}, h('td', { class: 'mono' }, o.phone), h('td', {}, formatTime(o.at)), h('td', {}, o.how_words));

  async function page(first: boolean): Promise<void> {
    let answer: OptOutsAnswer;
    try {
      answer = await call<OptOutsAnswer>('admin/opt-outs', {
        query: { q: search.value.trim(), cursor: first ? undefined : cursor, limit: '50' },
      });
    } catch (err) {
      setBanner(state, 'error', `The opt-outs could not be loaded: ${describe(err)}`);
      return;
    }
    if (first) replaceChildren(body);
    body.append(...answer.opt_outs.map(row));
    cursor = answer.cursor;
    more.hidden = !cursor;
    const n = body.rows.length;
    setBanner(
      state,
      'info',
      n === 0
        ? search.value.trim()
          ? 'No opted-out number matches.'
          : 'Nobody has opted out.'
        : `${n} number${n === 1 ? '' : 's'} shown${cursor ? ', more below' : ''}.`,
    );
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void whileBusy($<HTMLButtonElement>('opt-outs-search'), () => page(true));
  });
  more.addEventListener('click', () => void whileBusy(more, () => page(false)));
  return { load: () => page(true) };
}
