import type { FlowValidationIssue } from './validate';

/**
 * The engine's records, camelCase like the rest of the stand-in; router.ts renders Twilio's
 * snake_case JSON. Context keys are Studio's own (docs/studio-engine.md §3.1), so they stay as-is.
 */

export type FlowStatus = 'draft' | 'published';

export interface FlowRevisionView {
  sid: string;
  accountSid: string;
  revision: number;
  friendlyName: string;
  status: FlowStatus;
  /** The definition exactly as saved (an invalid draft is kept too). */
  definition: unknown;
  commitMessage: string | null;
  valid: boolean;
  errors: FlowValidationIssue[];
  warnings: FlowValidationIssue[];
  dateCreated: Date;
  dateUpdated: Date;
}

/** A flow is its latest revision plus the flow's own creation date. */
export type FlowView = FlowRevisionView;

export interface StudioContext {
  flow: {
    flow_sid: string;
    /** §3.1 naming quirk: the execution SID (FN…). */
    sid: string;
    channel: { address: string };
    data?: Record<string, unknown>;
    variables?: Record<string, unknown>;
  };
  contact: { channel: { address: string } };
  trigger: {
    request?: { to: string; from: string; parameters?: Record<string, unknown> };
    message?: Record<string, string>;
  };
  widgets: Record<string, Record<string, unknown>>;
}

export type ExecutionStatus = 'active' | 'ended';

export interface ExecutionView {
  sid: string;
  accountSid: string;
  flowSid: string;
  /** The flow revision the execution runs (§4.1 `flow_version`). */
  flowVersion: number;
  contactChannelAddress: string;
  channelAddress: string;
  status: ExecutionStatus;
  /** Account SID for REST starts, the inbound MessageSid for message starts. */
  initiatedBy: string;
  context: StudioContext;
  dateCreated: Date;
  dateUpdated: Date;
}

export interface StepView {
  sid: string;
  accountSid: string;
  flowSid: string;
  executionSid: string;
  /** §4.5: the event that was taken. */
  name: string;
  transitionedFrom: string;
  /** The next widget, or `Ended`. */
  transitionedTo: string;
  /** Widget type of `transitionedFrom`. */
  type: string;
  context: StudioContext;
  dateCreated: Date;
}

/** What happened besides steps: widget errors, limits, refusals. No patient data, only ids and codes. */
export interface ExecutionLogEntry {
  at: Date;
  level: 'info' | 'warn' | 'error';
  widget?: string;
  /** Twilio/Studio error code when one applies (81011 send failed, 81014 HTTP, 81017 Function…). */
  code?: number;
  message: string;
}

export interface ExecutionLog {
  steps: StepView[];
  entries: ExecutionLogEntry[];
}

export interface ExecutionFilter {
  status?: ExecutionStatus;
  dateCreatedFrom?: Date;
  dateCreatedTo?: Date;
}
