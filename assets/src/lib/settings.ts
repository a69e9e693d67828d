import { call, describe } from './api';
import { $, h, replaceChildren, setBanner, whileBusy } from './dom';
import type { SettingsReport } from '../../../src/admin/api-types';

export function setUpSettings(): { load(): Promise<void> } {
  const summary = $('settings-summary');
  const problems = $('settings-problems');
  const variables = $('settings-variables').querySelector('tbody') as HTMLTableSectionElement;

  async function load(): Promise<void> {
    setBanner(summary, 'loading', 'Checking…');
    let report: SettingsReport;
    try {
      report = await call<SettingsReport>('admin/settings');
    } catch (err) {
      setBanner(summary, 'error', `The settings could not be checked: ${describe(err)}`);
      return;
    }
    if (report.ok) {
      setBanner(summary, 'ok', 'All settings are valid.');
      replaceChildren(problems);
    } else {
      setBanner(summary, 'error', `${report.problems.length} setting${report.problems.length === 1 ? ' needs' : 's need'} attention.`);
      replaceChildren(
        problems,
        h(
          'div',
          { class: 'scroll' },
          h(
            'table',
            { class: 'problems' },
            h('caption', { class: 'visually-hidden' }, 'Configuration problems'),
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                h('th', { scope: 'col' }, 'Variable'),
                h('th', { scope: 'col' }, 'Problem'),
                h('th', { scope: 'col' }, 'How to fix'),
              ),
            ),
            h('tbody', {}, ...report.problems.map((p) => h('tr', {}, h('td', {}, p.variable), h('td', {}, p.problem), h('td', {}, p.fix)))),
          ),
        ),
      );
    }
    replaceChildren(
      variables,
      ...report.variables.map((v) =>
        h(
          'tr',
          {},
          h('td', { class: 'mono' }, v.variable),
          h(
            'td',
            {},
            h(
              'span',
              { class: `badge ${v.state === 'problem' ? 'error' : v.state}` },
              v.state === 'default' ? 'default' : v.state === 'ok' ? 'set' : 'problem',
            ),
          ),
          h('td', { class: 'mono' }, v.secret ? (v.state === 'default' ? '' : 'secret, not shown') : (v.value ?? '')),
        ),
      ),
    );
  }

  $('settings-refresh').addEventListener('click', (e) => void whileBusy(e.currentTarget as HTMLButtonElement, load));
  return { load };
}
