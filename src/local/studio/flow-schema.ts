import { z } from 'zod';
import { SPLIT_OPERATORS, WIDGET_EVENTS, UNCATALOGUED_WIDGETS } from './catalogue';

/**
 * The flow definition as a zod schema: the structural half of FlowValidate (docs/studio-engine.md
 * §1). Type mismatches are errors, never coercions (§1.4). Cross-references (unique names, `next`
 * targets, `initial_state`) are checked in validate.ts, which also turns issues into
 * `{property_path, message}`.
 */

export const FLOW_SCHEMA_URL = 'https://schemas.twilio.com/studio/draft/2019-09/flow-definition';

const Offset = z.strictObject({ x: z.number().int(), y: z.number().int() }).optional();

/** `parameters` / `variables` lists are `{key, value}` strings (§1.4). */
const KeyValue = z.looseObject({ key: z.string(), value: z.string() });
const KeyValueList = z.array(KeyValue);

/** Some exports carry a per-variable `"type": "string"` (§2.5). */
const Variable = z.looseObject({ key: z.string(), value: z.string(), type: z.string().optional() });

const Condition = z.strictObject({
  friendly_name: z.string(),
  arguments: z.array(z.string()),
  type: z.enum(SPLIT_OPERATORS),
  value: z.string(),
});

const noConditions = z.undefined({ error: 'conditions are only allowed on split-based-on "match" transitions' }).optional();

function transitions<const E extends readonly [string, ...string[]]>(events: E) {
  return z.array(z.strictObject({ event: z.enum(events), next: z.string().optional(), conditions: noConditions }));
}

function state<const T extends string, P extends z.ZodType, R extends z.ZodType>(type: T, props: P, trans: R) {
  return z.strictObject({ name: z.string().min(1), type: z.literal(type), transitions: trans, properties: props });
}

/** Message properties shared by send-message and send-and-wait-for-reply (§2.2, §2.3). */
const messageProps = {
  offset: Offset,
  from: z.string(),
  body: z.string().optional(),
  media_url: z.string().optional(),
  service: z.string().optional(),
  channel: z.string().optional(),
  attributes: z.string().optional(),
  message_type: z.string().optional(),
  content_sid: z.string().optional(),
  content_variables: KeyValueList.optional(),
};

/** `body` is required unless the message is a content template, which needs `content_sid`. */
function requireBody(
  p: { body?: string | undefined; message_type?: string | undefined; content_sid?: string | undefined },
  ctx: z.RefinementCtx,
) {
  if (p.message_type === 'content_template') {
    if (p.content_sid === undefined)
      ctx.addIssue({ code: 'custom', path: ['content_sid'], message: 'content_sid is required for a content template' });
  } else if (p.body === undefined) {
    ctx.addIssue({ code: 'custom', path: ['body'], message: 'is required' });
  }
}

const SendMessage = state(
  'send-message',
  z.looseObject({ ...messageProps, to: z.string().optional() }).superRefine(requireBody),
  transitions(WIDGET_EVENTS['send-message']),
);

const SendAndWait = state(
  'send-and-wait-for-reply',
  // §1.4: timeout is a string of seconds (Liquid allowed), never an integer.
  z.looseObject({ ...messageProps, timeout: z.string() }).superRefine(requireBody),
  transitions(WIDGET_EVENTS['send-and-wait-for-reply']),
);

const SplitTransition = z
  .strictObject({ event: z.enum(WIDGET_EVENTS['split-based-on']), next: z.string().optional(), conditions: z.array(Condition).optional() })
  .superRefine((t, ctx) => {
    if (t.event === 'noMatch' && t.conditions !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['conditions'], message: 'conditions are only allowed on split-based-on "match" transitions' });
    }
    if (t.event === 'match' && (t.conditions === undefined || t.conditions.length === 0)) {
      ctx.addIssue({ code: 'custom', path: ['conditions'], message: 'a "match" transition needs at least one condition' });
    }
  });

const Split = state('split-based-on', z.looseObject({ offset: Offset, input: z.string() }), z.array(SplitTransition));

const SetVariables = state(
  'set-variables',
  z.looseObject({ offset: Offset, variables: z.array(Variable), parse_as_json: z.boolean().optional() }),
  transitions(WIDGET_EVENTS['set-variables']),
);

const HttpRequest = state(
  'make-http-request',
  z.looseObject({
    offset: Offset,
    method: z.enum(['GET', 'POST']),
    url: z.string().min(1),
    content_type: z.string().optional(),
    body: z.string().optional(),
    parameters: KeyValueList.optional(),
    add_twilio_auth: z.boolean().optional(),
  }),
  transitions(WIDGET_EVENTS['make-http-request']),
);

