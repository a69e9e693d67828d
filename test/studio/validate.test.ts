import { describe, expect, it } from 'vitest';
import { FLOW_SCHEMA_URL } from '../../src/local/studio/flow-schema';
import { validateFlowDefinition } from '../../src/local/studio/validate';
import { condition, flow, message, reminderFlow, trigger } from './support';

type Json = Record<string, unknown>;

/** A flow with every runnable widget plus voice widgets, typed the way Console exports are (§1.4). */
function fullFlow(): Json {
  const base = reminderFlow();
  const states = base.states as Json[];
  states.push(
    {
      name: 'init',
      type: 'set-variables',
      properties: {
        variables: [
          { key: 'count', value: '0' },
          { key: 'label', value: '{{flow.data.x}}', type: 'string' },
        ],
        offset: { x: 10, y: 20 },
      },
      transitions: [{ event: 'next', next: 'post' }],
    },
    {
      name: 'post',
      type: 'make-http-request',
      properties: {
        method: 'POST',
        url: 'https://example.test/hook',
        content_type: 'application/json;charset=utf-8',
        body: '{"a":1}',
        add_twilio_auth: false,
      },
      transitions: [{ event: 'success', next: 'fn' }, { event: 'failed' }],
    },
    {
      name: 'fn',
      type: 'run-function',
      properties: {
        url: 'https://svc-1234.twil.io/x',
        service_sid: 'ZS1',
        environment_sid: 'ZE1',
        function_sid: 'ZH1',
        parameters: [{ key: 'k', value: 'v' }],
      },
      transitions: [{ event: 'success', next: 'say' }, { event: 'fail' }],
    },
    { name: 'say', type: 'say-play', properties: { say: 'Hello', loop: 1 }, transitions: [{ event: 'audioComplete', next: 'gather' }] },
    {
      name: 'gather',
      type: 'gather-input-on-call',
      properties: { timeout: 5, profanity_filter: 'true', stop_gather: true },
      transitions: [{ event: 'keypress' }, { event: 'speech' }, { event: 'timeout' }],
    },
    {
      name: 'call',
      type: 'make-outgoing-call-v2',
      properties: { timeout: 60, trim: 'true', record: false, detect_answering_machine: false, machine_detection_timeout: '30' },
      transitions: [{ event: 'answered' }, { event: 'busy' }, { event: 'noAnswer' }, { event: 'failed' }],
    },
  );
  return { ...base, $schema: FLOW_SCHEMA_URL };
}

/** Applies `edit` to a fresh full flow and returns the validation result. */
function validateEdited(edit: (def: Json, states: Json[]) => void) {
  const def = fullFlow();
  edit(def, def.states as Json[]);
  return validateFlowDefinition(def);
}

const stateIndex = (states: Json[], name: string) => states.findIndex((s) => s.name === name);

