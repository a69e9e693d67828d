import { DateTime } from 'luxon';
import type { AppointmentState } from '../domain/appointment';
import { isEhrEventType, type AppointmentEvent, type EhrEventType, type PatientEventType } from '../domain/event';
import { zoneLabel } from '../domain/format';
import { planReminders, type ReminderPlan, type ReminderPolicy } from '../domain/reminder-plan';
import { parseAppointmentZone } from '../domain/time';
import type { EhrReceipt, EhrRequest } from '../ehr/notifier';
import type {
  AppointmentRecords,
  ClinicInbox,
  DeliveryReceipt,
  DeliveryReceipts,
  EhrReceipts,
  EventHistory,
  HistoryRecord,
  PhoneDirectory,
  RetryOutbox,
  StaffMessage,
  StaffMessages,
} from '../storage/appointment-store';
import type { TwilioClient } from '../twilio/client';
import {
  appointmentRow,
  deferText,
  deliveryErrorText,
  deliveryEntry,
  historyEntry,
  skipText,
  staffEntry,
  stopText,
  type AppointmentRow,
  type HistoryEntry,
} from './appointments';
import { conversation, type MessageView } from './conversation';
import type { TimelineKind, TimelineEntry } from './api-types';
export type { TimelineKind, TimelineEntry } from './api-types';

/*
 * One appointment's story in one list, oldest first: what the EHR said (and what each event
 * changed), every text we sent with its words and what Twilio reported, every patient reply,
 * what we asked the EHR and whether it arrived, and the reminders sent, planned, deferred or
 * skipped. Times are shown in the clinic's zone (EHR_DEFAULT_TIMEZONE), or the appointment's own
 * zone where the clinic has none; the zone is named in every time and in `zone`.
 */

export interface TimelineDeps {
  store: AppointmentRecords &
    EventHistory &
    DeliveryReceipts &
    EhrReceipts &
    RetryOutbox &
    PhoneDirectory &
    Pick<ClinicInbox, 'listInbox'> &
    StaffMessages;
  twilio?: TwilioClient;
  policy: ReminderPolicy;
  now: () => Date;
  clinicZone?: string;
}

export const EHR_TITLES: Record<EhrEventType, string> = {
  BOOKED: 'Booked in the EHR',
  RESCHEDULED: 'Rescheduled in the EHR',
  MODIFIED: 'Changed in the EHR',
  CONFIRMED: 'Confirmed in the EHR',
  CANCELED: 'Canceled in the EHR',
  NOSHOWED: 'Marked no-show in the EHR',
};

export const PATIENT_TITLES: Record<PatientEventType, string> = {
  CONFIRM: 'Patient asked to confirm',
  CANCEL: 'Patient asked to cancel',
  RESCHEDULE: 'Patient asked to reschedule',
  'OPTED-OUT': 'Patient opted out of texts (STOP)',
  'OPTED-IN': 'Patient opted back in to texts (START)',
};

/** The event fields a front desk cares about, with the words the page shows for them. */
const FACT_FIELDS: [keyof AppointmentEvent, string][] = [
  ['appointment_datetime_utc', 'appointment time'],
  ['appointment_timezone', 'time zone'],
  ['appointment_location', 'location'],
  ['provider_id', 'provider id'],
  ['provider_first_name', 'provider first name'],
  ['provider_last_name', 'provider last name'],
  ['provider_callback_phone', 'callback phone'],
  ['patient_first_name', 'first name'],
  ['patient_last_name', 'last name'],
  ['patient_phone', 'phone'],
  ['patient_language', 'language'],
];

export function formatInZone(iso: string, zone: string): string {
  const parsed = parseAppointmentZone(zone);
  const dt = DateTime.fromISO(iso, { zone: 'UTC' }).setZone(parsed.ok ? parsed.value.zone : 'UTC');
  if (!dt.isValid) return iso;
  return `${dt.setLocale('en-US').toFormat("ccc, LLL d 'at' h:mm:ss a")} ${zoneLabel(dt)}`;
}

/** What changed between two EHR events' facts; appointment times shown in the appointment's zone. */
export function factChanges(before: AppointmentEvent, after: AppointmentEvent): NonNullable<TimelineEntry['changes']> {
  const shown = (e: AppointmentEvent, k: keyof AppointmentEvent) => {
    const v = e[k];
    if (typeof v !== 'string') return '';
    return k === 'appointment_datetime_utc' ? formatInZone(v, e.appointment_timezone) : v;
  };
  return FACT_FIELDS.flatMap(([field, label]) => {
    const from = shown(before, field);
    const to = shown(after, field);
    return from === to ? [] : [{ field, label, from, to }];
  });
}

