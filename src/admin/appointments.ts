import type { AppointmentState } from '../domain/appointment';
import { formatAppointmentTime, providerName } from '../domain/format';
import { planReminders, type ReminderPlan, type ReminderPolicy, type SkipReason, type StopReason } from '../domain/reminder-plan';
import { log } from '../log';
import type {
  AppointmentRecords,
  DeliveryReceipt,
  DeliveryReceipts,
  EventHistory,
  HistoryRecord,
  StaffMessage,
  StaffMessages,
} from '../storage/appointment-store';

/** What the appointments table and the CSV show for one appointment. */
export interface AppointmentRow {
  appointment_id: string;
  disposition: AppointmentState['disposition'];
  patient_id: string;
  patient_name: string;
  patient_phone: string;
  provider_name: string;
  provider_id: string;
  appointment_location: string;
  appointment_timezone: string;
  appointment_at: string;
  /** The appointment time as the patient reads it, in their own zone. */
  appointment_local: string;
  ehr_event_type: AppointmentState['ehr_event_type'];
  ehr_event_at: string;
  patient_request: string;
  reminders_sent: string;
  /** Set when Twilio reported the number cannot receive texts, e.g. `30006 (landline or unreachable carrier)`. */
  undeliverable: string;
  reminder: ReminderSummary;
  updated_at: string;
}

export interface ReminderSummary {
  /** One line for the table, e.g. "Reminder 2 at Tue, Dec 1 at 9:00 AM PST (deferred: outside the outreach window)". */
  text: string;
  next?: { n: number; at: string; at_local: string; reason?: string; deferred_from?: string };
  skipped: { n: number; reason: string; why: string }[];
  stopped?: StopReason;
}

const SKIP_TEXT: Record<SkipReason, string> = {
  'lead-time-passed-at-booking': 'its lead time had passed when the appointment was booked',
  superseded: 'a later reminder took its place',
  'window-opens-after-appointment': 'the outreach window opens only after the appointment',
  'window-opens-after-next-reminder': 'the outreach window opens only when the next reminder is due',
  'no-outreach-window': 'the outreach window is empty',
  missed: 'the sweep did not run in time',
  'daily-cap': 'the patient already had the most reminders for one day',
  'invalid-time-zone': 'the time zone is not valid',
  'second-not-after-first': 'the second reminder is not set after the first',
  'min-gap': 'it would have come too soon after the last text',
};

const STOP_TEXT: Record<StopReason, string> = {
  confirmed: 'the appointment is confirmed',
  canceled: 'the appointment is canceled',
  'no-show': 'the patient did not show',
  expired: 'the appointment has passed',
  'opted-out': 'the patient opted out of messages',
  undeliverable: "the patient's number cannot receive texts; waiting for a new number from the EHR",
  'patient-requested': 'the patient asked to confirm or cancel',
  'appointment-passed': 'the appointment time has passed',
  'invalid-appointment-time': 'the appointment time is not valid',
};

const DEFER_TEXT: Record<string, string> = {
  'outside-outreach-window': 'deferred: outside the outreach window',
  'late-booking': 'booked after its lead time, so sent as soon as possible',
  'min-gap': 'deferred: too soon after the last text',
};

/** Twilio's names for the delivery errors that mark a number undeliverable (twilio.com/docs/api/errors/<code>). */
const DELIVERY_ERROR_TEXT: Record<string, string> = {
  '30003': 'unreachable destination handset',
  '30005': 'unknown destination handset',
  '30006': 'landline or unreachable carrier',
};

export function deliveryErrorText(code: string): string {
  return DELIVERY_ERROR_TEXT[code] ?? 'delivery failed';
}

export function stopText(reason: StopReason): string {
  return STOP_TEXT[reason];
}

export function deferText(reason: string): string {
  return DEFER_TEXT[reason] ?? reason;
}

export function skipText(reason: string): string {
  // Stored records can carry a reason this build does not know.
  const texts: Partial<Record<string, string>> = SKIP_TEXT;
  return texts[reason] ?? reason;
}

export function summariseReminders(plan: ReminderPlan, zone: string): ReminderSummary {
  const skipped = plan.skipped.map((s) => ({ n: s.n, reason: s.reason, why: skipText(s.reason) }));
  const skippedText = skipped.map((s) => `reminder ${s.n} skipped: ${s.why}`).join('; ');
  const withSkips = (text: string) => (skippedText ? `${text} (${skippedText})` : text);
  if (plan.next?.kind === 'remind') {
    const at_local = formatAppointmentTime(plan.next.at, zone);
    const reason = plan.next.reason;
    const text = `Reminder ${plan.next.n} at ${at_local}${reason ? ` — ${DEFER_TEXT[reason] ?? reason}` : ''}`;
    return {
      text: withSkips(text),
      next: {
        n: plan.next.n,
        at: plan.next.at,
        at_local,
        ...(reason ? { reason } : {}),
        ...(plan.next.deferred_from ? { deferred_from: plan.next.deferred_from } : {}),
      },
      skipped,
    };
  }
  if (plan.stopped) return { text: withSkips(`No more reminders: ${STOP_TEXT[plan.stopped]}`), skipped, stopped: plan.stopped };
  return { text: withSkips('No more reminders'), skipped };
}

