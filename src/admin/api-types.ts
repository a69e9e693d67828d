/**
 * The JSON the admin Functions answer with, as the page reads it. One module for both sides: the
 * handlers check what they return against these types (`satisfies`), and the page
 * (assets/src, its own tsconfig with DOM and no Node types) imports them with `import type`, which
 * esbuild erases, so no server code reaches the bundle. Hence no imports here: whatever this file
 * imported, the page's compiler would have to read too.
 *
 * Fields that are unions on the server (dispositions, event types) are plain strings here where the
 * page only shows them.
 */

/** GET /admin/environment: what the page needs before anyone logs in (public). */
export interface EnvironmentAnswer {
  local: boolean;
  customer_name: string;
}

export interface Problem {
  field: string;
  message: string;
}

/** POST /admin/login: the code is on its way. */
export interface LoginChallenge {
  challenge: string;
  expires_at: string;
  /** Masked: enough to recognise the phone, not to dial it. */
  sent_to: string;
}

/** POST /admin/verify-code and /admin/refresh. */
export interface Session {
  token: string;
  expires_at: string;
  session_ends_at: string;
  /** Who is logged in: `admin` (the built-in administrator) or a staff user's id. */
  user_id?: string;
  /** `admin` sees settings, users, export and the audit log; `staff` appointments and the inbox. */
  role?: 'admin' | 'staff';
}

export interface LoginResult extends Session {
  /** Lets this browser skip the code next time. */
  device_token?: string;
  device_expires_at?: string;
}

export interface ReminderSummary {
  /** One line for the table, e.g. "Reminder 2 at Tue, Dec 1 at 9:00 AM PST (deferred: outside the outreach window)". */
  text: string;
  next?: { n: number; at: string; at_local: string; reason?: string; deferred_from?: string };
  skipped: { n: number; reason: string; why: string }[];
  stopped?: string;
}

/** What the appointments table and the CSV show for one appointment. */
export interface AppointmentRow {
  appointment_id: string;
  disposition: string;
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
  ehr_event_type: string;
  ehr_event_at: string;
  patient_request: string;
  reminders_sent: string;
  /** Set when Twilio reported the number cannot receive texts, e.g. `30006 (landline or unreachable carrier)`. */
  undeliverable: string;
  reminder: ReminderSummary;
  updated_at: string;
}

/** GET /admin/appointments. */
export interface AppointmentPage {
  appointments: AppointmentRow[];
  cursor?: string;
  /** The zone the day ranges were read in, and where it came from. */
  zone: { name: string; source: 'clinic' | 'browser' | 'utc' };
  range?: { from?: string; to?: string };
  /** Index entries (or search candidates) looked at, and how many were stale. */
  scanned: number;
  stale: number;
  /** The search matched more than the candidates it may read: refine it. */
  truncated?: true;
  unreadable?: string[];
  /** Some changes the EHR just sent are still being filed into this list (a large batch); they show within minutes. */
  filing_behind?: true;
}

export type TimelineKind = 'ehr-event' | 'text' | 'reply' | 'ehr-request' | 'reminder' | 'system';

export interface TimelineEntry {
  at: string;
  at_local: string;
  kind: TimelineKind;
  title: string;
  detail?: string;
  /** EHR events: the fields that differ from the EHR's previous event (none for the first). */
  changes?: { field: string; label: string; from: string; to: string }[];
  /** Texts and replies: the words, as Twilio's log has them. */
  body?: string;
  /** Texts: the newest delivery status Twilio reported, with the error's meaning when it failed. */
  status?: string;
  /** A Twilio or event id behind the entry, with a name a person can read ("Text 2"); the raw id is for tooltips. */
  ref?: { label: string; id: string };
}

/** GET /admin/history (the server adds the plan and the flat history the CSV export uses). */
export interface HistoryView {
  appointment: AppointmentRow | null;
  zone: { name: string; source: 'clinic' | 'appointment' };
  timeline: TimelineEntry[];
}

/** GET /admin/export and /admin/audit-export: one page of CSV; the first starts with the header line. */
export interface CsvPage {
  csv: string;
  /** Absent on the last page. */
  cursor?: string;
  rows: number;
  unreadable?: string[];
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: { user_id: string; role: string };
  action: string;
  outcome: 'success' | 'failure';
  /** Ids of what the action touched. */
  target: Record<string, string>;
  client: { id?: string; ip?: string; user_agent?: string };
  request_id: string;
}

