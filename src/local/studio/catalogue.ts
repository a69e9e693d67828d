/**
 * The widget catalogue: every widget type Studio knows and the transition events it may emit
 * (docs/studio-engine.md §2). FlowValidate rejects an event outside a widget's set (§1.3), so the
 * validator and the engine share this one table.
 */

/** Widgets the local engine executes; everything else is refused at run time (§2.9). */
export const RUNNABLE_WIDGETS = [
  'trigger',
  'send-message',
  'send-and-wait-for-reply',
  'split-based-on',
  'set-variables',
  'make-http-request',
  'run-function',
] as const;

export type RunnableWidgetType = (typeof RUNNABLE_WIDGETS)[number];

export const WIDGET_EVENTS = {
  trigger: ['incomingMessage', 'incomingCall', 'incomingConversationMessage', 'incomingRequest', 'incomingParent'],
  'send-message': ['sent', 'failed'],
  'send-and-wait-for-reply': ['incomingMessage', 'timeout', 'deliveryFailure'],
  'split-based-on': ['match', 'noMatch'],
  'set-variables': ['next'],
  'make-http-request': ['success', 'failed'],
  // §2.7 and §7.7: run-function says `fail`, not `failed`.
  'run-function': ['success', 'fail'],
  'run-subflow': ['completed', 'failed'],
  // Voice and contact-centre widgets (§2.9): validated so a flow that contains them can be
  // deployed, never executed offline.
  'say-play': ['audioComplete'],
  'gather-input-on-call': ['keypress', 'speech', 'timeout'],
  'make-outgoing-call-v2': ['answered', 'busy', 'noAnswer', 'failed'],
  'connect-call-to': ['callCompleted', 'hangup'],
  'record-voicemail': ['recordingComplete', 'noAudio', 'hangup'],
  'add-twiml-redirect': ['return', 'timeout', 'fail'],
  'send-to-flex': ['callComplete', 'failedToEnqueue', 'callFailure'],
  'enqueue-call': ['callComplete', 'failedToEnqueue', 'callFailure'],
} as const satisfies Record<string, readonly string[]>;

export type CataloguedWidgetType = keyof typeof WIDGET_EVENTS;

/**
 * Types the spec names without an event list (§2.9 "other types exist"). The validator accepts
 * any event for them and says so in a warning rather than inventing a list.
 */
export const UNCATALOGUED_WIDGETS = [
  'capture-payments',
  'fork-stream',
  'record-call',
  'connect-virtual-agent',
  'connect-virtual-agent-v2',
  'start-conversation',
  'resume-conversation',
  'run-conversation-relay',
  'make-outgoing-call-v1',
] as const;

export function isRunnable(type: string): type is RunnableWidgetType {
  return (RUNNABLE_WIDGETS as readonly string[]).includes(type);
}

/** The trigger event for each way an execution starts (§2.1). */
export type TriggerKind = 'incomingRequest' | 'incomingMessage';

/** Split operators (§2.4). */
export const SPLIT_OPERATORS = [
  'equal_to',
  'not_equal_to',
  'matches_any_of',
  'does_not_match_any_of',
  'contains',
  'does_not_contain',
  'starts_with',
  'does_not_start_with',
  'is_blank',
  'is_not_blank',
  'regex',
  'less_than',
  'greater_than',
  'is_before_time',
  'is_after_time',
  'is_before_date',
  'is_after_date',
] as const;

export type SplitOperator = (typeof SPLIT_OPERATORS)[number];
