import type { FhirIntakeDeps } from '../http/fhir-intake';
import type { Hl7IntakeDeps } from '../http/hl7-intake';
import type { IntakeDeps } from '../http/intake';
import { sendMessagesForEvents } from '../use-cases/send-messages';
import type { FunctionsRuntime } from './functions';

/**
 * What the EHR intakes need from the Functions runtime, built in one place so the admin page's
 * simulations run with exactly the settings a real engine's request gets.
 */
export function intakeDeps(runtime: FunctionsRuntime): IntakeDeps {
  return {
    apiKey: runtime.config.EHR_API_KEY,
    defaultCountry: runtime.config.DEFAULT_PHONE_COUNTRY,
    maxFutureHours: runtime.config.EHR_EVENT_MAX_FUTURE_HOURS,
    maxAppointmentDays: runtime.config.EHR_APPOINTMENT_MAX_FUTURE_DAYS,
    // The intake defers filing its changes (use-cases/filing.ts): fewer requests while the EHR waits.
    record: { ...runtime.record, defer: true },
    sendMessages: (results, events) =>
      sendMessagesForEvents(
        { flows: runtime.flows, store: runtime.store, policy: runtime.policy, now: runtime.record.now, defer: true },
        results,
        events,
      ),
  };
}

export function hl7IntakeDeps(runtime: FunctionsRuntime): Hl7IntakeDeps {
  return { ...intakeDeps(runtime), defaultZone: runtime.config.EHR_DEFAULT_TIMEZONE, facilityZones: runtime.config.EHR_FACILITY_TIMEZONES };
}

export function fhirIntakeDeps(runtime: FunctionsRuntime): FhirIntakeDeps {
  return { ...intakeDeps(runtime), ...(runtime.fhir ? { fhir: runtime.fhir } : {}) };
}
