import { appointmentRow, listAppointmentRows, type AppointmentRow, type ViewDeps } from './appointments';

/**
 * RFC 4180 CSV. A cell that a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a
 * leading apostrophe: names and addresses come from outside and end up in Excel (OWASP CSV injection).
 * Phone numbers in E.164 are left as they are.
 */
export function csvCell(value: unknown): string {
  let text = value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  // An E.164 number cannot carry a formula, and an apostrophe would spoil it for other importers.
  if (/^[=+\-@\t\r]/.test(text) && !/^\+\d{7,15}$/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(cells: unknown[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

export const APPOINTMENT_COLUMNS = [
  'appointment_id',
  'disposition',
  'appointment_at',
  'appointment_local',
  'appointment_timezone',
  'patient_id',
  'patient_name',
  'patient_phone',
  'provider_name',
  'appointment_location',
  'ehr_event_type',
  'ehr_event_at',
  'patient_request',
  'reminders_sent',
  'undeliverable',
  'next_reminder',
  'reminders_skipped',
  'updated_at',
] as const;

export const HISTORY_COLUMNS = [
  'appointment_id',
  'event_datetime_utc',
  'received_at',
  'event_type',
  'event_id',
  'appointment_datetime_utc',
  'appointment_timezone',
  'patient_id',
  'patient_first_name',
  'patient_last_name',
  'patient_phone',
  'provider_id',
  'appointment_location',
  'detail',
] as const;

function appointmentCells(r: AppointmentRow): unknown[] {
  const values: Record<(typeof APPOINTMENT_COLUMNS)[number], unknown> = {
    ...r,
    next_reminder: r.reminder.next
      ? `${r.reminder.next.n} at ${r.reminder.next.at}${r.reminder.next.reason ? ` (${r.reminder.next.reason})` : ''}`
      : r.reminder.text,
    reminders_skipped: r.reminder.skipped.map((s) => `${s.n}: ${s.reason}`).join('; '),
  };
  return APPOINTMENT_COLUMNS.map((c) => values[c]);
}

export type ExportTable = 'appointments' | 'history';

export const EXPORT_PAGE = 50;

/**
 * One page of an export. The first page starts with the header line; the page asks for the next
 * one with the cursor until there is none, so a large bucket never has to fit one Function call.
 */
export async function exportPage(
  deps: ViewDeps,
  table: ExportTable,
  options: { cursor?: string; appointmentId?: string },
): Promise<{ csv: string; cursor?: string; rows: number; unreadable?: string[] }> {
  const header = options.cursor ? '' : csvLine(table === 'appointments' ? [...APPOINTMENT_COLUMNS] : [...HISTORY_COLUMNS]);
  let ids: string[];
  let cursor: string | undefined;
  let unreadable: string[] = [];
  let csv = header;
  let rows = 0;
  if (options.appointmentId) {
    ids = [options.appointmentId];
    if (table === 'appointments') {
      const state = await deps.store.getState(options.appointmentId);
      if (state) {
        csv += csvLine(appointmentCells(appointmentRow(state.value, deps.policy, deps.now().toISOString())));
        rows += 1;
      }
      return { csv, rows };
    }
  } else {
    const page = await listAppointmentRows(deps, EXPORT_PAGE, options.cursor);
    cursor = page.cursor;
    unreadable = page.unreadable ?? [];
    if (table === 'appointments') {
      for (const r of page.appointments) csv += csvLine(appointmentCells(r));
      return { csv, rows: page.appointments.length, ...(cursor ? { cursor } : {}), ...(unreadable.length > 0 ? { unreadable } : {}) };
    }
    ids = page.appointments.map((a) => a.appointment_id);
  }
  for (const id of ids) {
    for (const h of await deps.store.listHistory(id)) {
      const e = h.event;
      csv += csvLine([
        e.appointment_id,
        e.event_datetime_utc,
        h.received_at,
        e.event_type,
        e.event_id,
        e.appointment_datetime_utc,
        e.appointment_timezone,
        e.patient_id,
        e.patient_first_name,
        e.patient_last_name,
        e.patient_phone,
        e.provider_id,
        e.appointment_location,
        e.detail,
      ]);
      rows += 1;
    }
  }
  return { csv, rows, ...(cursor ? { cursor } : {}), ...(unreadable.length > 0 ? { unreadable } : {}) };
}