export async function appointmentTimeline(
  deps: TimelineDeps,
  appointmentId: string,
  state: AppointmentState | null,
  records: HistoryRecord[],
  receipts: DeliveryReceipt[],
): Promise<{ zone: { name: string; source: 'clinic' | 'appointment' }; timeline: TimelineEntry[] }> {
  const appointmentZone = state?.facts.appointment_timezone ?? records[0]?.event.appointment_timezone ?? 'UTC';
  const zone = deps.clinicZone
    ? { name: deps.clinicZone, source: 'clinic' as const }
    : { name: appointmentZone, source: 'appointment' as const };
  const local = (iso: string) => formatInZone(iso, zone.name);
  const entries: TimelineEntry[] = [];

  // EHR events, patient requests and system events, in event order; each EHR event against the previous one.
  const ordered = [...records].sort(
    (a, b) => a.event.event_datetime_utc.localeCompare(b.event.event_datetime_utc) || a.event.event_id.localeCompare(b.event.event_id),
  );
  let previousEhr: AppointmentEvent | undefined;
  const requests: AppointmentEvent[] = [];
  const replySids = new Set<string>();
  for (const { event: e } of ordered) {
    const at = e.event_datetime_utc;
    if (isEhrEventType(e.event_type)) {
      const changes = previousEhr ? factChanges(previousEhr, e) : [];
      entries.push({
        at,
        at_local: local(at),
        kind: 'ehr-event',
        title: EHR_TITLES[e.event_type],
        detail: previousEhr
          ? changes.length > 0
            ? `Changed: ${changes.map((c) => c.label).join(', ')}`
            : 'Nothing the patient sees changed'
          : `Appointment ${formatInZone(e.appointment_datetime_utc, e.appointment_timezone)}`,
        changes,
        ref: { label: 'EHR event', id: e.event_id },
      });
      previousEhr = e;
    } else if (e.event_type in PATIENT_TITLES) {
      const sid = e.detail?.message_sid;
      if (sid) replySids.add(sid);
      entries.push({
        at,
        at_local: local(at),
        kind: 'reply',
        title: PATIENT_TITLES[e.event_type as PatientEventType],
        ref: { label: 'Patient event', id: e.event_id },
      });
      if (e.event_type === 'CONFIRM' || e.event_type === 'CANCEL' || e.event_type === 'RESCHEDULE') requests.push(e);
    } else if (e.event_type === 'REMIND') {
      entries.push({
        at,
        at_local: local(at),
        kind: 'reminder',
        title: `Reminder ${e.detail?.reminder ?? ''} sent`.replace('  ', ' '),
        ref: { label: 'Reminder event', id: e.event_id },
      });
    } else if (e.event_type === 'EXPIRED') {
      entries.push({ at, at_local: local(at), kind: 'system', title: 'Appointment time passed without an outcome (EXPIRED)' });
    }
  }

  // What we asked the EHR on the patient's behalf, and whether it got there.
  const pending = new Map((requests.length > 0 ? await deps.store.listOutbox<EhrRequest>('ehr') : []).map((o) => [o.id, o] as const));
  for (const r of requests) {
    const receipt = (await deps.store.getReceipt(appointmentId, r.event_id)) as EhrReceipt | null;
    const waiting = pending.get(r.event_id);
    const detail = receipt
      ? `Delivered ${local(receipt.delivered_at)} (HTTP ${receipt.response_status}, ${receipt.attempts} attempt${receipt.attempts === 1 ? '' : 's'})`
      : waiting
        ? `Not delivered yet: ${waiting.attempts} attempt${waiting.attempts === 1 ? '' : 's'}, next ${local(waiting.next_attempt_at)}${waiting.last_error ? ` (last error: ${waiting.last_error})` : ''}`
        : 'No delivery record';
    entries.push({
      at: r.event_datetime_utc,
      at_local: local(r.event_datetime_utc),
      kind: 'ehr-request',
      title: `${r.event_type.toLowerCase()} request sent to the EHR`.replace(/^./, (c) => c.toUpperCase()),
      detail,
      ref: { label: 'EHR request', id: r.event_id },
    });
  }

  // Texts: Twilio's log for the patient's phone, kept to the ones about this appointment.
  const bySid = new Map<string, DeliveryReceipt[]>();
  for (const r of receipts) bySid.set(r.message_sid, [...(bySid.get(r.message_sid) ?? []), r]);
  const inboxSids = new Set((await deps.store.listInbox(200)).filter((i) => i.appointment_id === appointmentId).map((i) => i.message_sid));
  const phone = state?.facts.patient_phone;
  let messages: MessageView[] = [];
  if (deps.twilio && phone) messages = await conversation(deps.twilio, phone, 50);
  let textNo = 0;
  let replyNo = 0;
  const shownSids = new Set<string>();
  // A text with no delivery callback yet is filed nowhere; it is this appointment's when the
  // phone has no other, or when it answers (within two minutes) a reply shown here.
  const onlyOne = phone ? await onlyAppointmentOf(deps.store, phone, appointmentId) : false;
  let lastReplyAt = Number.NEGATIVE_INFINITY;
  for (const m of messages) {
    if (m.direction === 'outbound') {
      const link = bySid.has(m.sid) ? appointmentId : await deps.store.findMessageLink(m.sid);
      const about = link === appointmentId || (link === null && (onlyOne || Date.parse(m.date_created) - lastReplyAt <= 120_000));
      if (!about) continue;
      textNo += 1;
      shownSids.add(m.sid);
      const latest = bySid.get(m.sid)?.at(-1);
      const status = latest ? latest.status : m.status;
      const code = latest?.error_code ?? (m.error_code !== null ? String(m.error_code) : undefined);
      entries.push({
        at: m.date_created,
        at_local: local(m.date_created),
        kind: 'text',
        title: 'Text sent to the patient',
        body: m.body,
        status: code ? `${status} — ${code} ${deliveryErrorText(code)}` : status,
        ref: { label: `Text ${textNo}`, id: m.sid },
      });
    } else if (replySids.has(m.sid) || inboxSids.has(m.sid)) {
      replyNo += 1;
      lastReplyAt = Date.parse(m.date_created);
      entries.push({
        at: m.date_created,
        at_local: local(m.date_created),
        kind: 'reply',
        title: 'Patient replied',
        body: m.body,
        ref: { label: `Reply ${replyNo}`, id: m.sid },
      });
    }
  }
  // Receipts for texts the log no longer lists (it keeps the newest 50): their status at least.
  for (const [sid, list] of bySid) {
    if (shownSids.has(sid)) continue;
    const latest = list.at(-1) as DeliveryReceipt;
    textNo += 1;
    entries.push({
      at: latest.at,
      at_local: local(latest.at),
      kind: 'text',
      title: 'Text sent to the patient (words no longer in the message log)',
      status: latest.error_code ? `${latest.status} — ${latest.error_code} ${deliveryErrorText(latest.error_code)}` : latest.status,
      ref: { label: `Text ${textNo}`, id: sid },
    });
  }

  if (state?.undeliverable) {
    const u = state.undeliverable;
    entries.push({
      at: u.at,
      at_local: local(u.at),
      kind: 'system',
      title: "Twilio says the patient's number cannot receive texts",
      detail: `${u.error_code} ${deliveryErrorText(u.error_code)}: no reminders until the EHR sends another number`,
      ref: { label: 'Failed text', id: u.message_sid },
    });
  }

  // Reminders: skipped ones the sweep recorded, and what the policy plans next.
  if (state) {
    for (const s of state.reminders_skipped ?? []) {
      if (s.schedule_version !== state.schedule_version) continue;
      entries.push({ at: s.at, at_local: local(s.at), kind: 'reminder', title: `Reminder ${s.n} skipped`, detail: skipText(s.reason) });
    }
    const nowIso = deps.now().toISOString();
    const plan = planReminders(state, deps.policy, nowIso);
    for (const s of plan.skipped) {
      if ((state.reminders_skipped ?? []).some((r) => r.n === s.n && r.schedule_version === state.schedule_version)) continue;
      entries.push({
        at: nowIso,
        at_local: local(nowIso),
        kind: 'reminder',
        title: `Reminder ${s.n} will be skipped`,
        detail: skipText(s.reason),
      });
    }
    if (plan.next?.kind === 'remind') {
      const deferred = plan.next.deferred_from ? ` (deferred from ${local(plan.next.deferred_from)})` : '';
      entries.push({
        at: plan.next.at,
        at_local: local(plan.next.at),
        kind: 'reminder',
        title: `Reminder ${plan.next.n} planned`,
        detail: `${plan.next.reason ? deferText(plan.next.reason) : 'on schedule'}${deferred}`,
      });
    } else if (plan.stopped) {
      entries.push({ at: nowIso, at_local: local(nowIso), kind: 'reminder', title: 'No more reminders', detail: stopText(plan.stopped) });
    }
  }

  // Twilio dates its messages to the second, our events to the millisecond: compare by the second,
  // and within one put the cause before its effects (the event, the reminder, its text, the reply).
  const rank: Record<TimelineKind, number> = { 'ehr-event': 0, reminder: 1, text: 2, reply: 3, 'ehr-request': 4, system: 5 };
  const second = (e: TimelineEntry) => Math.floor(Date.parse(e.at) / 1000);
  entries.sort((a, b) => second(a) - second(b) || rank[a.kind] - rank[b.kind]);
  return { zone: { ...zone }, timeline: entries };
}

