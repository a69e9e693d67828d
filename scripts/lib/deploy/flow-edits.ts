/**
 * What a clinic changed in the Studio canvas since `npm run deploy` last published the flow.
 *
 * The deploy's memory lives on the flow itself: every revision it publishes carries a commit
 * message starting with DEPLOY_COMMIT_PREFIX. A `.env` in CI or a fresh clone on another machine
 * therefore finds the same baseline, and a flow published by an older deploy (whose commit message
 * was exactly the prefix) counts as the deploy's too.
 */

export const DEPLOY_COMMIT_PREFIX = 'npm run deploy';

export function isDeployCommit(commitMessage: string | null | undefined): boolean {
  return (commitMessage ?? '').startsWith(DEPLOY_COMMIT_PREFIX);
}

export function deployCommitMessage(replacedRevision?: number): string {
  return replacedRevision === undefined
    ? DEPLOY_COMMIT_PREFIX
    : `${DEPLOY_COMMIT_PREFIX} --replace-flow (replaced canvas revision ${replacedRevision})`;
}

export type WidgetChange =
  | { widget: string; change: 'added' | 'removed' | 'changed' }
  /** A send widget whose body differs; `language` from the `_es` twin convention of studio/flow.json. */
  | { widget: string; change: 'text'; language: 'English' | 'Spanish' };

interface State {
  name: string;
  type: string;
  properties: Record<string, unknown>;
  transitions: unknown;
}

const SEND_WIDGETS = new Set(['send-message', 'send-and-wait-for-reply']);

function statesOf(definition: unknown): Map<string, State> {
  const states = (definition as { states?: unknown } | null)?.states;
  const list = Array.isArray(states) ? (states as (Partial<State> | null)[]) : [];
  return new Map(
    list
      .filter((s): s is Partial<State> & { name: string } => typeof s?.name === 'string')
      .map((s) => [s.name, { name: s.name, type: String(s.type), properties: s.properties ?? {}, transitions: s.transitions ?? [] }]),
  );
}

/** JSON with sorted keys, so two definitions compare by content, not by key order. */
export function canonical(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === 'object')
      return Object.fromEntries(
        Object.entries(v)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([k, x]) => [k, sort(x)]),
      );
    return v;
  };
  return JSON.stringify(sort(value));
}

/** A widget as it behaves: dragging it around the canvas (`offset`) is not an edit worth refusing a deploy for. */
function behaviour(s: State | undefined): string {
  if (!s) return '';
  const { offset: _offset, ...properties } = s.properties;
  return canonical({ type: s.type, properties, transitions: s.transitions });
}

function languageOf(widget: string): 'English' | 'Spanish' {
  return widget.endsWith('_es') ? 'Spanish' : 'English';
}

/**
 * The widgets whose behaviour differs between the definition the deploy published and the one
 * Studio serves now, leaving out those whose current form studio/flow.json already carries
 * (`incoming`): overwriting them loses nothing. Flow-level settings outside `states` are not compared.
 */
export function canvasEdits(deployed: unknown, current: unknown, incoming?: unknown): WidgetChange[] {
  const before = statesOf(deployed);
  const after = statesOf(current);
  const next = incoming === undefined ? undefined : statesOf(incoming);
  const names = [...new Set([...before.keys(), ...after.keys()])].sort();
  const changes: WidgetChange[] = [];
  for (const widget of names) {
    const was = before.get(widget);
    const now = after.get(widget);
    if (behaviour(was) === behaviour(now)) continue;
    if (next && behaviour(next.get(widget)) === behaviour(now)) continue;
    if (!was) changes.push({ widget, change: 'added' });
    else if (!now) changes.push({ widget, change: 'removed' });
    else if (SEND_WIDGETS.has(now.type) && canonical(was.properties.body) !== canonical(now.properties.body))
      changes.push({ widget, change: 'text', language: languageOf(widget) });
    else changes.push({ widget, change: 'changed' });
  }
  return changes;
}

export function describeEdit(c: WidgetChange): string {
  switch (c.change) {
    case 'text':
      return `${c.widget}: text changed (${c.language})`;
    case 'added':
      return `${c.widget}: widget added`;
    case 'removed':
      return `${c.widget}: widget removed`;
    case 'changed':
      return `${c.widget}: widget changed`;
  }
}
