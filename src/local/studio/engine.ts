import { LiquidError } from 'liquidjs';
import { describeError, log } from '../../log';
import { TwilioApiError, type InboundWebhookParams, type MessageStatus, type StudioInbound } from '../twilio/contracts';
import type { TriggerKind } from './catalogue';
import { FlowRegistry, flowNotFound, type CreateFlowInput, type UpdateFlowInput } from './flow-registry';
import { ExecutionStore, type Execution } from './execution-store';
import type { FlowState } from './flow-schema';
import { LiquidLimitError, render } from './liquid';
import { HTTP_TIMEOUT_MS } from './outbound-http';
import { PendingWork } from './serial';
import {
  EXECUTION_LIFETIME_MS,
  MAX_ADDRESS_BYTES,
  MAX_CONSECUTIVE_RUNS,
  MAX_STEPS,
  type InboundOutcome,
  type StartExecutionRequest,
  type StudioEngineOptions,
} from './engine-types';
import type { ExecutionFilter, ExecutionLog, ExecutionView, FlowRevisionView, FlowView, StepView, StudioContext } from './types';
import { validateFlowDefinition, type FlowValidationResult } from './validate';
import { FAILURE_EVENT, UnsupportedWidgetError, executeWidget, type WidgetEnv, type WidgetOutcome } from './widgets';

/**
 * The local Studio engine: flows, executions and the run loop of docs/studio-engine.md §4.3, with
 * the 409 rule (§4.1), inbound routing (§4.2), limits (§7.8) and a steps log (§4.5).
 */

const occurred = (name: string): Extract<WidgetOutcome, { kind: 'event' }> => ({ kind: 'event', event: name });

export class StudioEngine implements StudioInbound {
  private readonly flows: FlowRegistry;
  private readonly executions: ExecutionStore;
  private readonly work = new PendingWork();
  private readonly fetchImpl: typeof fetch;
  private unsubscribe: (() => void) | undefined;
  private interval: NodeJS.Timeout | undefined;

  constructor(private readonly opts: StudioEngineOptions) {
    this.flows = new FlowRegistry(opts.accountSid, () => opts.clock.now());
    this.executions = new ExecutionStore(opts.accountSid, () => opts.clock.now());
    this.fetchImpl = opts.fetch ?? fetch;
    this.subscribe();
  }

  // Flows (§4.6) -------------------------------------------------------------------------------

  createFlow(input: CreateFlowInput): FlowView {
    return this.flows.create(input);
  }

  updateFlow(sid: string, input: UpdateFlowInput): FlowView {
    return this.flows.update(sid, input);
  }

  getFlow(sid: string): FlowView {
    return this.flows.get(sid);
  }

  listFlows(): FlowView[] {
    return this.flows.list();
  }

  deleteFlow(sid: string): void {
    this.flows.delete(sid);
    this.executions.removeFlow(sid);
  }

  validate(definition: unknown): FlowValidationResult {
    return validateFlowDefinition(definition);
  }

  listRevisions(sid: string): FlowRevisionView[] {
    return this.flows.revisions(sid);
  }

  getRevision(sid: string, which: string): FlowRevisionView {
    return this.flows.revision(sid, which);
  }

  // Starting and resuming (§4.1, §4.2) -------------------------------------------------------

