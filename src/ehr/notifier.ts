import { createHmac } from 'node:crypto';
import { log } from '../log';
import type { EhrReceipts, OutboxEntry, RetryOutbox } from '../storage/appointment-store';
import { PostError, postJson, type PostJson } from './http-post';

/** What we POST to the EHR integration endpoint when a patient asks to confirm, cancel or reschedule. */
export interface EhrRequest {
  event_type: 'CONFIRM' | 'CANCEL' | 'RESCHEDULE';
  event_id: string;
  event_datetime_utc: string;
  appointment_id: string;
  patient_id: string;
  provider_id: string;
  flow_sid: string;
  execution_sid: string;
  message_sid: string;
}

export interface EhrReceipt {
  event_id: string;
  status: 'delivered';
  delivered_at: string;
  attempts: number;
  response_status: number;
}

export interface NotifierOptions {
  endpoint: string;
  secret: string;
  store: EhrOutboxStore;
  now: () => Date;
  post?: PostJson;
  /** Until the connection to the EHR is up. */
  connectTimeoutMs?: number;
  /** One attempt, from connecting to the end of the response (the sweep's attempts). */
  timeoutMs?: number;
}

/** The part of the appointment store the notifier uses: its outbox and the delivery receipts. */
export type EhrOutboxStore = EhrReceipts & RetryOutbox;

export const EHR_CONNECT_TIMEOUT_MS = 3_000;
/** The sweep has minutes; an EHR that takes 6 s must not time out and be sent the request again. */
export const EHR_TIMEOUT_MS = 10_000;
/**
 * While the first attempt is in flight its outbox entry is not due, so a sweep running meanwhile
 * does not send the same request a second time. Longer than any attempt; a crashed Function's
 * request is retried by the first sweep after it.
 */
export const FIRST_ATTEMPT_LEASE_MS = 60_000;
/** Below this there is no point starting an attempt: the request waits for the sweep. */
export const MIN_ATTEMPT_MS = 1_000;
/** The sweep stops retrying for this run after this many attempts in a row got no answer. */
const UNREACHABLE_AFTER = 3;

/** `X-Signature: sha256=<hex HMAC-SHA256 of the raw body>` lets the EHR check the request is ours. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

export type DeliveryOutcome = 'delivered' | 'already-delivered' | 'pending' | 'rejected';

/**
 * Delivers patient requests to the EHR at least once and records each delivery once. The request is
 * put in the outbox before the first attempt, so a crash or an EHR outage leaves it for the sweep
 * to retry; `Idempotency-Key` (the event id) lets the EHR drop a repeat.
 */
export class EhrNotifier {
  private readonly post: PostJson;

  constructor(private readonly o: NotifierOptions) {
    this.post = o.post ?? postJson;
  }

  /**
   * Queues the request and tries the EHR once, for at most `timeoutMs`; what does not get through
   * is left to the sweep (`retryPending`). A caller with a deadline (the reply Function answers
   * Studio within seconds) passes what it has left.
   */
  async deliver(request: EhrRequest, options: { timeoutMs?: number } = {}): Promise<DeliveryOutcome> {
    if (await this.o.store.getReceipt(request.appointment_id, request.event_id)) return 'already-delivered';
    const timeoutMs = options.timeoutMs ?? this.o.timeoutMs ?? EHR_TIMEOUT_MS;
    const now = this.o.now();
    const tryNow = timeoutMs >= MIN_ATTEMPT_MS;
    const entry: OutboxEntry<EhrRequest> = {
      kind: 'ehr',
      id: request.event_id,
      created_at: now.toISOString(),
      attempts: 0,
      next_attempt_at: new Date(now.getTime() + (tryNow ? FIRST_ATTEMPT_LEASE_MS : 0)).toISOString(),
      payload: request,
    };
    await this.o.store.putOutbox(entry);
    if (!tryNow) {
      log('info', 'EHR request left for the sweep', { appointment_id: request.appointment_id, event_id: request.event_id, ms: timeoutMs });
      return 'pending';
    }
    try {
      return await this.attempt(entry, timeoutMs);
    } catch (err) {
      // The request is in the outbox: whatever failed after that (a receipt write), the sweep finishes.
      log('warn', 'EHR request left for the sweep', {
        appointment_id: request.appointment_id,
        event_id: request.event_id,
        error: (err as Error).name,
      });
      return 'pending';
    }
  }

