import type { FunctionsConfig } from '../config/config';
import { DEFAULT_REMINDER_POLICY, type ReminderPolicy } from '../domain/reminder-plan';
import { simulationGate } from './simulation-gate';

export interface SettingLine {
  /** A stable key for the page and tests. */
  key: string;
  label: string;
  words: string;
  /** The variables it comes from, so an operator knows what to change. */
  variables: string[];
}

function hours(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m === 0 ? `${h} h` : `${h} h ${String(m).padStart(2, '0')} min`;
}

function clock(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** The EHR endpoint without its path, query or credentials: paths and keys can be secrets. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(not a URL)';
  }
}

type Config = Pick<
  FunctionsConfig,
  | 'IE_ENDPOINT'
  | 'EHR_EVENT_MAX_FUTURE_HOURS'
  | 'EHR_APPOINTMENT_MAX_FUTURE_DAYS'
  | 'TWILIO_API_BASE_URL'
  | 'SERVICE_MODE'
  | 'SIMULATION_ENABLED'
  | 'SIMULATION_ALLOWED_PHONES'
  | 'DEFAULT_PHONE_COUNTRY'
>;

/** The settings in force, as sentences a practice manager can read out (never a secret, the endpoint as its host only). */
export function settingsInWords(policy: ReminderPolicy, c: Config): SettingLine[] {
  const second = policy.secondLeadMinutes > 0 ? `, second ${hours(policy.secondLeadMinutes)} before` : '; no second reminder';
  const anyTime = policy.outreachStartMinutes === 0 && policy.outreachFinishMinutes >= 24 * 60;
  const gap = policy.minGapMinutes ?? 0;
  const cap = policy.maxRemindersPerLocalDay ?? DEFAULT_REMINDER_POLICY.maxRemindersPerLocalDay;
  const gate = simulationGate(c);
  return [
    {
      key: 'reminders',
      label: 'Reminders',
      words: `First reminder ${hours(policy.firstLeadMinutes)} before the appointment${second}.`,
      variables: ['REMINDER_FIRST_TIMING', 'REMINDER_SECOND_TIMING'],
    },
    {
      key: 'window',
      label: 'Outreach window',
      words: anyTime
        ? 'Reminders go out at any hour.'
        : `Reminders go out only between ${clock(policy.outreachStartMinutes)} and ${clock(policy.outreachFinishMinutes)} in the patient's time (the appointment's time zone).`,
      variables: ['REMINDER_OUTREACH_START', 'REMINDER_OUTREACH_FINISH'],
    },
    {
      key: 'gap',
      label: 'Gap before a reminder',
      words:
        gap > 0
          ? `A reminder waits until at least ${hours(gap)} after the last text about the same appointment; texts about changes are never held back.`
          : 'No gap: a reminder may follow another text straight away.',
      variables: ['REMINDER_MIN_GAP_HOURS'],
    },
    {
      key: 'cap',
      label: 'Daily cap',
      words: `At most ${cap} reminders to one patient on one day (their local day), across all their appointments.`,
      variables: [],
    },
    {
      key: 'languages',
      label: 'Languages',
      words: "Texts in English, or Spanish when the EHR gives the patient's language as Spanish (es).",
      variables: [],
    },
    {
      key: 'horizon',
      label: 'What the EHR may send',
      words: `Events dated at most ${c.EHR_EVENT_MAX_FUTURE_HOURS} h ahead of now, appointments at most ${c.EHR_APPOINTMENT_MAX_FUTURE_DAYS} days ahead.`,
      variables: ['EHR_EVENT_MAX_FUTURE_HOURS', 'EHR_APPOINTMENT_MAX_FUTURE_DAYS'],
    },
    {
      key: 'ehr',
      label: 'EHR endpoint',
      words: `Patients' confirm and cancel requests go to ${hostOf(c.IE_ENDPOINT)}.`,
      variables: ['IE_ENDPOINT'],
    },
    {
      key: 'simulation',
      label: 'Simulation',
      words: !gate.enabled
        ? 'Off: the Simulation panel is hidden and the simulation API refuses every request.'
        : gate.allowedPhones === null
          ? 'On (local run): simulated events text the virtual phones.'
          : `On: simulated events text only the ${gate.allowedPhones.length} number${gate.allowedPhones.length === 1 ? '' : 's'} in SIMULATION_ALLOWED_PHONES; pasted messages are not run.`,
      variables: ['SIMULATION_ENABLED', 'SIMULATION_ALLOWED_PHONES'],
    },
  ];
}