  /**
   * REST trigger. Resolves once the execution has parked or ended, with the resource as it was
   * created (status `active`), like Studio's 201 response.
   */
  async startExecution(req: StartExecutionRequest): Promise<ExecutionView> {
    const { revision, definition } = this.flows.runnable(req.flowSid);
    if (Buffer.byteLength(req.to + req.from, 'utf8') > MAX_ADDRESS_BYTES) {
      throw new TwilioApiError(400, 81023, 'To and From together are over 300 bytes');
    }
    const conflicting = this.executions.activeFor(req.flowSid, req.from, req.to)?.sid;
    if (conflicting) {
      throw new TwilioApiError(
        409,
        20409,
        `Execution ${conflicting} is already active for this contact. End the active Execution before creating a new one`,
        {
          conflicting_execution_sid: conflicting,
        },
      );
    }
    const params = req.parameters;
    const x = this.executions.create({
      flowSid: req.flowSid,
      flowVersion: revision,
      definition,
      channel: req.from,
      contact: req.to,
      initiatedBy: this.opts.accountSid,
      context: (sid) => ({
        flow: { flow_sid: req.flowSid, sid, channel: { address: req.from }, ...(params ? { data: params } : {}) },
        contact: { channel: { address: req.to } },
        trigger: { request: { to: req.to, from: req.from, ...(params ? { parameters: params } : {}) } },
        widgets: {},
      }),
    });
    const created = this.executions.view(x);
    await this.begin(x, 'incomingRequest');
    return created;
  }

  /** §4.2: resume a waiting execution, start a new one, or ignore the message. */
  async handleInboundMessage(flowSid: string, params: InboundWebhookParams): Promise<InboundOutcome> {
    if (!this.flows.has(flowSid)) throw flowNotFound(flowSid);
    const to = params.To;
    const from = params.From;
    if (!to || !from) throw new TwilioApiError(400, 21604, 'An inbound message needs To and From');
    for (;;) {
      const x = this.executions.activeFor(flowSid, to, from);
      if (!x) return this.startFromMessage(flowSid, to, from, params);
      // §4.2 case 3: active but not waiting for a message (e.g. busy in an HTTP widget): ignored,
      // decided on arrival rather than after the busy work, as Studio does.
      if (!this.waitingForReply(x)) return { outcome: 'ignored', executionSid: x.sid };
      const outcome = await this.work.track(x.lane.run(() => this.deliverReply(x, params)));
      // The execution ended while the message waited for its lane: route the message again.
      if (outcome !== 'ended') return { outcome, executionSid: x.sid };
    }
  }

  private waitingForReply(x: Execution): FlowState | undefined {
    const state = x.parked && x.states.get(x.parked.widget);
    return x.status === 'active' && state?.type === 'send-and-wait-for-reply' ? state : undefined;
  }

  private async deliverReply(x: Execution, params: InboundWebhookParams): Promise<'resumed' | 'ignored' | 'ended'> {
    if (x.status !== 'active') return 'ended';
    // Re-checked in the lane: a timer may have taken the wait first.
    const state = this.waitingForReply(x);
    if (!state) return 'ignored';
    x.parked = undefined;
    x.ctx.widgets[state.name] = { ...x.ctx.widgets[state.name], inbound: { ...params } };
    await this.runFrom(x, state, occurred('incomingMessage'));
    return 'resumed';
  }

  private async startFromMessage(flowSid: string, to: string, from: string, params: InboundWebhookParams): Promise<InboundOutcome> {
    const { revision, definition } = this.flows.runnable(flowSid);
    // Inbound: the Twilio side is the message's To, the contact its From (§3.1).
    const x = this.executions.create({
      flowSid,
      flowVersion: revision,
      definition,
      channel: to,
      contact: from,
      initiatedBy: params.MessageSid ?? this.opts.accountSid,
      context: (sid) => ({
        flow: { flow_sid: flowSid, sid, channel: { address: to } },
        contact: { channel: { address: from } },
        trigger: { message: { ...params } },
        widgets: {},
      }),
    });
    await this.begin(x, 'incomingMessage');
    return { outcome: 'started', executionSid: x.sid };
  }

  /** A status callback for a message a waiting widget sent: failed/undelivered takes `deliveryFailure` (§2.3). */
  async handleMessageStatus(messageSid: string, status: MessageStatus): Promise<boolean> {
    const x = this.executions.all().find((e) => e.status === 'active' && e.parked?.outboundSid === messageSid);
    if (!x) return false;
    return this.work.track(
      x.lane.run(async () => {
        const state = x.parked?.outboundSid === messageSid ? x.states.get(x.parked.widget) : undefined;
        if (x.status !== 'active' || !state) return false;
        const outbound = x.ctx.widgets[state.name]?.outbound;
        if (outbound && typeof outbound === 'object') Object.assign(outbound, { Status: status });
        if (status !== 'failed' && status !== 'undelivered') return true;
        x.parked = undefined;
        await this.runFrom(x, state, occurred('deliveryFailure'));
        return true;
      }),
    );
  }