const RunFunction = state(
  'run-function',
  z.looseObject({
    offset: Offset,
    url: z.string().min(1),
    service_sid: z.string().optional(),
    environment_sid: z.string().optional(),
    function_sid: z.string().optional(),
    parameters: KeyValueList.optional(),
  }),
  transitions(WIDGET_EVENTS['run-function']),
);

const RunSubflow = state(
  'run-subflow',
  z.looseObject({ offset: Offset, flow_sid: z.string().min(1), flow_revision: z.string().optional(), parameters: KeyValueList.optional() }),
  transitions(WIDGET_EVENTS['run-subflow']),
);

const Trigger = state('trigger', z.looseObject({ offset: Offset }), transitions(WIDGET_EVENTS.trigger));

/** Voice widgets: only the property types §1.4 records; the engine never runs them. */
const SayPlay = state(
  'say-play',
  z.looseObject({ offset: Offset, loop: z.number().int().optional() }),
  transitions(WIDGET_EVENTS['say-play']),
);

const Gather = state(
  'gather-input-on-call',
  z.looseObject({
    offset: Offset,
    timeout: z.number().int().optional(),
    profanity_filter: z.string().optional(),
    stop_gather: z.boolean().optional(),
  }),
  transitions(WIDGET_EVENTS['gather-input-on-call']),
);

const OutgoingCall = state(
  'make-outgoing-call-v2',
  z
    .looseObject({
      offset: Offset,
      timeout: z.number().int().optional(),
      trim: z.string().optional(),
      record: z.boolean().optional(),
      detect_answering_machine: z.boolean().optional(),
    })
    .superRefine((p, ctx) => {
      // §1.4: every machine_detection_* setting is a string ("30", "Enable").
      for (const [k, v] of Object.entries(p)) {
        if (k.startsWith('machine_detection') && typeof v !== 'string') {
          ctx.addIssue({ code: 'custom', path: [k], message: 'must be a string' });
        }
      }
    }),
  transitions(WIDGET_EVENTS['make-outgoing-call-v2']),
);

const ConnectCall = state(
  'connect-call-to',
  z.looseObject({ offset: Offset, timeout: z.number().int().optional() }),
  transitions(WIDGET_EVENTS['connect-call-to']),
);

const basic = z.looseObject({ offset: Offset });
const RecordVoicemail = state('record-voicemail', basic, transitions(WIDGET_EVENTS['record-voicemail']));
const TwimlRedirect = state('add-twiml-redirect', basic, transitions(WIDGET_EVENTS['add-twiml-redirect']));
const SendToFlex = state('send-to-flex', basic, transitions(WIDGET_EVENTS['send-to-flex']));
const EnqueueCall = state('enqueue-call', basic, transitions(WIDGET_EVENTS['enqueue-call']));

/** Known types whose event list the spec does not give: any event name passes (validate.ts warns). */
const Uncatalogued = z.strictObject({
  name: z.string().min(1),
  type: z.enum(UNCATALOGUED_WIDGETS),
  transitions: z.array(z.strictObject({ event: z.string().min(1), next: z.string().optional(), conditions: noConditions })),
  properties: basic,
});

export const FlowState = z.discriminatedUnion(
  'type',
  [
    Trigger,
    SendMessage,
    SendAndWait,
    Split,
    SetVariables,
    HttpRequest,
    RunFunction,
    RunSubflow,
    SayPlay,
    Gather,
    OutgoingCall,
    ConnectCall,
    RecordVoicemail,
    TwimlRedirect,
    SendToFlex,
    EnqueueCall,
    Uncatalogued,
  ],
  { error: () => 'is not a known widget type' },
);
export type FlowState = z.output<typeof FlowState>;

export const FlowDefinition = z.strictObject({
  // §1.1: minItems 1, maxItems 1000.
  states: z.array(FlowState).min(1).max(1000),
  initial_state: z.string().min(1),
  flags: z.strictObject({ allow_concurrent_calls: z.boolean() }).optional(),
  description: z.string().optional(),
  $schema: z.literal(FLOW_SCHEMA_URL).optional(),
});
export type FlowDefinition = z.output<typeof FlowDefinition>;

export type StateOfType<T extends FlowState['type']> = Extract<FlowState, { type: T }>;
export type SplitCondition = z.output<typeof Condition>;
