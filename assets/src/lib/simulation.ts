import { FLOW_EVENT_TYPES } from '../../../src/domain/event-types';
import { ApiError, call, describe } from './api';
import { $, h, setBanner, whileBusy } from './dom';
import { browserZone, knownZones, tomorrowAt } from './time';

const FIELDS = [
  'patient_first_name',
  'patient_last_name',
  'patient_phone',
  'provider_first_name',
  'provider_last_name',
  'appointment_location',
  'appointment_datetime',
  'appointment_timezone',
  'appointment_id',
  'patient_id',
  'provider_id',
  'provider_callback_phone',
] as const;
type Field = (typeof FIELDS)[number];

interface IntakeResult {
  request_id: string;
  patient_phone?: string;
  results: { appointment_id: string; event_type: string; outcome: string; disposition: string | null; reason?: string; message?: string }[];
}

interface RemindResult {
  sent: boolean;
  n?: number;
  reason?: string;
}

function newAppointmentId(): string {
  const bytes = new Uint8Array(3);
  window.crypto.getRandomValues(bytes);
  const stamp = new Date().toISOString().slice(0, 10).replace(/-/g, '');
  return `SIM-${stamp}-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0'))
    .join('')
    .toUpperCase()}`;
}

const MESSAGE_TEXT: Record<string, string> = {
  started: 'the Studio Flow is sending the SMS',
  'opted-out': 'no SMS: the patient has opted out',
  'queued-for-retry': 'Studio could not be reached; the sweep will retry',
};

/** The simulation form: the admin plays the EHR for one patient and appointment. */
export function setUpSimulation(options: { now: () => number; onPhone: (e164: string) => void; onEvent: () => void }) {
  const form = $<HTMLFormElement>('sim-form');
  const result = $('sim-result');
  const input = (f: Field) => $<HTMLInputElement>(`sim-${f}`);

  const zones = knownZones();
  $('zones').replaceChildren(...zones.map((z) => h('option', { value: z })));
  input('appointment_timezone').value = browserZone();
  input('appointment_datetime').value = tomorrowAt(browserZone(), options.now());
  input('provider_first_name').value = 'Ana';
  input('provider_last_name').value = 'Lopez';
  input('appointment_location').value = 'Suite 100, Main Street Clinic';
  input('patient_id').value = 'SIM-PATIENT-1';
  input('provider_id').value = 'SIM-PROVIDER-1';
  input('appointment_id').value = newAppointmentId();

  $('sim-new').addEventListener('click', () => {
    input('appointment_id').value = newAppointmentId();
    input('appointment_datetime').value = tomorrowAt(input('appointment_timezone').value, options.now());
    setBanner(result, 'info', `New appointment ${input('appointment_id').value}: send BOOKED to start it.`);
  });

  const clearErrors = () => {
    for (const f of FIELDS) {
      const el = input(f);
      el.removeAttribute('aria-invalid');
      el.removeAttribute('aria-describedby');
      document.getElementById(`sim-${f}-error`)?.remove();
    }
  };

  const markError = (field: string, message: string): boolean => {
    if (!(FIELDS as readonly string[]).includes(field)) return false;
    const el = input(field as Field);
    el.setAttribute('aria-invalid', 'true');
    el.setAttribute('aria-describedby', `sim-${field}-error`);
    if (!document.getElementById(`sim-${field}-error`)) el.after(h('p', { class: 'field-error', id: `sim-${field}-error` }, message));
    return true;
  };

  const values = (): Record<string, string> => {
    const v: Record<string, string> = {};
    for (const f of FIELDS) v[f] = input(f).value.trim();
    // The form's datetime-local has no seconds; the EHR contract wants a full ISO local time.
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(v.appointment_datetime ?? '')) v.appointment_datetime += ':00';
    return v;
  };

  async function send(type: string): Promise<void> {
    clearErrors();
    const v = values();
    setBanner(result, 'loading', `Sending ${type}…`);
    try {
      if (type === 'REMIND') {
        const r = await call<RemindResult>('admin/simulate', {
          method: 'POST',
          body: { event_type: 'REMIND', appointment_id: v.appointment_id },
        });
        if (r.sent) setBanner(result, 'ok', `REMIND: reminder ${r.n ?? ''} is on its way through the Studio Flow.`);
        else setBanner(result, 'warning', `REMIND: no reminder sent — ${r.reason ?? 'nothing to send'}.`);
      } else {
        const r = await call<IntakeResult>('admin/simulate', { method: 'POST', body: { event_type: type, ...v } });
        const first = r.results[0];
        if (r.patient_phone) options.onPhone(r.patient_phone);
        const msg = first?.message ? `; ${MESSAGE_TEXT[first.message] ?? first.message}` : first?.outcome === 'applied' ? '' : '; no SMS';
        setBanner(
          result,
          first?.outcome === 'applied' ? 'ok' : 'warning',
          `${type}: ${first?.outcome ?? 'sent'}${first?.reason ? ` (${first.reason})` : ''}${first?.disposition ? `, disposition ${first.disposition}` : ''}${msg}.`,
        );
      }
    } catch (err) {
      if (err instanceof ApiError && err.problems.length > 0) {
        const unplaced = err.problems.filter((p) => !markError(p.field, p.message));
        setBanner(
          result,
          'error',
          `${type} was refused by the intake: ${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}.`,
          h('ul', {}, ...err.problems.map((p) => h('li', {}, `${p.field}: ${p.message}`))),
        );
        const firstBad = err.problems.find((p) => !unplaced.includes(p));
        if (firstBad) input(firstBad.field as Field).focus();
      } else {
        setBanner(result, 'error', `${type} failed: ${describe(err)}`);
      }
    }
    options.onEvent();
  }

  form.addEventListener('submit', (e) => e.preventDefault());
  // The buttons come from the domain's list, so a new event type appears here without editing the page.
  for (const type of FLOW_EVENT_TYPES) {
    const button = h('button', { type: 'button', 'data-event': type, class: type === 'REMIND' ? 'remind' : undefined }, type);
    button.addEventListener('click', () => void whileBusy(button, () => send(type)));
    $('sim-events').append(button);
  }
  return { appointmentId: () => input('appointment_id').value.trim() };
}
