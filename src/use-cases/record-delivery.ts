import { markUndeliverable, UNDELIVERABLE_ERROR_CODES, type AppointmentState } from '../domain/appointment';
import { log } from '../log';
import type { AppointmentRecords, DeliveryReceipts, Versioned } from '../storage/appointment-store';
import { countFigure } from './count-figures';
import type { FilingDeps, FilingStore } from './filing';
import { commitState } from './update-state';

/** A status callback as Twilio posts it (MessageSid, MessageStatus, To, ErrorCode), validated at the edge. */
export interface DeliveryStatus {
  messageSid: string;
  status: string;
  to: string;
  errorCode?: string;
}

export interface DeliveryDeps extends FilingDeps {
  store: AppointmentRecords & FilingStore & DeliveryReceipts;
}

export type DeliveryOutcome =
  { recorded: 'created' | 'exists'; appointment_id: string; undeliverable: boolean } | { recorded: 'no-appointment' };

const FAILED = new Set(['failed', 'undelivered']);

/** When the last text about the appointment went out (or was claimed to), as far as the state knows. */
function lastTextAt(s: AppointmentState): string {
  const times = [s.told?.at, s.outbox?.sending?.created_at, ...s.reminders_sent.map((r) => r.at)].filter((t): t is string => !!t);
  return times.sort().at(-1) ?? '';
}

/**
 * Records one delivery status of an outbound text in its appointment's history. A text is filed
 * under an appointment by its first callback: the appointment of the `To` phone (phone index,
 * checked against the state) whose last text is the most recent, which is the text Studio just
 * sent. Later callbacks of the same MessageSid follow the link. When Twilio says the number itself
 * cannot receive texts (30003, 30005, 30006), every appointment still at that phone is marked
 * undeliverable, so its reminders stop until the EHR sends another number.
 */
export async function recordDelivery(deps: DeliveryDeps, d: DeliveryStatus): Promise<DeliveryOutcome> {
  const { store } = deps;
  const nowIso = deps.now().toISOString();
  const states = async (): Promise<Versioned<AppointmentState>[]> => {
    const ids = await store.listAppointmentIdsForPhone(d.to);
    const found = await Promise.all(ids.map((id) => store.getState(id)));
    return found.filter((s): s is Versioned<AppointmentState> => s !== null && s.value.facts.patient_phone === d.to);
  };
  let phoneStates: Versioned<AppointmentState>[] | undefined;
  let appointmentId = await store.findMessageLink(d.messageSid);
  if (!appointmentId) {
    phoneStates = await states();
    const latest = [...phoneStates].sort((a, b) => lastTextAt(b.value).localeCompare(lastTextAt(a.value)))[0];
    if (!latest) {
      log('warn', 'delivery status for a text of no known appointment', { message_sid: d.messageSid, message_status: d.status });
      return { recorded: 'no-appointment' };
    }
    appointmentId = await store.linkMessage(d.messageSid, latest.value.facts.appointment_id);
  }
  const recorded = await store.putDeliveryReceipt(appointmentId, {
    message_sid: d.messageSid,
    status: d.status,
    ...(d.errorCode ? { error_code: d.errorCode } : {}),
    at: nowIso,
  });
  if (d.status === 'delivered' || FAILED.has(d.status)) {
    // One fact per text: a text Twilio reports failed and then undelivered is one failure. The
    // day is where the appointment is; a repeated callback is counted again and found counted.
    const zone = (phoneStates?.find((s) => s.value.facts.appointment_id === appointmentId) ?? (await store.getState(appointmentId)))?.value
      .facts.appointment_timezone;
    await countFigure(store, {
      figure: d.status === 'delivered' ? 'delivered' : 'failed',
      id: d.messageSid,
      at: nowIso,
      zone,
      appointmentId,
    });
  }
  const undeliverable = FAILED.has(d.status) && (UNDELIVERABLE_ERROR_CODES as readonly string[]).includes(d.errorCode ?? '');
  if (undeliverable) {
    phoneStates ??= await states();
    const mark = { phone: d.to, error_code: d.errorCode ?? '', at: nowIso, message_sid: d.messageSid };
    for (const s of phoneStates) {
      const r = await commitState(store, s.value.facts.appointment_id, (state) => markUndeliverable(state, mark, nowIso), deps, {
        known: s,
      });
      if (r.changed)
        log('info', 'number marked undeliverable; reminders stop', {
          appointment_id: s.value.facts.appointment_id,
          message_sid: d.messageSid,
          code: mark.error_code,
        });
    }
  }
  log('info', 'delivery status recorded', {
    appointment_id: appointmentId,
    message_sid: d.messageSid,
    message_status: d.status,
    ...(d.errorCode ? { code: d.errorCode } : {}),
  });
  return { recorded, appointment_id: appointmentId, undeliverable };
}
