import { createHmac } from 'node:crypto';
import { log } from '../log';
import type { EhrReceipts, OutboxEntry, RetryOutbox } from '../storage/appointment-store';
import { PostError, postJson, type PostJson } from './http-post';

/** What we POST to the EHR integration endpoint when a patient asks to confirm or cancel. */
export interface EhrRequest {
  event_type: 'CONFIRM' | 'CANCEL';
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
  sleep?: (ms: number) => Promise<void>;
  /** Pauses between attempts within one call; the sweep retries what is still pending later. */
  backoffMs?: number[];
  /** Until the connection to the EHR is up. */
  connectTimeoutMs?: number;
  /** One attempt, from connecting to the end of the response. */
  timeoutMs?: number;
}

/** The part of the appointment store the notifier uses: its outbox and the delivery receipts. */
export type EhrOutboxStore = EhrReceipts & RetryOutbox;

export const EHR_CONNECT_TIMEOUT_MS = 3_000;
export const EHR_TIMEOUT_MS = 5_000;

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
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly o: NotifierOptions) {
    this.post = o.post ?? postJson;
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  async deliver(request: EhrRequest): Promise<DeliveryOutcome> {
    if (await this.o.store.getReceipt(request.appointment_id, request.event_id)) return 'already-delivered';
    const entry: OutboxEntry<EhrRequest> = {
      kind: 'ehr',
      id: request.event_id,
      created_at: this.o.now().toISOString(),
      attempts: 0,
      next_attempt_at: this.o.now().toISOString(),
      payload: request,
    };
    await this.o.store.putOutbox(entry);
    return this.attempt(entry, this.o.backoffMs ?? [0, 300, 1000, 2500]);
  }

  /** Retries what earlier calls left pending (called by the sweep). */
  async retryPending(limit = 200): Promise<Record<DeliveryOutcome, number>> {
    const counts: Record<DeliveryOutcome, number> = { delivered: 0, 'already-delivered': 0, pending: 0, rejected: 0 };
    const now = this.o.now().toISOString();
    for (const entry of await this.o.store.listOutbox<EhrRequest>('ehr', limit)) {
      if (entry.next_attempt_at > now) {
        counts.pending += 1;
        continue;
      }
      if (await this.o.store.getReceipt(entry.payload.appointment_id, entry.payload.event_id)) {
        await this.o.store.deleteOutbox('ehr', entry.id);
        counts['already-delivered'] += 1;
        continue;
      }
      counts[await this.attempt(entry, [0])] += 1;
    }
    return counts;
  }

  private async attempt(entry: OutboxEntry<EhrRequest>, pauses: number[]): Promise<DeliveryOutcome> {
    const body = JSON.stringify(entry.payload);
    let lastError = '';
    for (const pause of pauses) {
      if (pause > 0) await this.sleep(pause);
      entry.attempts += 1;
      let status = 0;
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
          totalTimeoutMs: this.o.timeoutMs ?? EHR_TIMEOUT_MS,
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
        log('info', 'EHR request delivered', { appointment_id: entry.payload.appointment_id, event_id: entry.id, status, count: entry.attempts });
        return 'delivered';
      }
      if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
        lastError = `HTTP ${status}`;
        entry.last_error = lastError;
        // A 4xx will not fix itself by retrying now; it stays in the outbox, slowly retried, for an operator to see.
        entry.next_attempt_at = new Date(this.o.now().getTime() + 6 * 3_600_000).toISOString();
        await this.o.store.putOutbox(entry);
        log('warn', 'EHR rejected request', { appointment_id: entry.payload.appointment_id, event_id: entry.id, status });
        return 'rejected';
      }
      // A 3xx is not followed (see http-post.ts): a failed delivery like a 5xx, known by its status.
      if (status) lastError = `HTTP ${status}`;
    }
    entry.last_error = lastError;
    const backoffMinutes = Math.min(60, 2 ** Math.min(entry.attempts, 6));
    entry.next_attempt_at = new Date(this.o.now().getTime() + backoffMinutes * 60_000).toISOString();
    await this.o.store.putOutbox(entry);
    log('warn', 'EHR request pending retry', { appointment_id: entry.payload.appointment_id, event_id: entry.id, error: lastError, count: entry.attempts });
    return 'pending';
  }
}