  private begin(x: Execution, kind: TriggerKind): Promise<void> {
    return this.work.track(
      x.lane.run(async () => {
        const trigger = x.states.get(x.initialState);
        if (trigger?.type !== 'trigger') {
          this.note(x, undefined, { level: 'error', message: 'initial_state is not a trigger widget' });
          return this.finish(x);
        }
        await this.runFrom(x, trigger, occurred(kind));
      }),
    );
  }

  // The run loop (§4.3) ------------------------------------------------------------------------

  private async runFrom(x: Execution, from: FlowState, first: Extract<WidgetOutcome, { kind: 'event' }>): Promise<void> {
    let state = from;
    let outcome = first;
    for (;;) {
      if (x.status !== 'active') return;
      const t = outcome.transition ?? state.transitions.find((tr) => tr.event === outcome.event);
      const next = t?.next ? t.next : undefined;
      this.executions.recordStep(x, state, outcome.event, next ?? 'Ended');
      // §1.3: no transition, or one without `next`, ends the execution.
      if (next === undefined) return this.finish(x);
      const stop = this.limitReached(x, next);
      const target = x.states.get(next);
      if (stop || !target) {
        this.note(x, next, { level: 'error', message: stop ?? 'transition target does not exist' });
        return this.finish(x);
      }
      x.consecutive = next === x.lastWidget ? x.consecutive + 1 : 1;
      x.lastWidget = next;
      const result = await this.execute(x, target);
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the execution can be ended (API, expiry) while the widget awaits
      if (x.status !== 'active') return;
      if (!result) return this.finish(x);
      state = target;
      if (result.kind === 'park') {
        x.parked = { widget: target.name, deadline: result.deadline, outboundSid: result.outboundSid };
        x.dateUpdated = new Date(this.opts.clock.now());
        return;
      }
      outcome = result;
    }
  }

  private limitReached(x: Execution, next: string): string | undefined {
    if (x.steps.length >= MAX_STEPS) return `execution reached the limit of ${MAX_STEPS} steps`;
    if (next === x.lastWidget && x.consecutive >= MAX_CONSECUTIVE_RUNS) return `widget ran ${MAX_CONSECUTIVE_RUNS} times in a row`;
    if (this.expired(x, this.opts.clock.now())) return 'execution reached its 30-day lifetime';
    return undefined;
  }

  private expired(x: Execution, now: number): boolean {
    return now - x.dateCreated.getTime() >= EXECUTION_LIFETIME_MS;
  }

  /** Runs one widget; undefined means the execution cannot go on (it is ended by the caller). */
  private async execute(x: Execution, state: FlowState): Promise<WidgetOutcome | undefined> {
    const now = () => this.opts.clock.now();
    const env: WidgetEnv = {
      accountSid: this.opts.accountSid,
      ctx: x.ctx,
      render: (template) => render(template, x.ctx, { now: now() }),
      now,
      messages: this.opts.messages,
      http: { fetch: this.fetchImpl, authToken: this.opts.authToken, timeoutMs: this.opts.httpTimeoutMs ?? HTTP_TIMEOUT_MS },
      note: (entry) => this.note(x, state.name, entry),
    };
    try {
      return await executeWidget(state, env);
    } catch (err) {
      if (err instanceof UnsupportedWidgetError) {
        this.note(x, state.name, { level: 'error', message: err.message });
        return undefined;
      }
      const renderFailed = err instanceof LiquidError || err instanceof LiquidLimitError;
      this.note(x, state.name, {
        level: 'error',
        message: renderFailed ? `Liquid: ${err.message}` : `internal error: ${describeError(err)}`,
      });
      const failure = FAILURE_EVENT[state.type];
      if (!renderFailed || !failure) return undefined;
      x.ctx.widgets[state.name] = {};
      return occurred(failure);
    }
  }

