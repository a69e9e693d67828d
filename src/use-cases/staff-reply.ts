import { textLanguage } from '../domain/format';
import { countSegments } from '../domain/segments';
import { hasVisibleCharacter, textProblem } from '../domain/text';
import { log } from '../log';
import { FlowStartError, type StaffTextSender } from '../messaging/flow-starter';
import type { AppointmentRecords, ClinicInbox, InboxReplyRef, OptOutLedger, StaffMessages } from '../storage/appointment-store';

/** A staff text is at most this many SMS segments: longer belongs in a call. */
export const STAFF_TEXT_MAX_SEGMENTS = 3;

export interface StaffReplyDeps {
  store: ClinicInbox & StaffMessages & OptOutLedger & Pick<AppointmentRecords, 'getState'>;
  sender: StaffTextSender;
  now: () => Date;
}

export interface StaffReplyRequest {
  inboxId: string;
  /** The page's id for this send: a retried request with the same id never texts twice. */
  replyId: string;
  body: string;
  /** The staff user sending it. */
  by: string;
}

export type StaffReplyOutcome =
  | { outcome: 'sent'; reply: InboxReplyRef; appointment_id?: string }
  | { outcome: 'duplicate'; reply: InboxReplyRef }
  | { outcome: 'invalid'; field: 'body'; message: string }
  | { outcome: 'not-found' }
  | { outcome: 'opted-out' }
  | { outcome: 'failed'; reply: InboxReplyRef; retryable: boolean; error: string };

/** Why a staff text cannot go out as written, or undefined. */
export function staffTextProblem(body: string): string | undefined {
  if (body.trim() === '') return 'must not be empty';
  const problem = textProblem(body);
  if (problem) return problem;
  if (!hasVisibleCharacter(body)) return 'must contain a visible character';
  const segments = countSegments(body).segments;
  if (segments > STAFF_TEXT_MAX_SEGMENTS) return `is ${segments} SMS segments long; at most ${STAFF_TEXT_MAX_SEGMENTS} go in one text`;
  return undefined;
}

/**
 * Texts a patient back from the clinic inbox. The reply is first noted on the inbox item under the
 * page's id (compare-and-set), so a retried request finds it and does not send again; then the text
 * goes out through the Studio Flow, the item is marked done, and the text is filed in the
 * appointment's history with its execution. A patient who opted out gets nothing (only their START
 * allows texts again).
 */
export async function sendStaffReply(deps: StaffReplyDeps, request: StaffReplyRequest): Promise<StaffReplyOutcome> {
  const { store } = deps;
  const problem = staffTextProblem(request.body);
  if (problem) return { outcome: 'invalid', field: 'body', message: problem };
  const item = await store.getInboxItem(request.inboxId);
  if (!item) return { outcome: 'not-found' };
  if ((await store.getOptOut(item.phone))?.opted_out) return { outcome: 'opted-out' };

  const at = deps.now().toISOString();
  const reply: InboxReplyRef = { id: request.replyId, at, by: request.by, status: 'sending' };
  const added = await store.addInboxReply(item.id, reply);
  if (added === 'not-found') return { outcome: 'not-found' };
  if (added !== 'added') return { outcome: 'duplicate', reply: added };

  const state = item.appointment_id ? await store.getState(item.appointment_id) : null;
  const language = textLanguage(state?.value.facts.patient_language);
  let settled: InboxReplyRef;
  let error: FlowStartError | undefined;
  try {
    const { executionSid } = await deps.sender.sendStaffText({
      to: item.phone,
      body: request.body,
      id: request.replyId,
      appointmentId: item.appointment_id,
      language,
    });
    settled = { ...reply, status: 'sent', execution_sid: executionSid };
  } catch (err) {
    if (!(err instanceof FlowStartError)) throw err;
    error = err;
    settled = { ...reply, status: 'failed' };
  }
  await store.settleInboxReply(item.id, reply.id, settled, at);
  if (item.appointment_id) {
    await store.putStaffMessage({
      id: reply.id,
      appointment_id: item.appointment_id,
      inbox_item_id: item.id,
      at,
      by: request.by,
      body: request.body,
      status: settled.status === 'sent' ? 'sent' : 'failed',
      ...(settled.execution_sid ? { execution_sid: settled.execution_sid } : {}),
      ...(error ? { error: error.message } : {}),
    });
  }
  log('info', 'staff reply', { appointment_id: item.appointment_id, code: settled.status, execution_sid: settled.execution_sid });
  if (error) return { outcome: 'failed', reply: settled, retryable: error.retryable, error: error.message };
  return { outcome: 'sent', reply: settled, ...(item.appointment_id ? { appointment_id: item.appointment_id } : {}) };
}
