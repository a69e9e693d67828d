import type { AppointmentState } from '../domain/appointment';
import { isActive } from '../domain/statuses';
import { withEventId, type AppointmentEvent, type PatientEventType } from '../domain/event';
import { formatAppointmentTime, formatPhone, providerName, smsText, textLanguage } from '../domain/format';
import type { CountryCode } from '../domain/phone';
import { CARRIER_KEYWORDS, classifyReply, normaliseReply, replyEventId } from '../domain/reply';
import type { EhrNotifier, EhrRequest } from '../ehr/notifier';
import { log } from '../log';
import type { ClinicInbox, EhrReceipts, InboundSightings, OptOutHow, OptOutLedger } from '../storage/appointment-store';
import { countFigure } from './count-figures';
import { recordEvent, type RecordDeps, type RecordStore } from './record-event';

export interface InboundReply {
  /** The patient's phone (E.164). */
  from: string;
  body: string;
  messageSid: string;
  /** Twilio's OptOutType parameter (STOP, START, HELP) when its opt-out layer recognised a keyword. */
  optOutType?: string;
  /** The appointment the flow asked about, when the reply came to a waiting question. */
  appointmentId?: string;
  flowSid?: string;
  executionSid?: string;
}

/** `inbox`: the reply went to the clinic's inbox and the patient gets the day's holding reply. */
export type ReplyAction =
  'confirm' | 'cancel' | 'reschedule' | 'opt-out' | 'opted-out' | 'opt-in' | 'help' | 'unclear' | 'unknown' | 'inbox' | 'no-appointment';

const REQUEST_TYPE = { confirm: 'CONFIRM', cancel: 'CANCEL', reschedule: 'RESCHEDULE' } as const;

/** What the flow needs to answer; every value a string so Studio's split and Liquid can use it. */
export interface ReplyOutcome {
  action: ReplyAction;
  appointment_id: string;
  patient_first_name: string;
  provider_name: string;
  appointment_when: string;
  callback_phone: string;
  /** How many other upcoming appointments the patient has ("0" when none). */
  other_appointments: string;
  ehr_delivery: string;
  /** `es` or `en`: the language of the acknowledgement (the appointment's patient_language). */
  language: string;
}

/**
 * Besides recording events, a reply keeps the opt-out ledger, dedupes by MessageSid, reads EHR
 * receipts and files what it does not understand in the clinic inbox.
 */
export type ReplyStore = RecordStore & InboundSightings & OptOutLedger & EhrReceipts & ClinicInbox;

export interface ReplyDeps {
  record: RecordDeps & { store: ReplyStore };
  notifier: EhrNotifier;
  homeCountry: CountryCode;
  /**
   * How long the one EHR attempt may take, asked just before it starts (the caller's deadline minus
   * what has passed). The notifier's own timeout when absent; what does not get through in time
   * is left in the outbox for the sweep.
   */
  ehrTimeoutMs?: () => number;
  /** Waits out `STATE_SETTLE_MS`; the real timer unless a test passes its own, which then waits for nothing. */
  sleep?: (ms: number) => Promise<void>;
}

/** How long an opt-out waits for the state of an appointment whose index entry has none yet. */
export const STATE_SETTLE_MS = 500;
const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function isUpcomingFor(state: AppointmentState, phone: string, nowIso: string): boolean {
  return state.facts.patient_phone === phone && isActive(state.status) && state.facts.appointment_datetime_utc > nowIso;
}

/** The patient's upcoming appointments, nearest first (index entries are checked against the state). */
async function upcomingAppointments(deps: ReplyDeps, phone: string, nowIso: string): Promise<AppointmentState[]> {
  const ids = await deps.record.store.listAppointmentIdsForPhone(phone);
  const states = await Promise.all(ids.map((id) => deps.record.store.getState(id)));
  return states
    .map((s) => s?.value)
    .filter((s): s is AppointmentState => !!s && isUpcomingFor(s, phone, nowIso))
    .sort((a, b) => a.facts.appointment_datetime_utc.localeCompare(b.facts.appointment_datetime_utc));
}

