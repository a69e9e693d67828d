import type { AppointmentState } from '../domain/appointment';
import type { AppointmentEvent } from '../domain/event';

/**
 * Starts the Studio Flow for an appointment event (the intake Function after persisting an EHR
 * event; the reminder sweep with event REMIND). Implementations check the opt-out ledger first and
 * handle Studio's one-active-execution-per-contact rule (409/20409) by waiting for the other
 * execution to end on its own and retrying with backoff; they never end another execution.
 */
export interface FlowStarter {
  start(request: FlowStartRequest): Promise<FlowStartResult>;
  /**
   * Whether an execution for this event was started since `since` (looked up in Studio). Used to
   * finish a reminder whose sweep crashed between starting the flow and recording it.
   */
  wasStarted(query: { to: string; eventId: string; since: string }): Promise<boolean>;
}

/**
 * Sends a text a member of staff wrote, through the same Studio Flow as every other text (its
 * STAFF_MESSAGE branch), so it leaves from the same sender and its delivery receipts come back the
 * same way. The caller has checked the opt-out ledger.
 */
export interface StaffTextSender {
  sendStaffText(request: StaffTextRequest): Promise<{ executionSid: string }>;
}

export interface StaffTextRequest {
  to: string;
  body: string;
  /** The page's id for this send, as `flow.data.event_id`. */
  id: string;
  appointmentId?: string;
  language: string;
}

export interface FlowStartRequest {
  state: AppointmentState;
  event: AppointmentEvent;
}

/** Keyed on `kind`, like the other outcome unions (applyEvent's, the HL7 and FHIR mappings'). */
export type FlowStartResult = { kind: 'started'; executionSid: string } | { kind: 'not-started'; reason: 'opted-out' | 'not-messaged' };

/**
 * A failure to start; `retryable` for 429 / 5xx / network errors, and for a contact whose other
 * execution did not end within the backoff (back off and try again).
 */
export class FlowStartError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(message);
  }
}
