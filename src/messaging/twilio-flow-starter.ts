import type { CountryCode } from '../domain/phone';
import { log } from '../log';
import type { AppointmentStore } from '../storage/appointment-store';
import type { TwilioClient } from '../twilio/client';
import { flowParameters } from './flow-parameters';
import { FlowStartError, type FlowStarter, type FlowStartRequest, type FlowStartResult } from './flow-starter';

interface RestErrorShape {
  status?: number;
  code?: number;
  details?: { conflicting_execution_sid?: string };
}

/**
 * Starts Studio executions with the real SDK. Studio allows one active execution per contact: a
 * 409/20409 names the conflicting execution, which we end and then retry, as Studio documents.
 */
export class TwilioFlowStarter implements FlowStarter {
  constructor(
    private readonly client: TwilioClient,
    private readonly options: { flowSid: string; from: string; store: AppointmentStore; homeCountry: CountryCode },
  ) {}

  async start({ state, event }: FlowStartRequest): Promise<FlowStartResult> {
    const to = state.facts.patient_phone;
    const optOut = await this.options.store.getOptOut(to);
    if (optOut?.opted_out || state.opted_out) return { started: false, reason: 'opted-out' };

    const parameters = flowParameters(state, event, this.options.homeCountry);
    const flow = this.client.studio.v2.flows(this.options.flowSid);
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      try {
        const execution = await flow.executions.create({ to, from: this.options.from, parameters });
        log('info', 'flow started', { appointment_id: state.facts.appointment_id, event_id: event.event_id, execution_sid: execution.sid });
        return { started: true, executionSid: execution.sid };
      } catch (err) {
        const e = err as RestErrorShape;
        const conflicting = e.details?.conflicting_execution_sid;
        if (e.status === 409 && conflicting && attempt < 3) {
          await this.endExecution(conflicting);
          continue;
        }
        const retryable = e.status === undefined || e.status === 429 || e.status >= 500;
        // Twilio's messages can quote the phone number: only the status and code are kept.
        throw new FlowStartError(`Studio refused the execution (status ${e.status ?? 'none'}, code ${e.code ?? 'none'})`, retryable, e.status);
      }
    }
    throw new FlowStartError('Studio kept reporting a conflicting execution', true, 409);
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

  private async endExecution(sid: string): Promise<void> {
    try {
      await this.client.studio.v2.flows(this.options.flowSid).executions(sid).update({ status: 'ended' });
      log('info', 'ended conflicting execution', { execution_sid: sid });
    } catch (err) {
      // Already ended (409) or gone (404): the retry will tell whether the way is clear.
      log('warn', 'could not end conflicting execution', { execution_sid: sid, status: (err as RestErrorShape).status });
    }
  }
}
