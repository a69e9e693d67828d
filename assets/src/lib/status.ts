import { call, describe, localFetch } from './api';
import { $, h, replaceChildren, setBanner, whileBusy } from './dom';
import type { StatusReport } from '../../../src/admin/api-types';

export function setUpStatus(options: { local: boolean; afterSweep: () => void }): { load(): Promise<void> } {
  const summary = $('status-summary');
  const list = $('status-list');

  async function load(): Promise<void> {
    setBanner(summary, 'loading', 'Checking…');
    let report: StatusReport;
    try {
      report = await call<StatusReport>('admin/status');
    } catch (err) {
      setBanner(summary, 'error', `The deployment could not be checked: ${describe(err)}`);
      return;
    }
    const bad = report.components.filter((c) => c.state !== 'ok').length;
    if (report.ok)
      setBanner(summary, 'ok', report.local ? 'Everything is in place (local, embedded components).' : 'Everything is in place.');
    else
      setBanner(
        summary,
        report.components.some((c) => c.state === 'error') ? 'error' : 'warning',
        `${bad} component${bad === 1 ? ' needs' : 's need'} attention.`,
      );
    replaceChildren(
      list,
      ...report.components.map((c) =>
        h(
          'li',
          { 'data-component': c.id },
          h('span', { class: `badge ${c.state}` }, c.state === 'ok' ? 'OK' : c.state === 'warning' ? 'Check' : 'Problem'),
          ' ',
          h('strong', {}, c.label),
          c.link ? h('span', {}, ' · ', h('a', { href: c.link.href, target: '_blank', rel: 'noopener noreferrer' }, c.link.label)) : null,
          h('span', { class: 'detail' }, c.detail),
        ),
      ),
    );
  }

  if (options.local) {
    $('sweep-now-box').hidden = false;
    const out = $<HTMLOutputElement>('sweep-now-result');
    $('sweep-now').addEventListener(
      'click',
      (e) =>
        void whileBusy(e.currentTarget as HTMLButtonElement, async () => {
          out.textContent = 'Running…';
          try {
            const res = await localFetch('__local/sweep', { method: 'POST', cache: 'no-store' });
            const body = (await res.json()) as { counts?: Record<string, number>; error?: { message?: string } };
            out.textContent = res.ok
              ? `Done: ${
                  Object.entries(body.counts ?? {})
                    .filter(([, v]) => v > 0)
                    .map(([k, v]) => `${k} ${v}`)
                    .join(', ') || 'nothing was due'
                }.`
              : `The sweep failed: ${body.error?.message ?? res.status}`;
          } catch (err) {
            out.textContent = `The sweep failed: ${describe(err)}`;
          }
          await load();
          options.afterSweep();
        }),
    );
  }

  $('status-refresh').addEventListener('click', (e) => void whileBusy(e.currentTarget as HTMLButtonElement, load));
  return { load };
}
