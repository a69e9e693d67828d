import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FLOW_EVENT_TYPES, STAFF_MESSAGE_TYPE } from '../src/domain/event-types';
import { WIDGET_EVENTS } from '../src/local/studio/catalogue';
import { validateFlowDefinition } from '../src/local/studio/validate';
import { loadFlowTemplate, renderFlow } from './render-flow';

interface State {
  name: string;
  type: keyof typeof WIDGET_EVENTS;
  transitions: { event: string; next?: string }[];
  properties: Record<string, unknown>;
}

const placeholders = {
  functionsBaseUrl: 'https://patient-appointment-management-1234-dev.twil.io/',
  ieEndpoint: 'https://ehr.example.org/twilio/requests',
  customerName: 'Owl "Night" Clinic \\ Dr\'s',
  originMarker: 'f'.repeat(32),
};
const flow = renderFlow(loadFlowTemplate(), placeholders) as { states: State[]; initial_state: string };

/** Texts sent before the language is known carry both languages; a staff text is in the words staff wrote. */
const BILINGUAL = ['send_reply_failed', 'send_staff_message'];

function state(name: string): State {
  const s = flow.states.find((x) => x.name === name);
  if (!s) throw new Error(`no state ${name}`);
  return s;
}

function nextOf(s: State, event: string): string | undefined {
  return s.transitions.find((t) => t.event === event)?.next;
}

/** Every state reachable from `start` (inclusive) by following transitions. */
function reachable(start: string | undefined): string[] {
  const seen = new Set<string>();
  const todo = start ? [start] : [];
  for (let name = todo.pop(); name !== undefined; name = todo.pop()) {
    if (seen.has(name)) continue;
    seen.add(name);
    for (const t of state(name).transitions) if (t.next) todo.push(t.next);
  }
  return [...seen];
}

