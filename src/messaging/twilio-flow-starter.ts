import { STAFF_MESSAGE_TYPE } from '../domain/event-types';
import type { CountryCode } from '../domain/phone';
import { log } from '../log';
import type { TwilioClient } from '../twilio/client';
import { flowParameters } from './flow-parameters';
import {
  FlowStartError,
  type FlowStarter,
  type FlowStartRequest,
  type FlowStartResult,
  type StaffTextRequest,
  type StaffTextSender,
} from './flow-starter';

interface RestErrorShape {
  status?: number;
  code?: number;
}

/** Studio's "an execution is already active for this contact" (HTTP 409). */
const CONFLICTING_EXECUTION = 20409;

/** How long to wait for the contact's other execution to end before giving up. */
export interface ConflictBackoff {
  /** Creates retried after the first one was refused with 20409. */
  retries: number;
  /** The longest wait before the first retry; doubled for each later retry, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/** 100, 200, 400, 800, 1600 ms at most (each wait jittered to between half and all of that). */
export const DEFAULT_CONFLICT_BACKOFF: ConflictBackoff = { retries: 5, baseDelayMs: 100, maxDelayMs: 1600 };

export interface TwilioFlowStarterOptions {
  flowSid: string;
  from: string;
  /** Sent as `flow.data.origin`, so the flow knows the execution is ours (see origin-marker.ts). */
  originMarker: string;
  homeCountry: CountryCode;
  backoff?: ConflictBackoff;
  /** Tests inject these to run the backoff without real waiting. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Starts Studio executions with the real SDK. Studio allows one active execution per contact and
 * flow. Outbound executions end right after their text and a reply's execution ends once the reply
 * Function has answered, so a 409/20409 means another execution (someone else's, possibly mid-way)
 * is about to end: we wait with bounded, jittered exponential backoff and retry the create. We never
 * end the other execution. If it is still active after the last retry the start fails retryable,
 * and the caller queues it.
 */
export class TwilioFlowStarter implements FlowStarter, StaffTextSender {
  private readonly backoff: ConflictBackoff;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(
    private readonly client: TwilioClient,
    private readonly options: TwilioFlowStarterOptions,
  ) {
    this.backoff = options.backoff ?? DEFAULT_CONFLICT_BACKOFF;
    this.sleep = options.sleep ?? sleepFor;
    this.random = options.random ?? Math.random;
  }

  /** The flow and the sender its executions start from (a Messaging Service SID or a number). */
  get target(): { flowSid: string; from: string } {
    return { flowSid: this.options.flowSid, from: this.options.from };
  }

  async start({ state, event }: FlowStartRequest): Promise<FlowStartResult> {
    // The state knows: intake reads the opt-out ledger when a phone comes to an appointment, and
    // the reply handler applies every later STOP/START to each of the phone's appointments.
    if (state.opted_out) return { kind: 'not-started', reason: 'opted-out' };
    const parameters = flowParameters(state, event, this.options.homeCountry);
    const executionSid = await this.create(state.facts.patient_phone, parameters, {
      appointment_id: state.facts.appointment_id,
      event_id: event.event_id,
    });
    return { kind: 'started', executionSid };
  }

  async sendStaffText(request: StaffTextRequest): Promise<{ executionSid: string }> {
    const parameters = {
      event_type: STAFF_MESSAGE_TYPE,
      event_id: request.id,
      appointment_id: request.appointmentId ?? '',
      staff_message: request.body,
      language: request.language,
    };
    return { executionSid: await this.create(request.to, parameters, { appointment_id: request.appointmentId, event_id: request.id }) };
  }

  /** One execution create, waiting out the contact's other execution (409/20409) with backoff. */
  private async create(to: string, data: Record<string, string>, ids: { appointment_id?: string; event_id: string }): Promise<string> {
    const parameters = { ...data, origin: this.options.originMarker };
    const flow = this.client.studio.v2.flows(this.options.flowSid);
    for (let retry = 0; ; retry += 1) {
      try {
        const execution = await flow.executions.create({ to, from: this.options.from, parameters });
        log('info', 'flow started', { ...ids, execution_sid: execution.sid, ...(retry > 0 ? { count: retry } : {}) });
        return execution.sid;
      } catch (err) {
        const e = err as RestErrorShape;
        if (e.status === 409 && e.code === CONFLICTING_EXECUTION) {
          if (retry < this.backoff.retries) {
            await this.sleep(this.delay(retry));
            continue;
          }
          log('warn', 'flow start gave up: the contact still has an active execution', { ...ids, count: retry });
          throw new FlowStartError(`the contact still had an active execution after ${retry} retries (status 409, code 20409)`, true, 409);
        }
        const retryable = e.status === undefined || e.status === 429 || e.status >= 500;
        // Twilio's messages can quote the phone number: only the status and code are kept.
        throw new FlowStartError(
          `Studio refused the execution (status ${e.status ?? 'none'}, code ${e.code ?? 'none'})`,
          retryable,
          e.status,
        );
      }
    }
  }

  /** The wait before retry `retry` (0-based): between half and all of base · 2^retry, capped. */
  private delay(retry: number): number {
    const ceiling = Math.min(this.backoff.maxDelayMs, this.backoff.baseDelayMs * 2 ** retry);
    return Math.round(ceiling / 2 + (ceiling / 2) * this.random());
  }

  async wasStarted({ to, eventId, since }: { to: string; eventId: string; since: string }): Promise<boolean> {
    const flow = this.client.studio.v2.flows(this.options.flowSid);
    const executions = await flow.executions.list({ dateCreatedFrom: new Date(Date.parse(since) - 60_000), limit: 1000 });
    for (const x of executions.filter((e) => e.contactChannelAddress === to)) {
      const context = await flow.executions(x.sid).executionContext().fetch();
      const data = (context.context as { flow?: { data?: { event_id?: string } } }).flow?.data;
      if (data?.event_id === eventId) return true;
    }
    return false;
  }
}