export function appointmentRow(state: AppointmentState, policy: ReminderPolicy, nowIso: string): AppointmentRow {
  const f = state.facts;
  const plan = planReminders(state, policy, nowIso);
  return {
    appointment_id: f.appointment_id,
    disposition: state.disposition,
    patient_id: f.patient_id,
    patient_name: [f.patient_first_name, f.patient_last_name].filter((p) => p && p.trim() !== '').join(' '),
    patient_phone: f.patient_phone,
    provider_name: providerName(f.provider_first_name, f.provider_last_name),
    provider_id: f.provider_id ?? '',
    appointment_location: f.appointment_location ?? '',
    appointment_timezone: f.appointment_timezone,
    appointment_at: f.appointment_datetime_utc,
    appointment_local: formatAppointmentTime(f.appointment_datetime_utc, f.appointment_timezone),
    ehr_event_type: state.ehr_event_type,
    ehr_event_at: state.ehr_event_at,
    patient_request: state.patient_request ? `${state.patient_request.type} at ${state.patient_request.at}` : '',
    reminders_sent: state.reminders_sent.map((r) => `${r.n} at ${r.at}`).join('; '),
    undeliverable: state.undeliverable
      ? `${state.undeliverable.error_code} (${deliveryErrorText(state.undeliverable.error_code)}) at ${state.undeliverable.at}`
      : '',
    reminder: summariseReminders(plan, f.appointment_timezone),
    updated_at: state.updated_at,
  };
}

export interface ViewDeps {
  store: AppointmentRecords & EventHistory & Partial<DeliveryReceipts> & Partial<StaffMessages>;
  policy: ReminderPolicy;
  now: () => Date;
}

export const MAX_PAGE = 200;

/**
 * The rows of `states`; a state that cannot be shown is left out, its id added to `unreadable`
 * and logged by id, so one bad record never takes a page down.
 */
export function rowsOf(states: AppointmentState[], policy: ReminderPolicy, nowIso: string, unreadable: string[]): AppointmentRow[] {
  return states.flatMap((s) => {
    try {
      return [appointmentRow(s, policy, nowIso)];
    } catch (err) {
      unreadable.push(s.facts.appointment_id);
      log('warn', 'appointment record cannot be shown, left out of the table', {
        appointment_id: s.facts.appointment_id,
        code: (err as Error).name,
      });
      return [];
    }
  });
}

/**
 * A page of rows. A record the store could not read, or that cannot be shown, is listed by id in
 * `unreadable` (and logged by id), so one bad record never takes the table or the export down.
 */
export async function listAppointmentRows(
  deps: ViewDeps,
  limit: number,
  cursor?: string,
): Promise<{ appointments: AppointmentRow[]; cursor?: string; unreadable?: string[] }> {
  const page = await deps.store.listAppointments(Math.max(1, Math.min(limit, MAX_PAGE)), cursor);
  const unreadable = [...(page.unreadable ?? [])];
  const appointments = rowsOf(page.appointments, deps.policy, deps.now().toISOString(), unreadable);
  return {
    appointments,
    ...(page.cursor ? { cursor: page.cursor } : {}),
    ...(unreadable.length > 0 ? { unreadable } : {}),
  };
}

export interface HistoryEntry {
  event_type: string;
  event_id: string;
  event_datetime_utc: string;
  received_at: string;
  appointment_local: string;
  detail?: Record<string, string>;
}

export function historyEntry(r: HistoryRecord): HistoryEntry {
  const e = r.event;
  return {
    event_type: e.event_type,
    event_id: e.event_id,
    event_datetime_utc: e.event_datetime_utc,
    received_at: r.received_at,
    appointment_local: formatAppointmentTime(e.appointment_datetime_utc, e.appointment_timezone),
    ...(e.detail ? { detail: e.detail } : {}),
  };
}

/** A delivery status of one of the appointment's texts, as a history entry (event_type DELIVERY). */
export function deliveryEntry(r: DeliveryReceipt, state: AppointmentState | undefined): HistoryEntry {
  const f = state?.facts;
  return {
    event_type: 'DELIVERY',
    event_id: r.message_sid,
    event_datetime_utc: r.at,
    received_at: r.at,
    appointment_local: f ? formatAppointmentTime(f.appointment_datetime_utc, f.appointment_timezone) : '',
    detail: { status: r.status, ...(r.error_code ? { error_code: r.error_code, error: deliveryErrorText(r.error_code) } : {}) },
  };
}

/** A text staff sent from the inbox, as a history entry (event_type STAFF_REPLY) with its words. */
export function staffEntry(m: StaffMessage, state: AppointmentState | undefined): HistoryEntry {
  const f = state?.facts;
  return {
    event_type: 'STAFF_REPLY',
    event_id: m.id,
    event_datetime_utc: m.at,
    received_at: m.at,
    appointment_local: f ? formatAppointmentTime(f.appointment_datetime_utc, f.appointment_timezone) : '',
    detail: {
      by: m.by,
      status: m.status,
      body: m.body,
      inbox_item_id: m.inbox_item_id,
      ...(m.execution_sid ? { execution_sid: m.execution_sid } : {}),
      ...(m.error ? { error: m.error } : {}),
    },
  };
}