/**
 * Puts the texts staff sent from the inbox in the timeline, saying who sent them. Twilio's log has
 * the same text as an outbound message: that entry is replaced, so the text is shown once.
 */
function withStaffTexts(timeline: TimelineEntry[], staff: StaffMessage[], zoneName: string): void {
  for (const m of staff) {
    const near = (e: TimelineEntry) => e.kind === 'text' && e.body === m.body && Math.abs(Date.parse(e.at) - Date.parse(m.at)) < 5 * 60_000;
    const logged = timeline.findIndex(near);
    const entry: TimelineEntry = {
      at: m.at,
      at_local: formatInZone(m.at, zoneName),
      kind: 'text',
      title: m.status === 'sent' ? `Staff text from ${m.by}` : `Staff text from ${m.by} (not sent)`,
      body: m.body,
      ...(logged >= 0 && timeline[logged]?.status ? { status: timeline[logged].status } : {}),
      ...(m.error ? { detail: m.error } : {}),
      ref: { label: 'Staff text', id: m.execution_sid ?? m.id },
    };
    if (logged >= 0) timeline.splice(logged, 1, { ...entry, at_local: timeline[logged]?.at_local ?? entry.at_local });
    else timeline.push(entry);
  }
  // Stable: entries of one second keep the cause-before-effect order appointmentTimeline gave them.
  const second = (e: TimelineEntry) => Math.floor(Date.parse(e.at) / 1000);
  timeline.sort((a, b) => second(a) - second(b));
}

