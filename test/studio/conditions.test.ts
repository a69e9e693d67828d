import { describe, expect, it } from 'vitest';
import type { SplitOperator } from '../../src/local/studio/catalogue';
import { chooseBranch, evaluateCondition, type SplitState } from '../../src/local/studio/conditions';
import { render } from '../../src/local/studio/liquid';

type Vector = [subject: string, type: SplitOperator, value: string, expected: boolean, why: string];

const vectors: Vector[] = [
  // The examples in Twilio's Split Based On documentation (docs/studio-engine.md §2.4).
  ['2019-08-12', 'is_after_date', '2017-09-04', true, 'doc: date after'],
  ['17:00', 'is_before_time', '16:35', false, 'doc: time not before'],
  ['900', 'greater_than', '1000', false, 'doc: numeric, not lexicographic'],
  ['Twilio', 'is_blank', '', false, 'doc: non-blank'],
  ['YES', 'matches_any_of', 'yes,yeah,yup', true, 'doc: case-insensitive list'],
  ['6', 'regex', '[1-5]', false, 'doc: regex'],
  // Trim and case rules.
  [' Yes ', 'equal_to', 'yes', true, 'equal ignores case and outer spaces'],
  ['Yes.', 'equal_to', 'yes', false, 'punctuation matters'],
  ['yes', 'not_equal_to', 'YES', false, 'not_equal_to is case-insensitive'],
  ['no', 'not_equal_to', 'yes', true, 'not_equal_to differs'],
  ['y', 'matches_any_of', ' yes , y ', true, 'list items are trimmed'],
  ['maybe', 'matches_any_of', 'yes,y', false, 'not in list'],
  ['maybe', 'does_not_match_any_of', 'yes,y', true, 'none of the list'],
  ['Y', 'does_not_match_any_of', 'yes, y', false, 'one of the list'],
  ['aab', 'contains', 'aa', true, 'doc: substring'],
  ['aab', 'contains', 'A', true, 'doc: substring ignoring case'],
  ['aab', 'does_not_contain', 'c', true, 'no substring'],
  ['aab', 'does_not_contain', 'B', false, 'has substring'],
  [' Hoot', 'starts_with', 'hoo', true, 'doc: trimmed prefix'],
  ['Hoot', 'does_not_start_with', 'oot', true, 'not a prefix'],
  ['Hoot', 'does_not_start_with', 'HO', false, 'a prefix'],
  ['   ', 'is_blank', 'Is Blank', true, 'whitespace is blank; value ignored'],
  ['', 'is_not_blank', 'Is Not Blank', false, 'empty is not non-blank'],
  [' x ', 'is_not_blank', '', true, 'has a character'],
  ['12', 'regex', '[1-5]', false, 'regex must match the entire subject'],
  ['Yes', 'regex', 'y.s', true, 'regex is case-insensitive'],
  ['cancel appt', 'regex', 'cancel|stop', false, 'alternation is anchored as a whole'],
  ['stop', 'regex', 'cancel|stop', true, 'alternation matches fully'],
  ['x', 'regex', '(', false, 'an invalid pattern never matches'],
  ['10', 'greater_than', '9', true, 'numbers compare as numbers'],
  ['-1.5', 'less_than', '0', true, 'negative decimals'],
  ['abc', 'less_than', '5', false, 'letters never compare'],
  ['abc', 'greater_than', 'abb', false, 'letters never compare, either side'],
  [' 3 ', 'less_than', '4', true, 'numbers are trimmed'],
  ['17:00', 'is_after_time', '16:35', true, 'time after'],
  ['9:00', 'is_before_time', '16:35', false, 'HH:MM needs a leading zero'],
  ['2017-09-04', 'is_before_date', '2019-08-12', true, 'date before'],
  ['2019/08/12', 'is_after_date', '2017-09-04', false, 'dates must be YYYY-MM-DD'],
];

describe('split conditions (§2.4)', () => {
  it.each(vectors)('%j %s %j → %s (%s)', (subject, type, value, expected) => {
    expect(evaluateCondition(type, subject, value)).toBe(expected);
  });
});

function splitState(transitions: SplitState['transitions'], input = '{{flow.data.answer}}'): SplitState {
  return { name: 'route', type: 'split-based-on', properties: { input }, transitions };
}

const cond = (args: string[], type: SplitOperator, value: string) => ({ friendly_name: 'c', arguments: args, type, value });

describe('choosing a branch', () => {
  const renderIn = (ctx: object) => (t: string) => render(t, ctx);

  it('takes the first match whose conditions all hold, rendering the value with Liquid', async () => {
    const state = splitState([
      { event: 'noMatch', next: 'none' },
      {
        event: 'match',
        next: 'first',
        conditions: [
          cond(['{{flow.data.answer}}'], 'equal_to', '{{flow.variables.expected}}'),
          cond(['{{flow.data.answer}}'], 'is_blank', ''),
        ],
      },
      { event: 'match', next: 'second', conditions: [cond(['{{flow.data.answer}}'], 'equal_to', '{{flow.variables.expected}}')] },
      { event: 'match', next: 'third', conditions: [cond(['{{flow.data.answer}}'], 'is_not_blank', '')] },
    ]);
    const out = await chooseBranch(state, renderIn({ flow: { data: { answer: 'Confirm' }, variables: { expected: 'CONFIRM' } } }));
    expect(out.event).toBe('match');
    expect(out.transition?.next).toBe('second');
  });

  it('falls back to noMatch', async () => {
    const state = splitState([
      { event: 'match', next: 'yes', conditions: [cond(['{{flow.data.answer}}'], 'equal_to', 'yes')] },
      { event: 'noMatch', next: 'none' },
    ]);
    const out = await chooseBranch(state, renderIn({ flow: { data: { answer: 'nope' } } }));
    expect(out).toMatchObject({ event: 'noMatch', transition: { next: 'none' } });
  });

  it('tests arguments[0] over input and notes the difference', async () => {
    const state = splitState([{ event: 'match', next: 'b', conditions: [cond(['{{flow.data.other}}'], 'equal_to', 'b')] }]);
    const out = await chooseBranch(state, renderIn({ flow: { data: { answer: 'a', other: 'b' } } }));
    expect(out.transition?.next).toBe('b');
    expect(out.notes).toHaveLength(1);
  });

  it('uses input when a condition has no arguments', async () => {
    const state = splitState([{ event: 'match', next: 'a', conditions: [cond([], 'equal_to', 'A')] }]);
    const out = await chooseBranch(state, renderIn({ flow: { data: { answer: 'a' } } }));
    expect(out.transition?.next).toBe('a');
  });
});
