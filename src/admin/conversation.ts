import type { EhrReceipt, EhrRequest } from '../ehr/notifier';
import type { AppointmentRecords, EhrReceipts, EventHistory, OutboxEntry, PhoneDirectory, RetryOutbox } from '../storage/appointment-store';
import type { MessageInstance } from 'twilio/lib/rest/api/v2010/account/message';
import type { TwilioClient, WithNullable } from '../twilio/client';
import type { EhrRequestView, MessageView } from './api-types';

export type { EhrRequestView, MessageView };

/** Twilio sends error_code null for a message that has not failed. */
type ListedMessage = WithNullable<MessageInstance, 'errorCode'>;

/**
 * A phone's conversation with the account, oldest first, from Twilio's message log (both
 * directions). Twilio dates have one-second resolution: within one second the patient's message
 * comes first (what the clinic sends in the same second is the flow's answer to it), and messages
 * of one direction keep the order Twilio listed them in.
 */
export async function conversation(client: TwilioClient, phone: string, limit = 50): Promise<MessageView[]> {
  const [to, from]: [ListedMessage[], ListedMessage[]] = await Promise.all([
    client.messages.list({ to: phone, limit }),
    client.messages.list({ from: phone, limit }),
  ]);
  const seen = new Set<string>();
  const all: (MessageView & { order: number })[] = [];
  // Twilio lists newest first; a higher order is older.
  for (const [order, m] of [...to.entries(), ...from.entries()]) {
    if (seen.has(m.sid)) continue;
    seen.add(m.sid);
    all.push({
      sid: m.sid,
      direction: m.direction === 'inbound' ? 'inbound' : 'outbound',
      from: m.from,
      to: m.to,
      body: m.body,
      status: m.status,
      error_code: m.errorCode ?? null,
      date_created: m.dateCreated.toISOString(),
      order,
    });
  }
  return all
    .sort((a, b) => a.date_created.localeCompare(b.date_created) || rank(a) - rank(b) || b.order - a.order)
    .slice(-limit)
    .map(({ order: _order, ...m }) => m);
}

const rank = (m: MessageView) => (m.direction === 'inbound' ? 0 : 1);

/**
 * What the app sent (or is still trying to send) to the EHR endpoint for a phone's appointments:
 * the patient's confirm and cancel requests with their delivery receipt or outbox entry.
 */
export async function ehrRequestsForPhone(
  store: AppointmentRecords & EventHistory & PhoneDirectory & RetryOutbox & EhrReceipts,
  phone: string,
): Promise<EhrRequestView[]> {
  const ids = await store.listAppointmentIdsForPhone(phone);
  const outbox = new Map((await store.listOutbox<EhrRequest>('ehr')).map((e): [string, OutboxEntry<EhrRequest>] => [e.id, e]));
  const views: EhrRequestView[] = [];
  for (const id of ids) {
    const state = await store.getState(id);
    // The phone index is only a hint: the state says whose appointment it is now.
    if (state && state.value.facts.patient_phone !== phone) continue;
    for (const h of await store.listHistory(id)) {
      const e = h.event;
      if (e.event_type !== 'CONFIRM' && e.event_type !== 'CANCEL' && e.event_type !== 'RESCHEDULE') continue;
      const receipt = (await store.getReceipt(id, e.event_id)) as EhrReceipt | null;
      const pending = outbox.get(e.event_id);
      views.push({
        appointment_id: id,
        event_id: e.event_id,
        event_type: e.event_type,
        requested_at: e.event_datetime_utc,
        delivery: receipt
          ? {
              status: 'delivered',
              delivered_at: receipt.delivered_at,
              attempts: receipt.attempts,
              response_status: receipt.response_status,
            }
          : pending
            ? {
                status: 'pending',
                attempts: pending.attempts,
                next_attempt_at: pending.next_attempt_at,
                ...(pending.last_error ? { last_error: pending.last_error } : {}),
              }
            : { status: 'unknown' },
      });
    }
  }
  return views.sort((a, b) => a.requested_at.localeCompare(b.requested_at));
}
