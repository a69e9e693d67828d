import type { AppointmentState } from '../domain/appointment';
import type { AppointmentEvent } from '../domain/event';
import type { OutboxKind } from './keys';

/** A state read together with the version token needed to replace it atomically. */
export interface Versioned<T> {
  value: T;
  etag: string;
}

export interface HistoryRecord {
  event: AppointmentEvent;
  received_at: string;
  /** What applying the event did, filled in when the history record is written. */
  request_id?: string;
}

export interface DueEntry {
  appointment_id: string;
  due_at: string;
  schedule_version: number;
}

export interface OptOutRecord {
  phone: string;
  opted_out: boolean;
  at: string;
  /** The inbound message that changed it. */
  message_sid?: string;
}

export interface OutboxEntry<T = unknown> {
  kind: OutboxKind;
  id: string;
  created_at: string;
  attempts: number;
  last_error?: string;
  next_attempt_at: string;
  payload: T;
}

/** A sweep's claim on one reminder: only the sweep that created it may send the reminder. */
export interface ReminderClaim {
  appointment_id: string;
  schedule_version: number;
  n: number;
  event_id: string;
  status: 'claimed' | 'sent';
  claimed_at: string;
  /** A claim still 'claimed' after this is an unfinished one (its sweep crashed) and may be taken over. */
  lease_until: string;
  sweep_id: string;
  execution_sid?: string;
}

/** An entry of the due index as listed: the appointment and its hour bucket (`YYYY-MM-DDTHH`). */
export interface DueRef {
  appointment_id: string;
  bucket: string;
}

/**
 * Persistence for appointments. Implementations must make `putState` atomic: it succeeds only
 * when the stored version still equals `expectedEtag` (or nothing is stored when it is null).
 */
export interface AppointmentStore {
  getState(appointmentId: string): Promise<Versioned<AppointmentState> | null>;
  putState(state: AppointmentState, expectedEtag: string | null): Promise<'ok' | 'conflict'>;
  /** `putState` that answers the new version's ETag, or null when the expected version was not there. */
  writeState(state: AppointmentState, expectedEtag: string | null): Promise<string | null>;
  /** Writes the record unless one already exists for the same event; says which happened. */
  appendHistory(record: HistoryRecord): Promise<'created' | 'exists'>;
  listHistory(appointmentId: string): Promise<HistoryRecord[]>;
  putDueEntry(entry: DueEntry): Promise<void>;
  deleteDueEntry(dueAt: string, appointmentId: string): Promise<void>;
  /**
   * Appointments indexed in hour buckets at or before `untilIso`, oldest first. Read from the key
   * names alone (no object reads): the sweep decides from the state what is actually due.
   */
  listDueEntries(untilIso: string, limit?: number): AsyncIterable<DueRef>;
  /** Remembers that `appointmentId` belongs to `phone` (entries are checked against the state when read). */
  putPhoneIndex(phone: string, appointmentId: string): Promise<void>;
  listAppointmentIdsForPhone(phone: string): Promise<string[]>;
  getOptOut(phone: string): Promise<OptOutRecord | null>;
  putOptOut(record: OptOutRecord): Promise<void>;
  putOutbox<T>(entry: OutboxEntry<T>): Promise<void>;
  deleteOutbox(kind: OutboxKind, id: string): Promise<void>;
  listOutbox<T>(kind: OutboxKind, limit?: number): Promise<OutboxEntry<T>[]>;
  /** Writes a receipt unless one exists; says which. */
  putReceipt(appointmentId: string, eventId: string, receipt: unknown): Promise<'created' | 'exists'>;
  getReceipt(appointmentId: string, eventId: string): Promise<unknown>;
  /** Creates the claim unless one exists (conditional write); returns its ETag when created. */
  createClaim(claim: ReminderClaim): Promise<{ created: true; etag: string } | { created: false }>;
  getClaim(appointmentId: string, scheduleVersion: number, n: number): Promise<Versioned<ReminderClaim> | null>;
  /** Replaces the claim only if it is still the version read. */
  replaceClaim(claim: ReminderClaim, etag: string): Promise<'ok' | 'conflict'>;
  deleteClaim(appointmentId: string, scheduleVersion: number, n: number): Promise<void>;
  /**
   * When the inbound message was first seen: records `at` unless a sighting exists (conditional
   * create), and answers the recorded time either way.
   */
  firstSeen(messageSid: string, at: string): Promise<string>;
  putSweepStatus(status: unknown): Promise<void>;
  getSweepStatus(): Promise<unknown>;
  /**
   * A page of appointments (current states) in storage order; pass the returned cursor for the
   * next page. Reads only the state of each appointment, never its history.
   */
  listAppointments(limit: number, cursor?: string): Promise<AppointmentPage>;
}

export interface AppointmentPage {
  appointments: AppointmentState[];
  /** Absent on the last page. */
  cursor?: string;
}
