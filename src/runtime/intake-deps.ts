import type { ReceiverConfig } from '../config/config';
import type { ReminderPolicy } from '../domain/reminder-plan';
import type { FhirIntakeDeps } from '../http/fhir-intake';
import type { Hl7IntakeDeps } from '../http/hl7-intake';
import type { IntakeDeps } from '../http/intake';
import type { FlowStarter } from '../messaging/flow-starter';
import type { AppointmentStore } from '../storage/appointment-store';
import { sendMessagesForEvents } from '../use-cases/send-messages';
import type { FunctionsRuntime } from './functions';

/** The intake settings both the Functions and the raw-body receiver read (the same schemas). */
export type IntakeSettings = Pick<
  ReceiverConfig,
  | 'EHR_API_KEY'
  | 'DEFAULT_PHONE_COUNTRY'
  | 'EHR_EVENT_MAX_FUTURE_HOURS'
  | 'EHR_APPOINTMENT_MAX_FUTURE_DAYS'
  | 'EHR_DEFAULT_TIMEZONE'
  | 'EHR_FACILITY_TIMEZONES'
>;

/** The ports an intake writes through. */
export interface IntakeParts {
  store: AppointmentStore;
  flows: FlowStarter;
  policy: ReminderPolicy;
  now: () => Date;
}

/**
 * What the EHR intakes need, built in one place for every runtime that takes EHR events (the
 * Functions, the admin page's simulations, the raw-body receiver), so each request gets exactly the
 * same settings whichever door it came in by.
 */
export function hl7IntakeDepsFrom(c: IntakeSettings, parts: IntakeParts): Hl7IntakeDeps {
  const { store, flows, policy, now } = parts;
  return {
    apiKey: c.EHR_API_KEY,
    defaultCountry: c.DEFAULT_PHONE_COUNTRY,
    maxFutureHours: c.EHR_EVENT_MAX_FUTURE_HOURS,
    maxAppointmentDays: c.EHR_APPOINTMENT_MAX_FUTURE_DAYS,
    // The intake defers filing its changes (use-cases/filing.ts): fewer requests while the EHR waits.
    record: { store, policy, now, defer: true },
    sendMessages: (results, events) => sendMessagesForEvents({ flows, store, policy, now, defer: true }, results, events),
    defaultZone: c.EHR_DEFAULT_TIMEZONE,
    facilityZones: c.EHR_FACILITY_TIMEZONES,
  };
}

function partsOf(runtime: FunctionsRuntime): IntakeParts {
  return { store: runtime.store, flows: runtime.flows, policy: runtime.policy, now: runtime.record.now };
}

export function hl7IntakeDeps(runtime: FunctionsRuntime): Hl7IntakeDeps {
  return hl7IntakeDepsFrom(runtime.config, partsOf(runtime));
}

/** The JSON intake takes the same dependencies; it does not read the HL7 zone settings. */
export const intakeDeps: (runtime: FunctionsRuntime) => IntakeDeps = hl7IntakeDeps;

export function fhirIntakeDeps(runtime: FunctionsRuntime): FhirIntakeDeps {
  return { ...hl7IntakeDeps(runtime), ...(runtime.fhir ? { fhir: runtime.fhir } : {}) };
}
