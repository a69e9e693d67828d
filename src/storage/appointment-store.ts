import type { AppointmentState } from '../domain/appointment';
import type { AppointmentEvent } from '../domain/event';

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

/**
 * Persistence for appointments. Implementations must make `putState` atomic: it succeeds only
 * when the stored version still equals `expectedEtag` (or nothing is stored when it is null).
 */
export interface AppointmentStore {
  getState(appointmentId: string): Promise<Versioned<AppointmentState> | null>;
  putState(state: AppointmentState, expectedEtag: string | null): Promise<'ok' | 'conflict'>;
  /** Writes the record unless one already exists for the same event; says which happened. */
  appendHistory(record: HistoryRecord): Promise<'created' | 'exists'>;
  listHistory(appointmentId: string): Promise<HistoryRecord[]>;
  putDueEntry(entry: DueEntry): Promise<void>;
  deleteDueEntry(dueAt: string, appointmentId: string): Promise<void>;
  /** Entries whose bucket is at or before `untilIso`, oldest first. */
  listDueEntries(untilIso: string, limit?: number): AsyncIterable<DueEntry>;
}
