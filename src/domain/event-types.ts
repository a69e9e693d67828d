/**
 * The event types, declared once. Everything else derives from these tuples: the intake's and the
 * state's zod enums (event.ts, event-log.ts), the admin page's event buttons (assets/), the tests
 * that hold the Studio flow (studio/flow.json) and the README's contract table to them. No imports:
 * the browser bundle of the admin page includes this file.
 */
export const EHR_EVENT_TYPES = ['BOOKED', 'RESCHEDULED', 'MODIFIED', 'CONFIRMED', 'CANCELED', 'NOSHOWED'] as const;
/** What a patient's reply asks the EHR for (forwarded, recorded as a request). */
export const PATIENT_REQUEST_TYPES = ['CONFIRM', 'CANCEL', 'RESCHEDULE'] as const;
export const PATIENT_EVENT_TYPES = [...PATIENT_REQUEST_TYPES, 'OPTED-OUT', 'OPTED-IN'] as const;
export const SYSTEM_EVENT_TYPES = ['REMIND', 'EXPIRED'] as const;
export const EVENT_TYPES = [...EHR_EVENT_TYPES, ...PATIENT_EVENT_TYPES, ...SYSTEM_EVENT_TYPES] as const;
/** The events the Studio flow texts about: every EHR event, and the sweep's reminders. */
export const FLOW_EVENT_TYPES = [...EHR_EVENT_TYPES, 'REMIND'] as const;
/** Not an event: the flow's `event_type` for a text staff wrote in the clinic inbox (sent word for word by `split_staff`). */
export const STAFF_MESSAGE_TYPE = 'STAFF_MESSAGE';