  /** Retries what earlier calls left pending (called by the sweep). */
  async retryPending(limit = 200): Promise<Record<DeliveryOutcome, number>> {
    const counts: Record<DeliveryOutcome, number> = { delivered: 0, 'already-delivered': 0, pending: 0, rejected: 0 };
    const now = this.o.now().toISOString();
    let unanswered = 0;
    for (const entry of await this.o.store.listOutbox<EhrRequest>('ehr', limit)) {
      if (entry.next_attempt_at > now || unanswered >= UNREACHABLE_AFTER) {
        counts.pending += 1;
        continue;
      }
      if (await this.o.store.getReceipt(entry.payload.appointment_id, entry.payload.event_id)) {
        await this.o.store.deleteOutbox('ehr', entry.id);
        counts['already-delivered'] += 1;
        continue;
      }
      const outcome = await this.attempt(entry, this.o.timeoutMs ?? EHR_TIMEOUT_MS);
      unanswered = outcome === 'pending' && !entry.last_error?.startsWith('HTTP') ? unanswered + 1 : 0;
      counts[outcome] += 1;
    }
    return counts;
  }

  private async attempt(entry: OutboxEntry<EhrRequest>, timeoutMs: number): Promise<DeliveryOutcome> {
    const body = JSON.stringify(entry.payload);
    entry.attempts += 1;
    let status = 0;
    let lastError = '';
    try {
      const res = await this.post(this.o.endpoint, {
        headers: {
          'Content-Type': 'application/json',
          'X-Signature': signBody(this.o.secret, body),
          'Idempotency-Key': entry.payload.event_id,
          'User-Agent': 'patient-appointment-management',
        },
        body,
        connectTimeoutMs: this.o.connectTimeoutMs ?? EHR_CONNECT_TIMEOUT_MS,
        totalTimeoutMs: timeoutMs,
      });
      status = res.status;
    } catch (err) {
      lastError = err instanceof PostError ? err.kind : 'network';
    }
    if (status >= 200 && status < 300) {
      const receipt: EhrReceipt = {
        event_id: entry.payload.event_id,
        status: 'delivered',
        delivered_at: this.o.now().toISOString(),
        attempts: entry.attempts,
        response_status: status,
      };
      await this.o.store.putReceipt(entry.payload.appointment_id, entry.payload.event_id, receipt);
      await this.o.store.deleteOutbox('ehr', entry.id);
      log('info', 'EHR request delivered', {
        appointment_id: entry.payload.appointment_id,
        event_id: entry.id,
        status,
        count: entry.attempts,
      });
      return 'delivered';
    }
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
      entry.last_error = `HTTP ${status}`;
      // A 4xx will not fix itself by retrying now; it stays in the outbox, slowly retried, for an operator to see.
      entry.next_attempt_at = new Date(this.o.now().getTime() + 6 * 3_600_000).toISOString();
      await this.o.store.putOutbox(entry);
      log('warn', 'EHR rejected request', { appointment_id: entry.payload.appointment_id, event_id: entry.id, status });
      return 'rejected';
    }
    // A 3xx is not followed (see http-post.ts): a failed delivery like a 5xx, known by its status.
    entry.last_error = status ? `HTTP ${status}` : lastError;
    const backoffMinutes = Math.min(60, 2 ** Math.min(entry.attempts, 6));
    entry.next_attempt_at = new Date(this.o.now().getTime() + backoffMinutes * 60_000).toISOString();
    await this.o.store.putOutbox(entry);
    log('warn', 'EHR request pending retry', {
      appointment_id: entry.payload.appointment_id,
      event_id: entry.id,
      error: entry.last_error,
      count: entry.attempts,
    });
    return 'pending';
  }
}