describe('studio/flow.json', () => {
  it('is a definition FlowValidate accepts (local validator)', () => {
    const result = validateFlowDefinition(flow);
    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('sends every transition to a state that exists', () => {
    const names = new Set(flow.states.map((s) => s.name));
    expect(names.has(flow.initial_state)).toBe(true);
    for (const s of flow.states) for (const t of s.transitions) if (t.next) expect(names, `${s.name} → ${t.next}`).toContain(t.next);
  });

  it('uses only events each widget type defines, and lists all of them', () => {
    for (const s of flow.states) {
      const legal: readonly string[] = WIDGET_EVENTS[s.type];
      expect(legal, s.type).toBeDefined();
      for (const t of s.transitions) expect(legal, `${s.name}.${t.event}`).toContain(t.event);
      expect(new Set(s.transitions.map((t) => t.event))).toEqual(new Set(legal));
    }
  });

  it('calls only Functions that exist in functions/', () => {
    const calls = flow.states.filter((s) => s.type === 'run-function');
    expect(calls.length).toBeGreaterThan(0);
    for (const s of calls) {
      const url = new URL(String(s.properties.url));
      expect(url.origin).toBe('https://patient-appointment-management-1234-dev.twil.io');
      const base = path.join(__dirname, '..', 'functions', url.pathname);
      expect(existsSync(`${base}.ts`) || existsSync(`${base}.protected.ts`), url.pathname).toBe(true);
    }
  });

  it('handles exactly the domain’s flow event types (FLOW_EVENT_TYPES) in every split on event_type, each once', () => {
    // Adding a type to src/domain/event-types.ts fails here until the flow has a branch for it.
    const splits = flow.states.filter((s) => s.type === 'split-based-on' && /\bevent_type\b/.test(String(s.properties.input)));
    expect(splits.map((s) => s.name).sort()).toEqual(['split_event', 'split_event_es', 'split_staff']);
    // split_staff only picks out the staff texts, before any event text.
    const staff = (state('split_staff').transitions as { conditions?: { value: string }[] }[]).flatMap((t) => t.conditions ?? []);
    expect(staff.map((c) => c.value)).toEqual([STAFF_MESSAGE_TYPE]);
    expect(FLOW_EVENT_TYPES as readonly string[]).not.toContain(STAFF_MESSAGE_TYPE);
    for (const split of splits.filter((s) => s.name !== 'split_staff')) {
      const conditions = (split.transitions as { conditions?: { type: string; value: string }[] }[]).flatMap((t) => t.conditions ?? []);
      expect(
        conditions.every((c) => c.type === 'equal_to'),
        split.name,
      ).toBe(true);
      const values = conditions.map((c) => c.value);
      expect(values.length, `${split.name}: a value handled twice`).toBe(new Set(values).size);
      expect([...values].sort(), split.name).toEqual([...FLOW_EVENT_TYPES].sort());
    }
  });

  it('has no send-and-wait-for-reply widget: no execution holds the contact waiting for a reply', () => {
    expect(flow.states.filter((s) => s.type === 'send-and-wait-for-reply').map((s) => s.name)).toEqual([]);
  });

  it('ends every outbound branch right after one send-message, and sends nothing for an unknown event_type', () => {
    for (const name of ['split_event', 'split_event_es']) {
      const split = state(name);
      expect(split.transitions.find((t) => t.event === 'noMatch')?.next).toBeUndefined();
      const branches = split.transitions.filter((t) => t.event === 'match');
      expect(branches).toHaveLength(FLOW_EVENT_TYPES.length);
      for (const b of branches) {
        const send = state(String(b.next));
        expect(send.type, send.name).toBe('send-message');
        expect(
          send.transitions.map((t) => t.next),
          send.name,
        ).toEqual([undefined, undefined]);
      }
    }
  });

  it('sends a staff text only for an execution our Functions started, word for word, before any event text', () => {
    expect(nextOf(state('split_origin'), 'match')).toBe('split_staff');
    const staff = state('split_staff') as unknown as {
      transitions: { event: string; next?: string; conditions?: { arguments: string[]; value: string }[] }[];
    };
    expect(staff.transitions.find((t) => t.event === 'noMatch')?.next).toBe('set_display_ours');
    const match = staff.transitions.find((t) => t.event === 'match');
    expect(match?.conditions).toEqual([expect.objectContaining({ arguments: ['{{flow.data.event_type}}'], value: STAFF_MESSAGE_TYPE })]);
    const send = state(String(match?.next));
    expect(send.properties.body).toBe('{{flow.data.staff_message}}');
    expect(send.transitions.map((t) => t.next)).toEqual([undefined, undefined]);
    // An execution someone else started (no origin marker) never reaches it.
    expect(reachable('record_event')).not.toContain(send.name);
  });

  it('routes an incoming SMS from the trigger to the reply Function, never through the EHR-event split', () => {
    const viaMessage = reachable(nextOf(state('Trigger'), 'incomingMessage'));
    expect(viaMessage).not.toContain('split_event');
    expect(viaMessage).toContain('capture_inbound');
    expect(viaMessage).toContain('process_reply');
    const viaRest = reachable(nextOf(state('Trigger'), 'incomingRequest'));
    expect(viaRest).toContain('split_event');
    expect(viaRest).not.toContain('process_reply');
    // The reply path reads the message from the trigger, not from a waiting widget.
    const captured = state('capture_inbound').properties.variables as { value: string }[];
    for (const v of captured) expect(v.value).toMatch(/^\{\{trigger\.message\.\w+\}\}$/);
  });

  it('texts a REST-started execution only if it carries our origin marker, or after /studio/event recorded it and said to', () => {
    const origin = state('split_origin');
    const ours = origin.transitions.find((t) => t.event === 'match') as {
      next?: string;
      conditions?: { arguments: string[]; value: string }[];
    };
    expect(ours.conditions).toEqual([
      expect.objectContaining({ arguments: ['{{flow.data.origin}}'], type: 'equal_to', value: placeholders.originMarker }),
    ]);
    expect(origin.transitions.find((t) => t.event === 'noMatch')?.next).toBe('record_event');
    const record = state('record_event');
    expect(String(record.properties.url)).toMatch(/\/studio\/event$/);
    expect(record.transitions.find((t) => t.event === 'fail')?.next).toBeUndefined();
    const recorded = state('split_recorded');
    expect(recorded.transitions.find((t) => t.event === 'noMatch')?.next).toBeUndefined();
    expect(reachable('record_event')).toContain('split_event');
    expect(reachable('record_event')).toContain('split_event_es');
    // Every send on the event path reads the display values the path set, never flow.data directly.
    for (const s of flow.states.filter((x) => x.type === 'send-message' && reachable('split_language').includes(x.name))) {
      expect(String(s.properties.body), s.name).not.toContain('flow.data.');
    }
  });

  it('picks the language on both paths from the value our Functions supply: es gets Spanish, anything else English', () => {
    for (const [split, subject, es, en] of [
      ['split_language', '{{flow.variables.language}}', 'split_event_es', 'split_event'],
      ['split_reply_language', '{{widgets.process_reply.parsed.language}}', 'split_action_es', 'split_action'],
    ] as const) {
      const s = state(split) as unknown as {
        properties: { input: string };
        transitions: { event: string; next?: string; conditions?: unknown[] }[];
      };
      expect(s.properties.input).toBe(subject);
      expect(s.transitions).toEqual([
        { event: 'noMatch', next: en },
        { event: 'match', next: es, conditions: [expect.objectContaining({ arguments: [subject], type: 'equal_to', value: 'es' })] },
      ]);
    }
    for (const name of ['set_display_ours', 'set_display_recorded']) {
      expect(nextOf(state(name), 'next')).toBe('split_language');
      expect((state(name).properties.variables as { key: string }[]).map((v) => v.key)).toContain('language');
    }
    expect(nextOf(state('process_reply'), 'success')).toBe('split_reply_language');
  });

  it('has every text in both languages: each English send has a Spanish twin using the same values, and back', () => {
    const sends = flow.states.filter((s) => s.type === 'send-message');
    const refs = (s: State) =>
      [...String(s.properties.body).matchAll(/\{\{\s*([\w.]+)\s*\}\}|\{%\s*if\s+([\w.]+)/g)].map((m) => m[1] ?? m[2]).sort();
    const names = new Set(sends.map((s) => s.name));
    const spanish = sends.filter((s) => s.name.endsWith('_es'));
    const english = sends.filter((s) => !s.name.endsWith('_es') && !BILINGUAL.includes(s.name));
    expect(english.length).toBeGreaterThanOrEqual(12);
    for (const en of english) {
      expect(names, `${en.name} has no Spanish text`).toContain(`${en.name}_es`);
      expect([...new Set(refs(state(`${en.name}_es`)))], `${en.name}_es uses other values`).toEqual([...new Set(refs(en))]);
      expect(String(state(`${en.name}_es`).properties.body)).not.toBe(String(en.properties.body));
    }
    for (const es of spanish) expect(names, `${es.name} has no English text`).toContain(es.name.replace(/_es$/, ''));
    // Both splits send each language to its own texts, branch for branch.
    for (const [en, es] of [
      ['split_event', 'split_event_es'],
      ['split_action', 'split_action_es'],
    ] as const) {
      const branches = (n: string) =>
        state(n)
          .transitions.filter((t) => t.event === 'match')
          .map((t) => t.next);
      expect(branches(es)).toEqual(branches(en).map((n) => `${n}_es`));
    }
  });

  it('says a failed reply in both languages, since the language is unknown when the Function failed', () => {
    const body = String(state('send_reply_failed').properties.body);
    expect(body).toMatch(/couldn't process your reply/);
    expect(body).toMatch(/no pudimos procesar su respuesta/);
  });

  it('sets the same settings on both paths', () => {
    expect(state('set_reply_settings').properties.variables).toEqual(state('set_settings').properties.variables);
  });

  it('writes every timeout as a plain number of seconds, never Liquid', () => {
    for (const s of flow.states) {
      const timeout = s.properties.timeout;
      if (timeout === undefined) continue;
      expect(String(timeout as string | number), `${s.name}.timeout`).toMatch(/^\d+$/);
    }
  });

  it('uses Liquid only in the properties Studio documents for it', () => {
    const liquid: Partial<Record<State['type'], string[]>> = { 'send-message': ['from', 'to', 'body'], 'split-based-on': ['input'] };
    for (const s of flow.states) {
      for (const [key, value] of Object.entries(s.properties)) {
        if (typeof value !== 'string' || !/\{\{|\{%/.test(value)) continue;
        expect(liquid[s.type] ?? [], `${s.name}.${key}`).toContain(key);
      }
    }
  });

  it('passes appointment data to Functions as separate parameters, never as a rendered object', () => {
    for (const s of flow.states.filter((x) => x.type === 'run-function')) {
      for (const p of s.properties.parameters as { value: string }[]) {
        expect(p.value).not.toMatch(/\{\{\s*(flow\.data|trigger\.request\.parameters|widgets\.[\w-]+)\s*\}\}/);
      }
    }
  });

  it('keeps quotes and backslashes in the customer name intact', () => {
    const vars = flow.states.find((s) => s.name === 'set_settings')?.properties.variables as { key: string; value: string }[];
    expect(vars.find((v) => v.key === 'CUSTOMER_NAME')?.value).toBe(placeholders.customerName);
  });

  it('refuses a template with an unknown placeholder', () => {
    expect(() => renderFlow({ states: [{ body: '__NOPE__' }] }, placeholders)).toThrow(/NOPE/);
  });
});
