import { log } from '../../log';
import { TwilioApiError } from '../twilio/contracts';
import { newSid } from '../twilio/rest';
import type { FlowDefinition, FlowState } from './flow-schema';
import { SerialLane } from './serial';
import type { ExecutionFilter, ExecutionLog, ExecutionLogEntry, ExecutionView, StepView, StudioContext } from './types';

/**
 * Executions as records: creation with the one-active-per-contact index (docs/studio-engine.md
 * §4.1, §4.2), the steps log and its snapshots (§4.5), ending and deleting (§4.4). The run loop
 * lives in engine.ts; this module never runs a widget.
 */

/** A send-and-wait widget waiting for a reply, its timer, or a delivery failure (§2.3). */
export interface Parked {
  widget: string;
  deadline: number;
  outboundSid: string;
}

export interface Execution extends Omit<ExecutionView, 'context'> {
  ctx: StudioContext;
  states: Map<string, FlowState>;
  initialState: string;
  steps: StepView[];
  entries: ExecutionLogEntry[];
  parked: Parked | undefined;
  /** For the same-widget loop limit (§7.8). */
  lastWidget: string | undefined;
  consecutive: number;
  lane: SerialLane;
}

export interface NewExecution {
  flowSid: string;
  flowVersion: number;
  definition: FlowDefinition;
  /** The Twilio side: REST `From`, inbound `To`. */
  channel: string;
  /** The end user: REST `To`, inbound `From`. */
  contact: string;
  initiatedBy: string;
  context: (executionSid: string) => StudioContext;
}

const contactKey = (flowSid: string, channel: string, contact: string) => `${flowSid}\n${channel}\n${contact}`;

function notFound(path: string): TwilioApiError {
  return new TwilioApiError(404, 20404, `The requested resource ${path} was not found`);
}

export class ExecutionStore {
  private readonly executions = new Map<string, Execution>();
  /** §4.1/§4.2: at most one active execution per (flow, channel address, contact). */
  private readonly active = new Map<string, string>();

  constructor(
    private readonly accountSid: string,
    private readonly now: () => number,
  ) {}

  activeFor(flowSid: string, channel: string, contact: string): Execution | undefined {
    const sid = this.active.get(contactKey(flowSid, channel, contact));
    return sid ? this.executions.get(sid) : undefined;
  }

  /** Callers check activeFor first, in the same synchronous turn, so the index cannot race. */
  create(n: NewExecution): Execution {
    const sid = newSid('FN');
    const at = new Date(this.now());
    const x: Execution = {
      sid,
      accountSid: this.accountSid,
      flowSid: n.flowSid,
      flowVersion: n.flowVersion,
      contactChannelAddress: n.contact,
      channelAddress: n.channel,
      status: 'active',
      initiatedBy: n.initiatedBy,
      dateCreated: at,
      dateUpdated: at,
      ctx: n.context(sid),
      states: new Map(n.definition.states.map((s) => [s.name, s])),
      initialState: n.definition.initial_state,
      steps: [],
      entries: [],
      parked: undefined,
      lastWidget: undefined,
      consecutive: 0,
      lane: new SerialLane(),
    };
    this.executions.set(sid, x);
    this.active.set(contactKey(n.flowSid, n.channel, n.contact), sid);
    return x;
  }

  all(): Execution[] {
    return [...this.executions.values()];
  }

  get(flowSid: string, sid: string): Execution {
    const x = this.executions.get(sid);
    if (!x || x.flowSid !== flowSid) throw notFound(`/Flows/${flowSid}/Executions/${sid}`);
    return x;
  }

  finish(x: Execution): void {
    x.status = 'ended';
    x.parked = undefined;
    x.dateUpdated = new Date(this.now());
    const key = contactKey(x.flowSid, x.channelAddress, x.contactChannelAddress);
    if (this.active.get(key) === x.sid) this.active.delete(key);
  }

  remove(x: Execution): void {
    this.finish(x);
    this.executions.delete(x.sid);
  }

  removeFlow(flowSid: string): void {
    for (const x of this.all()) if (x.flowSid === flowSid) this.remove(x);
  }

  recordStep(x: Execution, from: FlowState, event: string, to: string): void {
    const at = new Date(this.now());
    x.steps.push({
      sid: newSid('FT'),
      accountSid: x.accountSid,
      flowSid: x.flowSid,
      executionSid: x.sid,
      name: event,
      transitionedFrom: from.name,
      transitionedTo: to,
      type: from.type,
      context: structuredClone(x.ctx),
      dateCreated: at,
    });
    x.dateUpdated = at;
  }

  note(x: Execution, widget: string | undefined, entry: Omit<ExecutionLogEntry, 'at' | 'widget'>): void {
    x.entries.push({ at: new Date(this.now()), ...(widget ? { widget } : {}), ...entry });
    // Process logs carry ids and codes only (no patient data); the execution log keeps the message.
    if (entry.level !== 'info')
      log('warn', 'studio widget problem', { execution_sid: x.sid, widget, ...(entry.code ? { code: String(entry.code) } : {}) });
  }

  view(x: Execution): ExecutionView {
    const {
      ctx,
      states: _s,
      initialState: _i,
      steps: _st,
      entries: _e,
      parked: _p,
      lastWidget: _l,
      consecutive: _c,
      lane: _ln,
      ...rest
    } = x;
    return { ...rest, context: structuredClone(ctx) };
  }

  /** Newest first (§4.5). */
  list(flowSid: string, filter: ExecutionFilter): ExecutionView[] {
    return this.all()
      .filter((x) => x.flowSid === flowSid)
      .filter((x) => !filter.status || x.status === filter.status)
      .filter((x) => !filter.dateCreatedFrom || x.dateCreated >= filter.dateCreatedFrom)
      .filter((x) => !filter.dateCreatedTo || x.dateCreated <= filter.dateCreatedTo)
      .reverse()
      .sort((a, b) => b.dateCreated.getTime() - a.dateCreated.getTime())
      .map((x) => this.view(x));
  }

  step(flowSid: string, sid: string, stepSid: string): StepView {
    const step = this.get(flowSid, sid).steps.find((s) => s.sid === stepSid);
    if (!step) throw notFound(`/Flows/${flowSid}/Executions/${sid}/Steps/${stepSid}`);
    return structuredClone(step);
  }

  log(flowSid: string, sid: string): ExecutionLog {
    const x = this.get(flowSid, sid);
    return { steps: x.steps.map((s) => structuredClone(s)), entries: x.entries.map((e) => ({ ...e })) };
  }
}
