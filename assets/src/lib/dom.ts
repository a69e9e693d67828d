/** Small DOM helpers: everything from outside goes in as text, never as HTML. */

export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el as T;
}

type Child = Node | string | number | null | undefined | false;
type Props = Record<string, string | number | boolean | undefined | ((e: Event) => void)>;

/** `h('td', { class: 'x' }, 'text', child)`: attributes as strings, `on*` props as listeners. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, '').toLowerCase(), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

export function append(el: HTMLElement, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

export function replaceChildren(el: HTMLElement, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

export type BannerState = 'ok' | 'warning' | 'error' | 'loading' | 'info';

export function setBanner(el: HTMLElement, state: BannerState, ...content: Child[]): void {
  el.dataset.state = state;
  el.hidden = false;
  replaceChildren(el, ...content);
}

/** Marks a button busy while `task` runs, so a double click cannot send twice. */
export async function whileBusy<T>(button: HTMLButtonElement, task: () => Promise<T>): Promise<T> {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await task();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

/**
 * A moment in the admin's own time zone, the zone named (`Dec 1, 2026, 9:30 AM PST`): staff in
 * another zone than the patients must not misread it. With seconds where close events' order matters.
 */
export function formatTime(iso: string, seconds = false): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
    ...(seconds ? { second: '2-digit' } : {}),
    timeZoneName: 'short',
  });
}

/** Runs `fn` once `ms` after the last call. */
export function debounce(fn: () => void, ms: number): () => void {
  let timer: number | undefined;
  return () => {
    if (timer !== undefined) window.clearTimeout(timer);
    timer = window.setTimeout(() => {
      timer = undefined;
      fn();
    }, ms);
  };
}

/** Calls `fn` every `ms` while started; a slow call is never overlapped by the next one. */
export class Poller {
  private timer: number | undefined;
  private running = false;

  constructor(
    private readonly fn: () => Promise<void>,
    private readonly ms: number,
  ) {}

  start(now = true): void {
    this.stop();
    this.running = true;
    if (now) void this.tick();
    else this.schedule();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) window.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.running) this.timer = window.setTimeout(() => void this.tick(), this.ms);
  }

  private async tick(): Promise<void> {
    try {
      await this.fn();
    } catch {
      // Each poller shows its own error state; the next tick tries again.
    }
    this.schedule();
  }
}
