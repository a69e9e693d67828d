import { call } from './api';
import { $, formatTime, h, replaceChildren } from './dom';
import type { RejectedEventsAnswer } from '../../../src/admin/api-types';

/**
 * Events an integration engine posted to the Studio flow that we refused: the engine got Twilio's
 * 201 and cannot see why, so the reasons are shown here.
 */
export function setUpRejectedEvents() {
  const list = $('rejected-list');
  const state = $('rejected-state');

  async function load(): Promise<void> {
    try {
      const { rejected } = await call<RejectedEventsAnswer>('admin/rejected-events');
      state.textContent =
        rejected.length === 0
          ? 'None: every event posted to the flow was recorded.'
          : `${rejected.length} most recent refused event${rejected.length === 1 ? '' : 's'}.`;
      replaceChildren(
        list,
        ...rejected.map((r) =>
          h(
            'li',
            {},
            h('strong', {}, r.event_type ?? 'event'),
            ` · appointment ${r.appointment_id ?? '?'} · ${formatTime(r.at)}${r.execution_sid ? ` · execution ${r.execution_sid}` : ''}`,
            h('br'),
            h('span', { class: 'muted' }, r.problems.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message)).join('; ')),
          ),
        ),
      );
    } catch {
      state.textContent = 'Could not load the refused events.';
    }
  }

  $('rejected-refresh').addEventListener('click', () => void load());
  return { load };
}
