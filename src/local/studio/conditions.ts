import type { SplitOperator } from './catalogue';
import type { SplitCondition, StateOfType } from './flow-schema';

/**
 * Split Based On (docs/studio-engine.md §2.4). Every comparison trims both sides and ignores case;
 * numeric operators never compare non-numbers; times are HH:MM and dates YYYY-MM-DD.
 */

const NUMBER = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?$/i;
const TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;
const DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

function asNumber(s: string): number | undefined {
  return NUMBER.test(s) ? Number(s) : undefined;
}

function asMinutes(s: string): number | undefined {
  const m = TIME.exec(s);
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

function compare<T>(a: T | undefined, b: T | undefined, test: (x: T, y: T) => boolean): boolean {
  return a !== undefined && b !== undefined && test(a, b);
}

function fullMatch(pattern: string, subject: string): boolean {
  try {
    // §2.4: the pattern has no delimiters and must match the whole subject, case-insensitively.
    return new RegExp(`^(?:${pattern})$`, 'i').test(subject);
  } catch {
    return false;
  }
}

/** True when `subject <type> value` holds; both are already rendered. */
export function evaluateCondition(type: SplitOperator, subject: string, value: string): boolean {
  const s = subject.trim();
  const v = value.trim();
  const ls = s.toLowerCase();
  const lv = v.toLowerCase();
  switch (type) {
    case 'equal_to':
      return ls === lv;
    case 'not_equal_to':
      return ls !== lv;
    case 'matches_any_of':
      return lv.split(',').some((item) => item.trim() === ls);
    case 'does_not_match_any_of':
      return !lv.split(',').some((item) => item.trim() === ls);
    case 'contains':
      return ls.includes(lv);
    case 'does_not_contain':
      return !ls.includes(lv);
    case 'starts_with':
      return ls.startsWith(lv);
    case 'does_not_start_with':
      return !ls.startsWith(lv);
    case 'is_blank':
      return s === '';
    case 'is_not_blank':
      return s !== '';
    case 'regex':
      return fullMatch(v, s);
    case 'less_than':
      return compare(asNumber(s), asNumber(v), (a, b) => a < b);
    case 'greater_than':
      return compare(asNumber(s), asNumber(v), (a, b) => a > b);
    case 'is_before_time':
      return compare(asMinutes(s), asMinutes(v), (a, b) => a < b);
    case 'is_after_time':
      return compare(asMinutes(s), asMinutes(v), (a, b) => a > b);
    // Zero-padded ISO dates order correctly as strings.
    case 'is_before_date':
      return compare(DATE.test(s) ? s : undefined, DATE.test(v) ? v : undefined, (a, b) => a < b);
    case 'is_after_date':
      return compare(DATE.test(s) ? s : undefined, DATE.test(v) ? v : undefined, (a, b) => a > b);
  }
}

export type SplitState = StateOfType<'split-based-on'>;
export type SplitTransition = SplitState['transitions'][number];

export interface SplitOutcome {
  event: 'match' | 'noMatch';
  /** The transition to follow: the first `match` whose conditions all hold, else the first `noMatch`. */
  transition: SplitTransition | undefined;
  /** Non-fatal observations for the execution log (never values: they may be patient data). */
  notes: string[];
}

/**
 * Chooses the branch (§2.4 evaluation order (chosen)): `match` transitions in array order, all
 * conditions of one transition AND-ed. The subject is `arguments[0]` when present, else `input`;
 * the `value` operand is rendered too.
 */
export async function chooseBranch(state: SplitState, render: (template: string) => Promise<string>): Promise<SplitOutcome> {
  const notes: string[] = [];
  const input = await render(state.properties.input);
  const holds = async (c: SplitCondition): Promise<boolean> => {
    const arg = c.arguments[0];
    const subject = arg === undefined ? input : await render(arg);
    if (arg !== undefined && subject !== input)
      notes.push(`condition "${c.friendly_name}" tests arguments[0], which renders differently from input`);
    return evaluateCondition(c.type, subject, await render(c.value));
  };
  for (const t of state.transitions) {
    if (t.event !== 'match') continue;
    let all = true;
    for (const c of t.conditions ?? []) {
      if (!(await holds(c))) {
        all = false;
        break;
      }
    }
    if (all && (t.conditions ?? []).length > 0) return { event: 'match', transition: t, notes };
  }
  return { event: 'noMatch', transition: state.transitions.find((t) => t.event === 'noMatch'), notes };
}
