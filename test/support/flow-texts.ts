import { render } from '../../src/local/studio/liquid';
import { loadFlowTemplate, renderFlow } from '../../studio/render-flow';

/**
 * The one source of the SMS wording in tests: a message widget's body from studio/flow.json,
 * rendered with the engine's own Liquid and the values a test names. A test states the values it
 * checks (the patient's name, the time as the patient's zone shows it); the words come from the
 * flow, so editing a text in the flow changes no test.
 */

/** The clinic name `npm start` and the test stack put into the flow (src/local/stack.ts). */
export const LOCAL_CLINIC = 'Owl Health Clinic';

export interface TextValues {
  /** `flow.variables.*`: what our Functions pass for an event's text (see src/messaging/flow-parameters.ts). */
  variables?: Record<string, string>;
  /** `widgets.process_reply.parsed.*`: what /studio/reply answers for an acknowledgement. */
  reply?: Record<string, string>;
  customerName?: string;
}

interface MessageState {
  name: string;
  type: string;
  properties: { body?: string };
}

const VARIABLE = /flow\.variables\.([A-Za-z_][A-Za-z0-9_]*)/g;
const REPLY_FIELD = /widgets\.process_reply\.parsed\.([A-Za-z_][A-Za-z0-9_]*)/g;

function namesIn(body: string, pattern: RegExp): Set<string> {
  return new Set([...body.matchAll(pattern)].map((m) => m[1] ?? ''));
}

/**
 * Fills every value the body refers to and the test did not give with what the Functions send when
 * there is nothing to say ('' for a field the EHR left out), and refuses a value no text of the flow
 * uses, so a misspelt name cannot quietly leave a value out of the expectation (one set of values
 * may serve several texts).
 */
function fill(widget: string, given: Record<string, string>, used: Set<string>, known: Set<string>, where: string): Record<string, string> {
  const unknown = Object.keys(given).filter((k) => !known.has(k));
  if (unknown.length > 0) throw new Error(`flowText(${widget}): no text of the flow uses ${where}.${unknown.join(`, ${where}.`)}`);
  return Object.fromEntries([...used].map((k) => [k, given[k] ?? ABSENT[k] ?? '']));
}

/** Values that are never empty when the Functions send them: no other appointments is '0'. */
const ABSENT: Record<string, string> = { other_appointments: '0' };

/** The flow's states as the deploy renders them for `customerName` (other placeholders do not reach a text). */
function flowStates(customerName: string): MessageState[] {
  const flow = renderFlow(loadFlowTemplate(), {
    functionsBaseUrl: 'https://texts.invalid',
    ieEndpoint: 'https://ehr.invalid',
    customerName,
    originMarker: '0'.repeat(32),
  });
  return (flow as { states: MessageState[] }).states;
}

/** The text `widget` sends with these values, exactly as the local Studio engine renders it. */
export async function flowText(widget: string, values: TextValues = {}): Promise<string> {
  const customerName = values.customerName ?? LOCAL_CLINIC;
  const states = flowStates(customerName);
  const state = states.find((s) => s.name === widget);
  if (!state) throw new Error(`flowText: studio/flow.json has no widget ${widget}`);
  if (state.type !== 'send-message' && state.type !== 'send-and-wait-for-reply')
    throw new Error(`flowText: ${widget} is a ${state.type}, not a message widget`);
  const body = state.properties.body ?? '';
  const everyBody = states.map((s) => s.properties.body ?? '').join('\n');
  const variables = fill(widget, { ...values.variables }, namesIn(body, VARIABLE), namesIn(everyBody, VARIABLE), 'flow.variables');
  const parsed = fill(
    widget,
    { ...values.reply },
    namesIn(body, REPLY_FIELD),
    namesIn(everyBody, REPLY_FIELD),
    'widgets.process_reply.parsed',
  );
  return render(body, { flow: { variables: { ...variables, CUSTOMER_NAME: customerName } }, widgets: { process_reply: { parsed } } });
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A pattern that matches the widget's text whatever the values: each `{{ }}` output matches any
 * text and each `{% if %}…{% endif %}` part may be there or not. For picking a kind of text out of
 * a conversation (the reminders among the texts a phone received) without copying its words.
 * `whole: false` finds the text inside a longer one (a page element that adds a sender and time).
 */
export function flowTextPattern(widget: string, options: { customerName?: string; whole?: boolean } = {}): RegExp {
  const customerName = options.customerName ?? LOCAL_CLINIC;
  const body = flowStates(customerName).find((s) => s.name === widget)?.properties.body;
  if (body === undefined) throw new Error(`flowTextPattern: studio/flow.json has no message widget ${widget}`);
  let source = '';
  for (const part of body.split(/(\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\})/)) {
    if (part.startsWith('{{')) source += part.includes('CUSTOMER_NAME') ? escapeRegExp(customerName) : '[\\s\\S]*?';
    else if (/^\{%-?\s*if\b/.test(part)) source += '(?:';
    else if (/^\{%-?\s*endif\b/.test(part)) source += ')?';
    else if (part.startsWith('{%')) throw new Error(`flowTextPattern: ${widget} uses a Liquid tag this helper does not know: ${part}`);
    else source += escapeRegExp(part);
  }
  return new RegExp(options.whole === false ? source : `^${source}$`);
}

/** The names of the flow's message widgets (send-message and send-and-wait-for-reply). */
export function messageWidgets(): string[] {
  return flowStates(LOCAL_CLINIC)
    .filter((s) => s.type === 'send-message' || s.type === 'send-and-wait-for-reply')
    .map((s) => s.name);
}
