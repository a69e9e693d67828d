import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canvasEdits, deployCommitMessage, describeEdit, isDeployCommit } from '../../scripts/lib/deploy/flow-edits';
import { loadFlowTemplate } from '../../studio/render-flow';

/* eslint-disable @typescript-eslint/no-explicit-any -- flow definitions are JSON read loosely and edited */

const template = loadFlowTemplate() as any;
const states = template.states as any[];
const sends = states.filter((s) => s.type === 'send-message').map((s) => s.name as string);

function copy(): any {
  return structuredClone(template);
}

function state(definition: any, name: string): any {
  return (definition.states as any[]).find((s) => s.name === name);
}

/** The same object with its keys in another order, at every depth. */
function reorderKeys(value: unknown, flip: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => reorderKeys(v, flip));
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).map(([k, v]): [string, unknown] => [k, reorderKeys(v, flip)]);
    return Object.fromEntries(flip ? entries.reverse() : entries);
  }
  return value;
}

describe('canvasEdits', () => {
  it('finds nothing when only the order of widgets, the order of keys or the widgets’ positions differ', () => {
    fc.assert(
      fc.property(
        fc.shuffledSubarray(
          states.map((_, i) => i),
          { minLength: states.length },
        ),
        fc.boolean(),
        fc.integer(),
        (order, flip, dx) => {
          const moved = copy();
          moved.states = order.map((i) => {
            const s = structuredClone(states[i]);
            s.properties.offset = { x: dx, y: -dx };
            return s;
          });
          expect(canvasEdits(template, reorderKeys(moved, flip))).toEqual([]);
        },
      ),
    );
  });

  it('names exactly the send widgets whose text changed, with their language, whatever the new text', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.constantFrom(...sends), { minLength: 1, maxLength: 5 }),
        fc.string({ unit: 'grapheme' }),
        (edited, text) => {
          const current = copy();
          for (const name of edited) state(current, name).properties.body = `${text}|${name}`;
          const changes = canvasEdits(template, current);
          expect(changes.map((c) => c.widget)).toEqual([...edited].sort());
          for (const c of changes)
            expect(c).toEqual({ widget: c.widget, change: 'text', language: c.widget.endsWith('_es') ? 'Spanish' : 'English' });
        },
      ),
    );
  });

  it('tells added, removed and otherwise changed widgets apart', () => {
    const current = copy();
    current.states = current.states.filter((s: any) => s.name !== 'send_help');
    current.states.push({ ...structuredClone(state(template, 'send_help')), name: 'send_hours' });
    state(current, 'split_language').transitions = [];
    expect(canvasEdits(template, current).map(describeEdit)).toEqual([
      'send_help: widget removed',
      'send_hours: widget added',
      'split_language: widget changed',
    ]);
  });

  it('leaves out a widget the incoming definition already has in its edited form', () => {
    const current = copy();
    state(current, 'send_help').properties.body = 'Call us.';
    state(current, 'send_help_es').properties.body = 'Llamenos.';
    const incoming = copy();
    state(incoming, 'send_help').properties.body = 'Call us.';
    expect(canvasEdits(template, current, incoming)).toEqual([{ widget: 'send_help_es', change: 'text', language: 'Spanish' }]);
  });
});

describe('the deploy’s commit messages', () => {
  it('mark its own revisions, the older deploy’s and the replacing ones, and nothing a clinic types', () => {
    expect(isDeployCommit(deployCommitMessage())).toBe(true);
    expect(isDeployCommit(deployCommitMessage(7))).toBe(true);
    expect(deployCommitMessage(7)).toContain('revision 7');
    for (const other of [null, undefined, '', 'Clinic wording', 'npm run']) expect(isDeployCommit(other)).toBe(false);
  });
});
