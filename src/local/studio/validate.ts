import type { z } from 'zod';
import { UNCATALOGUED_WIDGETS, isRunnable } from './catalogue';
import { FlowDefinition, FlowState } from './flow-schema';

/**
 * FlowValidate for the local stand-in (docs/studio-engine.md §1, §4.6, checklist §7.1): the zod
 * schema checks shapes and types, then the cross-references a JSON schema cannot express.
 * Paths use Twilio's JSON-pointer style, e.g. `#/states/3/properties/timeout`.
 */

export interface FlowValidationIssue {
  property_path: string;
  message: string;
}

export interface FlowValidationResult {
  valid: boolean;
  errors: FlowValidationIssue[];
  warnings: FlowValidationIssue[];
}

export type ParsedFlow =
  | { ok: true; definition: FlowDefinition; warnings: FlowValidationIssue[] }
  | { ok: false; errors: FlowValidationIssue[]; warnings: FlowValidationIssue[] };

function pointer(path: readonly PropertyKey[]): string {
  return ['#', ...path.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1'))].join('/');
}

/** zod reports a missing key as a type error on `undefined`; Twilio users read "is required". */
const requiredMessages: z.core.$ZodErrorMap = (iss) => (iss.code === 'invalid_type' && iss.input === undefined ? 'is required' : undefined);

function fromZod(issues: readonly z.core.$ZodIssue[]): FlowValidationIssue[] {
  return issues.flatMap((iss) => {
    // One error per unknown key, pointing at the key itself (§1.1: additionalProperties false).
    if (iss.code === 'unrecognized_keys') {
      return iss.keys.map((k) => ({ property_path: pointer([...iss.path, k]), message: `additional property "${k}" is not allowed` }));
    }
    return [{ property_path: pointer(iss.path), message: iss.message }];
  });
}

/** Property keys each runnable widget reads; others earn a warning (likely a typo). */
const knownProperties: Map<string, Set<string>> = new Map(
  FlowState.options.map((o) => [
    String(o.shape.type.def.type === 'literal' ? o.shape.type.def.values[0] : ''),
    new Set(Object.keys(o.shape.properties.shape)),
  ]),
);

function crossReferences(def: FlowDefinition): { errors: FlowValidationIssue[]; warnings: FlowValidationIssue[] } {
  const errors: FlowValidationIssue[] = [];
  const warnings: FlowValidationIssue[] = [];
  const firstIndex = new Map<string, number>();
  def.states.forEach((s, i) => {
    if (firstIndex.has(s.name)) {
      errors.push({
        property_path: `#/states/${i}/name`,
        message: `duplicate state name "${s.name}" (also #/states/${firstIndex.get(s.name)})`,
      });
    } else firstIndex.set(s.name, i);
  });
  if (!firstIndex.has(def.initial_state)) {
    errors.push({ property_path: '#/initial_state', message: `initial_state "${def.initial_state}" is not the name of a state` });
  }
  def.states.forEach((s, i) => {
    s.transitions.forEach((t, j) => {
      // §1.3: an omitted or empty `next` ends the execution; anything else must name a state.
      if (t.next !== undefined && t.next !== '' && !firstIndex.has(t.next)) {
        errors.push({ property_path: `#/states/${i}/transitions/${j}/next`, message: `next "${t.next}" is not the name of a state` });
      }
    });
    if ((UNCATALOGUED_WIDGETS as readonly string[]).includes(s.type)) {
      warnings.push({ property_path: `#/states/${i}/type`, message: `events of "${s.type}" are not checked locally` });
    }
    if (isRunnable(s.type)) {
      const known = knownProperties.get(s.type);
      for (const key of Object.keys(s.properties)) {
        if (known && !known.has(key))
          warnings.push({ property_path: `#/states/${i}/properties/${key}`, message: `property "${key}" is not used by ${s.type}` });
      }
    }
    if (s.type === 'split-based-on') {
      s.transitions.forEach((t, j) => {
        t.conditions?.forEach((c, k) => {
          // §2.4: the Console keeps arguments[0] equal to input; a difference is probably a mistake.
          if (c.arguments[0] !== undefined && c.arguments[0] !== s.properties.input) {
            warnings.push({
              property_path: `#/states/${i}/transitions/${j}/conditions/${k}/arguments/0`,
              message: 'differs from the widget input; the engine tests arguments[0]',
            });
          }
        });
      });
    }
  });
  return { errors, warnings };
}

/** Parses and validates a definition; a valid one comes back typed for the engine. */
export function parseFlowDefinition(def: unknown): ParsedFlow {
  const parsed = FlowDefinition.safeParse(def, { error: requiredMessages, reportInput: false });
  if (!parsed.success) return { ok: false, errors: fromZod(parsed.error.issues), warnings: [] };
  const { errors, warnings } = crossReferences(parsed.data);
  return errors.length ? { ok: false, errors, warnings } : { ok: true, definition: parsed.data, warnings };
}

export function validateFlowDefinition(def: unknown): FlowValidationResult {
  const r = parseFlowDefinition(def);
  return r.ok ? { valid: true, errors: [], warnings: r.warnings } : { valid: false, errors: r.errors, warnings: r.warnings };
}