async function onlyAppointmentOf(store: TimelineDeps['store'], phone: string, appointmentId: string): Promise<boolean> {
  const ids = await store.listAppointmentIdsForPhone(phone);
  for (const id of ids) {
    if (id === appointmentId) continue;
    // The phone index is a hint: another appointment counts only if its state still has this phone.
    if ((await store.getState(id))?.value.facts.patient_phone === phone) return false;
  }
  return true;
}

export interface AppointmentStory {
  appointment: AppointmentRow | null;
  plan: ReminderPlan | null;
  /** The older flat list (events and delivery receipts), as the CSV export has it. */
  history: HistoryEntry[];
  zone: { name: string; source: 'clinic' | 'appointment' };
  timeline: TimelineEntry[];
}

/** GET /admin/history: the state, the plan, the flat history and the timeline; null for an id nothing was recorded for. */
export async function appointmentStory(deps: TimelineDeps, appointmentId: string): Promise<AppointmentStory | null> {
  const [state, records, receipts, staff] = await Promise.all([
    deps.store.getState(appointmentId),
    deps.store.listHistory(appointmentId),
    deps.store.listDeliveryReceipts(appointmentId),
    deps.store.listStaffMessages(appointmentId),
  ]);
  if (!state && records.length === 0) return null;
  const nowIso = deps.now().toISOString();
  const history = [
    ...records.map(historyEntry),
    ...staff.map((m) => staffEntry(m, state?.value)),
    ...receipts.map((r) => deliveryEntry(r, state?.value)),
  ];
  // Events keep their own order (event time, then id); a receipt or staff text follows what was recorded before it.
  const order = (e: HistoryEntry) => (e.event_type === 'DELIVERY' || e.event_type === 'STAFF_REPLY' ? e.received_at : e.event_datetime_utc);
  const { zone, timeline } = await appointmentTimeline(deps, appointmentId, state?.value ?? null, records, receipts);
  withStaffTexts(timeline, staff, zone.name);
  return {
    appointment: state ? appointmentRow(state.value, deps.policy, nowIso) : null,
    plan: state ? planReminders(state.value, deps.policy, nowIso) : null,
    history: history
      .map((e, i) => ({ e, i }))
      .sort((a, b) => order(a.e).localeCompare(order(b.e)) || a.i - b.i)
      .map(({ e }) => e),
    zone,
    timeline,
  };
}