/** GET /admin/audit. */
export interface AuditPage {
  from: string;
  to: string;
  entries: AuditEntry[];
  cursor?: string;
}

export type Figure =
  'sent' | 'confirmation_asks' | 'delivered' | 'failed' | 'confirmed_by_text' | 'canceled_by_text' | 'no_shows' | 'opt_outs';

/** GET /admin/figures. */
export interface FiguresAnswer {
  from: string;
  to: string;
  figures: readonly Figure[];
  days: { day: string; counts: Record<Figure, number> }[];
  totals: Record<Figure, number>;
  confirmation_rate: number | null;
  inbox_waiting: number;
  definitions: Record<string, string>;
}

export interface InboxItem {
  id: string;
  phone: string;
  appointment_id?: string;
  body: string;
  intent: string;
  at: string;
  done_at?: string;
  replies?: { id: string; at: string; by: string; status: 'sending' | 'sent' | 'failed' }[];
}

/** GET /admin/inbox. */
export interface InboxAnswer {
  items: InboxItem[];
  unread: number;
}

/** GET /admin/opt-outs. */
export interface OptOutsAnswer {
  opt_outs: { phone: string; at: string; how: string; how_words: string }[];
  cursor?: string;
}

export interface RejectedEvent {
  id: string;
  at: string;
  execution_sid?: string;
  appointment_id?: string;
  event_type?: string;
  problems: Problem[];
}

/** GET /admin/rejected-events. */
export interface RejectedEventsAnswer {
  rejected: RejectedEvent[];
}

/** GET /admin/settings-in-force. */
export interface SettingsInForce {
  settings: { key: string; label: string; words: string; variables: string[] }[];
  simulation: { mode: 'local' | 'deployed'; enabled: boolean; allowed_phones?: number };
}

/** GET /admin/settings: secret values are never part of it. */
export interface SettingsReport {
  ok: boolean;
  problems: { variable: string; problem: string; fix: string }[];
  variables: { variable: string; state: 'ok' | 'default' | 'problem'; secret: boolean; value?: string }[];
}

/** A user as the Users panel lists it; the built-in administrator has only the first fields. */
export interface StaffUserRow {
  id: string;
  name: string;
  /** Masked: enough to recognise, not to dial. */
  phone?: string;
  role: 'admin' | 'staff';
  disabled?: boolean;
  built_in?: boolean;
  created_at?: string;
  created_by?: string;
  updated_at?: string;
  updated_by?: string;
}

/** GET /admin/users. */
export interface UsersAnswer {
  users: StaffUserRow[];
}

export type ComponentState = 'ok' | 'warning' | 'error';

export interface ComponentStatus {
  id: 'studio-flow' | 'phone-number' | 'verify-service' | 'bucket' | 'reminder-sweep';
  label: string;
  state: ComponentState;
  detail: string;
  link?: { href: string; label: string };
}

/** GET /admin/status. */
export interface StatusReport {
  ok: boolean;
  local: boolean;
  checked_at: string;
  components: ComponentStatus[];
}

/** One text of a phone's conversation, from Twilio's message log. */
export interface MessageView {
  sid: string;
  direction: 'inbound' | 'outbound';
  from: string;
  to: string;
  body: string;
  status: string;
  error_code: number | null;
  date_created: string;
}

/** GET /admin/messages. */
export interface MessagesAnswer {
  phone: string;
  messages: MessageView[];
}

/** A confirm or cancel request the app sent (or is still sending) to the EHR endpoint. */
export interface EhrRequestView {
  appointment_id: string;
  event_id: string;
  event_type: string;
  requested_at: string;
  delivery:
    | { status: 'delivered'; delivered_at: string; attempts: number; response_status: number }
    | { status: 'pending'; attempts: number; last_error?: string; next_attempt_at: string }
    | { status: 'unknown' };
}

/** GET /admin/ehr-requests. */
export interface EhrRequestsAnswer {
  phone: string;
  requests: EhrRequestView[];
}