describe('validateFlowDefinition (FlowValidate, §1, §7.1)', () => {
  it('accepts a complete Console-style flow, voice widgets included', () => {
    const r = validateFlowDefinition(fullFlow());
    expect(r.errors).toEqual([]);
    expect(r.valid).toBe(true);
  });

  it('rejects a transition to an unknown state', () => {
    const r = validateEdited((_d, s) => {
      (s[stateIndex(s, 'route')]!.transitions as Json[])[0]!.next = 'nowhere';
    });
    expect(r.valid).toBe(false);
    expect(r.errors).toContainEqual({ property_path: `#/states/2/transitions/0/next`, message: expect.stringContaining('nowhere') });
  });

  it('rejects an event the widget does not define', () => {
    const r = validateEdited((_d, s) => {
      (s[stateIndex(s, 'thanks')]!.transitions as Json[]).push({ event: 'delivered' });
    });
    expect(r.errors).toEqual([expect.objectContaining({ property_path: '#/states/3/transitions/2/event' })]);
  });

  it('rejects run-function "failed" (its event is "fail")', () => {
    const r = validateEdited((_d, s) => {
      (s[stateIndex(s, 'fn')]!.transitions as Json[])[1] = { event: 'failed' };
    });
    expect(r.errors.map((e) => e.property_path)).toEqual([`#/states/${9}/transitions/1/event`]);
  });

  it('rejects an integer send-and-wait timeout', () => {
    const r = validateEdited((_d, s) => {
      (s[stateIndex(s, 'ask')]!.properties as Json).timeout = 3600;
    });
    expect(r.errors).toEqual([{ property_path: '#/states/1/properties/timeout', message: expect.stringMatching(/string/) }]);
  });

  it('rejects an unknown top-level key', () => {
    const r = validateEdited((d) => {
      d.version = 2;
    });
    expect(r.errors).toEqual([{ property_path: '#/version', message: expect.stringContaining('version') }]);
  });

  it('reports a missing initial_state as required', () => {
    const r = validateEdited((d) => {
      delete d.initial_state;
    });
    expect(r.errors).toEqual([{ property_path: '#/initial_state', message: 'is required' }]);
  });

  it('rejects an initial_state that names no state', () => {
    const r = validateEdited((d) => {
      d.initial_state = 'Start';
    });
    expect(r.errors).toEqual([{ property_path: '#/initial_state', message: expect.stringContaining('Start') }]);
  });

  it('rejects duplicate state names', () => {
    const r = validateEdited((_d, s) => {
      s.push(message('thanks', 'again'));
    });
    expect(r.errors).toEqual([{ property_path: `#/states/${s13()}/name`, message: expect.stringContaining('duplicate') }]);
  });

  it('rejects an unknown widget type', () => {
    const r = validateEdited((_d, s) => {
      s[3]!.type = 'send-telegram';
    });
    expect(r.errors).toEqual([{ property_path: '#/states/3/type', message: 'is not a known widget type' }]);
  });

  it('rejects conditions outside split match transitions', () => {
    const r = validateEdited((_d, s) => {
      (s[3]!.transitions as Json[])[0]!.conditions = [condition('{{x}}', 'equal_to', 'y')];
      (s[2]!.transitions as Json[])[0]!.conditions = [condition('{{x}}', 'equal_to', 'y')];
    });
    expect(r.errors.map((e) => e.property_path).sort()).toEqual([
      '#/states/2/transitions/0/conditions',
      '#/states/3/transitions/0/conditions',
    ]);
  });

  it('requires all four keys of a condition and a known operator', () => {
    const r = validateEdited((_d, s) => {
      const c = ((s[2]!.transitions as Json[])[1]!.conditions as Json[])[0]!;
      delete c.value;
      c.type = 'sounds_like';
    });
    expect(r.errors).toEqual(
      expect.arrayContaining([
        { property_path: '#/states/2/transitions/1/conditions/0/value', message: 'is required' },
        expect.objectContaining({ property_path: '#/states/2/transitions/1/conditions/0/type' }),
      ]),
    );
  });

  it('requires from and body on messaging widgets, url and a GET|POST method on HTTP', () => {
    const r = validateEdited((_d, s) => {
      delete (s[3]!.properties as Json).body;
      delete (s[1]!.properties as Json).from;
      const post = s[stateIndex(s, 'post')]!.properties as Json;
      post.method = 'PUT';
      delete post.url;
      delete (s[stateIndex(s, 'fn')]!.properties as Json).url;
    });
    expect(r.errors.map((e) => e.property_path).sort()).toEqual(
      [
        '#/states/1/properties/from',
        '#/states/3/properties/body',
        '#/states/8/properties/method',
        '#/states/8/properties/url',
        '#/states/9/properties/url',
      ].sort(),
    );
  });

  it('types add_twilio_auth as boolean and parameters/variables as {key, value} strings', () => {
    const r = validateEdited((_d, s) => {
      (s[stateIndex(s, 'post')]!.properties as Json).add_twilio_auth = 'true';
      (s[stateIndex(s, 'fn')]!.properties as Json).parameters = [{ key: 'k', value: 1 }];
      (s[stateIndex(s, 'init')]!.properties as Json).variables = [{ key: 'k' }];
    });
    expect(r.errors.map((e) => e.property_path).sort()).toEqual(
      [
        '#/states/7/properties/variables/0/value',
        '#/states/8/properties/add_twilio_auth',
        '#/states/9/properties/parameters/0/value',
      ].sort(),
    );
  });

  it('checks voice property types too', () => {
    const r = validateEdited((_d, s) => {
      (s[stateIndex(s, 'say')]!.properties as Json).loop = '1';
      (s[stateIndex(s, 'call')]!.properties as Json).machine_detection_timeout = 30;
    });
    expect(r.errors.map((e) => e.property_path).sort()).toEqual([
      '#/states/10/properties/loop',
      '#/states/12/properties/machine_detection_timeout',
    ]);
  });

  it('checks the envelope: $schema constant, flags, non-empty states', () => {
    expect(validateFlowDefinition({ ...fullFlow(), $schema: 'https://example.test/schema' }).errors[0]?.property_path).toBe('#/$schema');
    expect(validateFlowDefinition({ ...fullFlow(), flags: { allow_concurrent_calls: 'yes' } }).errors[0]?.property_path).toBe(
      '#/flags/allow_concurrent_calls',
    );
    expect(validateFlowDefinition({ ...fullFlow(), flags: {} }).errors[0]?.property_path).toBe('#/flags/allow_concurrent_calls');
    expect(validateFlowDefinition(flow([])).errors[0]?.property_path).toBe('#/states');
    expect(validateFlowDefinition('{"states":[]}').errors[0]?.property_path).toBe('#');
  });

  it('accepts unwired events and an empty next, and warns about unknown properties', () => {
    const r = validateFlowDefinition(
      flow([trigger({ incomingRequest: '' }), { ...message('m', 'hi'), properties: { from: 'x', body: 'y', bdy: 'typo' } }]),
    );
    expect(r.valid).toBe(true);
    expect(r.warnings).toEqual([{ property_path: '#/states/1/properties/bdy', message: expect.stringContaining('bdy') }]);
  });
});

/** Index of a state appended to fullFlow(). */
function s13(): number {
  return (fullFlow().states as Json[]).length;
}