/** The patient's most recent appointment of any status: only its language is used, for texts about no appointment. */
async function latestAppointment(deps: ReplyDeps, phone: string): Promise<AppointmentState | undefined> {
  const ids = await deps.record.store.listAppointmentIdsForPhone(phone);
  const states = (await Promise.all(ids.map((id) => deps.record.store.getState(id))))
    .map((s) => s?.value)
    .filter((s): s is AppointmentState => !!s && s.facts.patient_phone === phone);
  return states.sort((a, b) => b.updated_at.localeCompare(a.updated_at))[0];
}

function patientEvent(type: PatientEventType, state: AppointmentState, reply: InboundReply, seenAt: string): AppointmentEvent {
  const event = withEventId({
    ...state.facts,
    event_type: type,
    event_datetime_utc: seenAt,
    detail: { message_sid: reply.messageSid, ...(reply.executionSid ? { execution_sid: reply.executionSid } : {}) },
  });
  return { ...event, event_id: replyEventId(type, state.facts.appointment_id, reply.messageSid) };
}

/**
 * Handles one patient SMS whenever it arrives (not only inside a wait window): records confirm and
 * cancel requests against the nearest upcoming appointment and forwards them to the EHR, and keeps
 * the opt-out ledger.
 */
export async function handleReply(deps: ReplyDeps, reply: InboundReply): Promise<ReplyOutcome> {
  const now = deps.record.now().toISOString();
  const intent = classifyReply(reply.body, reply.optOutType);
  const store = deps.record.store;
  // A replay of the same message carries the time it was first seen, so it maps to the same events.
  const seenAt = intent === 'help' ? now : await store.firstSeen(reply.messageSid, now);

  if (intent === 'opt-out' || intent === 'opt-in') {
    // Twilio confirms its own keywords; a revocation in other words gets our one confirmation (action opted-out).
    const carrier = reply.optOutType !== undefined || CARRIER_KEYWORDS.has(normaliseReply(reply.body));
    const how: OptOutHow = reply.optOutType !== undefined ? 'twilio-keyword' : carrier || intent === 'opt-in' ? 'keyword' : 'revocation';
    const before = await store.getOptOut(reply.from);
    await store.putOptOut({ phone: reply.from, opted_out: intent === 'opt-out', at: now, message_sid: reply.messageSid, how });
    const ids = await store.listAppointmentIdsForPhone(reply.from);
    const sleep = deps.sleep ?? realSleep;
    for (const id of ids) {
      // An index entry comes before its state: a booking being recorded right now has its state
      // written a moment later, and has read the ledger before this change (or it would have it).
      const current = (await store.getState(id)) ?? (await sleep(STATE_SETTLE_MS).then(() => store.getState(id)));
      if (!current || current.value.facts.patient_phone !== reply.from) continue;
      await recordEvent(deps.record, patientEvent(intent === 'opt-out' ? 'OPTED-OUT' : 'OPTED-IN', current.value, reply, seenAt));
    }
    log('info', 'opt-out ledger updated', { message_sid: reply.messageSid, code: intent, count: ids.length });
    const latest = await latestAppointment(deps, reply.from);
    // A phone already opted out that says STOP again is not a new opt-out; a replayed webhook
    // finds the ledger changed already, and the message id keeps a racing replay to one count.
    if (intent === 'opt-out' && (!before?.opted_out || before.message_sid === reply.messageSid)) {
      await countFigure(store, { figure: 'opt_outs', id: reply.messageSid, at: seenAt, zone: latest?.facts.appointment_timezone });
    }
    return replyOutcome(intent === 'opt-out' && !carrier ? 'opted-out' : intent, latest, 0, deps.homeCountry, true);
  }

  const upcoming = await upcomingAppointments(deps, reply.from, now);
  const target = upcoming.find((s) => s.facts.appointment_id === reply.appointmentId) ?? upcoming[0];
  const others = Math.max(0, upcoming.length - 1);

  if (intent === 'help') {
    return replyOutcome(intent, target ?? (await latestAppointment(deps, reply.from)), others, deps.homeCountry, !target);
  }
  if (intent === 'unknown' || intent === 'unclear') {
    const filed = await store.putInboxItem({
      message_sid: reply.messageSid,
      phone: reply.from,
      ...(target ? { appointment_id: target.facts.appointment_id } : {}),
      body: reply.body,
      intent,
      at: seenAt,
    });
    const context = target ?? (await latestAppointment(deps, reply.from));
    // One holding reply a day per phone: later ones that day, and a replayed message, get the options.
    const held = filed === 'created' && (await store.claimInboxAck(reply.from, localDay(now, context?.facts.appointment_timezone)));
    log('info', 'reply filed in the clinic inbox', {
      message_sid: reply.messageSid,
      appointment_id: target?.facts.appointment_id,
      code: filed === 'created' ? (held ? 'inbox' : intent) : 'replayed',
    });
    return replyOutcome(held ? 'inbox' : intent, context, others, deps.homeCountry, !target);
  }
  if (!target) return replyOutcome('no-appointment', await latestAppointment(deps, reply.from), 0, deps.homeCountry, true);

  const event = patientEvent(REQUEST_TYPE[intent], target, reply, seenAt);
  const recorded = await recordEvent(deps.record, event);
  if (recorded.outcome === 'ignored') return replyOutcome('no-appointment', target, 0, deps.homeCountry, true);
  if (recorded.duplicate) {
    // Already recorded and sent to the EHR (or waiting in its outbox for the sweep): not again.
    const receipt = await store.getReceipt(target.facts.appointment_id, event.event_id);
    return { ...replyOutcome(intent, target, others, deps.homeCountry), ehr_delivery: receipt ? 'already-delivered' : 'pending' };
  }

  const request: EhrRequest = {
    event_type: REQUEST_TYPE[intent],
    event_id: event.event_id,
    event_datetime_utc: event.event_datetime_utc,
    appointment_id: target.facts.appointment_id,
    patient_id: target.facts.patient_id,
    provider_id: target.facts.provider_id ?? '',
    flow_sid: reply.flowSid ?? '',
    execution_sid: reply.executionSid ?? '',
    message_sid: reply.messageSid,
  };
  const delivery = await deps.notifier.deliver(request, deps.ehrTimeoutMs ? { timeoutMs: deps.ehrTimeoutMs() } : {});
  log('info', 'patient request recorded', {
    appointment_id: target.facts.appointment_id,
    event_id: event.event_id,
    event_type: event.event_type,
    code: delivery,
  });
  return { ...replyOutcome(intent, target, others, deps.homeCountry), ehr_delivery: delivery };
}