  private note(x: Execution, widget: string | undefined, entry: Parameters<ExecutionStore['note']>[2]): void {
    this.executions.note(x, widget, entry);
  }

  private finish(x: Execution): void {
    this.executions.finish(x);
  }

  // Timers ----------------------------------------------------------------------------------------

  /** Fires due send-and-wait timeouts (§2.3) and ends executions past the 30-day lifetime. */
  async tick(): Promise<void> {
    const now = this.opts.clock.now();
    const due = this.executions
      .all()
      .filter((x) => x.status === 'active' && (this.expired(x, now) || (x.parked !== undefined && x.parked.deadline <= now)));
    await Promise.all(due.map((x) => this.work.track(x.lane.run(() => this.fireTimer(x)))));
  }

  private async fireTimer(x: Execution): Promise<void> {
    const now = this.opts.clock.now();
    if (x.status !== 'active') return;
    if (this.expired(x, now)) {
      this.note(x, x.parked?.widget, { level: 'warn', message: 'execution reached its 30-day lifetime' });
      return this.finish(x);
    }
    const state = x.parked && x.parked.deadline <= now ? x.states.get(x.parked.widget) : undefined;
    if (!state) return;
    x.parked = undefined;
    await this.runFrom(x, state, occurred('timeout'));
  }

  private subscribe(): void {
    this.unsubscribe ??= this.opts.clock.onChange?.(() => void this.safeTick());
  }

  private safeTick(): Promise<void> {
    return this.work.track(this.tick()).catch((err: unknown) => log('error', 'studio timer failed', { error: describeError(err) }));
  }

  /** Checks timers every second on real time; the clock's onChange covers jumps. */
  start(): void {
    this.subscribe();
    this.interval ??= setInterval(() => void this.safeTick(), 1000);
    this.interval.unref();
  }

  stop(): void {
    if (this.interval) clearInterval(this.interval);
    this.interval = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** Resolves when no execution is running (tests; shutdown). */
  idle(): Promise<void> {
    return this.work.idle();
  }

  // Executions API (§4.4, §4.5) ------------------------------------------------------------------

  /**
   * §4.4: ending stops the execution before its next widget; a widget already running (HTTP,
   * Function) finishes. Ending an ended execution is a 409.
   */
  endExecution(flowSid: string, sid: string): ExecutionView {
    const x = this.executions.get(flowSid, sid);
    if (x.status === 'ended') throw new TwilioApiError(409, 20409, `Execution ${sid} has already ended`);
    this.note(x, undefined, { level: 'info', message: 'ended via API' });
    this.finish(x);
    return this.executions.view(x);
  }

  getExecution(flowSid: string, sid: string): ExecutionView {
    return this.executions.view(this.executions.get(flowSid, sid));
  }

  /** Newest first (§4.5). */
  listExecutions(flowSid: string, filter: ExecutionFilter = {}): ExecutionView[] {
    if (!this.flows.has(flowSid)) throw flowNotFound(flowSid);
    return this.executions.list(flowSid, filter);
  }

  getContext(flowSid: string, sid: string): StudioContext {
    return structuredClone(this.executions.get(flowSid, sid).ctx);
  }

  /** In the order they happened. */
  listSteps(flowSid: string, sid: string): StepView[] {
    return this.executions.log(flowSid, sid).steps;
  }

  getStep(flowSid: string, sid: string, stepSid: string): StepView {
    return this.executions.step(flowSid, sid, stepSid);
  }

  getStepContext(flowSid: string, sid: string, stepSid: string): StudioContext {
    return this.executions.step(flowSid, sid, stepSid).context;
  }

  deleteExecution(flowSid: string, sid: string): void {
    this.executions.remove(this.executions.get(flowSid, sid));
  }

  /** Steps and log entries (widget errors, limits, refusals) of one execution. */
  getExecutionLog(flowSid: string, sid: string): ExecutionLog {
    return this.executions.log(flowSid, sid);
  }
}
