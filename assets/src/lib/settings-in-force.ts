import { call, describe } from './api';
import { $, h, replaceChildren, setBanner } from './dom';
import type { SettingsInForce } from '../../../src/admin/api-types';

/**
 * The settings in force, in sentences; answers whether the Simulation panel is available here
 * (a deployed service hides it unless SIMULATION_ENABLED is set; the API refuses it either way).
 */
export function setUpSettingsInForce(options: { onSimulation: (enabled: boolean) => void }): { load(): Promise<void> } {
  const state = $('in-force-state');
  const list = $('in-force-list');

  async function load(): Promise<void> {
    let answer: SettingsInForce;
    try {
      answer = await call<SettingsInForce>('admin/settings-in-force');
    } catch (err) {
      setBanner(state, 'error', `The settings in force could not be read: ${describe(err)}`);
      return;
    }
    state.hidden = true;
    replaceChildren(
      list,
      ...answer.settings.map((s) =>
        h(
          'div',
          { class: 'in-force-item', 'data-key': s.key },
          h('dt', {}, s.label),
          h('dd', {}, s.words, s.variables.length ? h('span', { class: 'muted mono in-force-vars' }, ` ${s.variables.join(', ')}`) : null),
        ),
      ),
    );
    options.onSimulation(answer.simulation.enabled);
  }

  return { load };
}