/** The calendar day (`YYYY-MM-DD`) of `isoUtc` where the patient's appointment is, UTC when unknown. */
function localDay(isoUtc: string, timeZone: string | undefined): string {
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone: timeZone ?? 'UTC', year: 'numeric', month: '2-digit', day: '2-digit' }).format(
      new Date(isoUtc),
    );
  } catch {
    return isoUtc.slice(0, 10);
  }
}

/** What the flow is told for `action` about appointment `s` (display values as in the texts). */
export function replyOutcome(
  action: ReplyAction,
  s: AppointmentState | undefined,
  others: number,
  homeCountry: CountryCode,
  languageOnly = false,
): ReplyOutcome {
  const language = textLanguage(s?.facts.patient_language);
  if (languageOnly) s = undefined;
  return {
    action,
    appointment_id: s?.facts.appointment_id ?? '',
    patient_first_name: smsText(s?.facts.patient_first_name),
    provider_name: s ? smsText(providerName(s.facts.provider_first_name, s.facts.provider_last_name)) : '',
    appointment_when: s ? formatAppointmentTime(s.facts.appointment_datetime_utc, s.facts.appointment_timezone, language) : '',
    callback_phone: formatPhone(s?.facts.provider_callback_phone, homeCountry),
    other_appointments: String(others),
    ehr_delivery: '',
    language,
  };
}
