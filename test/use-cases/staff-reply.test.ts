import { describe, expect, it } from 'vitest';
import { FlowStartError, type StaffTextRequest, type StaffTextSender } from '../../src/messaging/flow-starter';
import { MemoryAppointmentStore } from '../../src/storage/memory-appointment-store';
import { sendStaffReply, staffTextProblem } from '../../src/use-cases/staff-reply';

class RecordingSender implements StaffTextSender {
  readonly sent: StaffTextRequest[] = [];
  failWith?: FlowStartError;
  async sendStaffText(request: StaffTextRequest): Promise<{ executionSid: string }> {
    if (this.failWith) throw this.failWith;
    this.sent.push(request);
    return { executionSid: `FN${this.sent.length}` };
  }
}

async function setUp() {
  const store = new MemoryAppointmentStore();
  await store.putInboxItem({
    message_sid: 'SM1',
    phone: '+14155550100',
    appointment_id: 'APT-1',
    body: 'can we do thursday?',
    intent: 'unclear',
    at: '2026-11-25T08:00:00.000Z',
  });
  const [item] = await store.listInbox(1);
  const sender = new RecordingSender();
  const deps = { store, sender, now: () => new Date('2026-11-25T09:00:00.000Z') };
  return { store, sender, deps, id: item?.id ?? '' };
}

describe('sendStaffReply', () => {
  it('sends once per reply id, in English when the appointment is unknown, and files it under the appointment', async () => {
    const { store, sender, deps, id } = await setUp();
    const first = await sendStaffReply(deps, { inboxId: id, replyId: 'r-1', body: 'Yes, Thursday 3pm works.', by: 'u-7' });
    expect(first).toEqual({
      outcome: 'sent',
      appointment_id: 'APT-1',
      reply: { id: 'r-1', at: '2026-11-25T09:00:00.000Z', by: 'u-7', status: 'sent', execution_sid: 'FN1' },
    });
    expect(await sendStaffReply(deps, { inboxId: id, replyId: 'r-1', body: 'Yes, Thursday 3pm works.', by: 'u-7' })).toEqual(
      expect.objectContaining({ outcome: 'duplicate' }),
    );
    expect(sender.sent).toEqual([
      { to: '+14155550100', body: 'Yes, Thursday 3pm works.', id: 'r-1', appointmentId: 'APT-1', language: 'en' },
    ]);
    expect(await store.listStaffMessages('APT-1')).toEqual([
      expect.objectContaining({ id: 'r-1', by: 'u-7', status: 'sent', execution_sid: 'FN1' }),
    ]);
  });

  it('keeps a refused send as failed: the item stays open, the failure is in the history, and a new reply id can try again', async () => {
    const { store, sender, deps, id } = await setUp();
    sender.failWith = new FlowStartError('Studio refused the execution (status 503, code none)', true, 503);
    const failed = await sendStaffReply(deps, { inboxId: id, replyId: 'r-1', body: 'Call us back?', by: 'u-7' });
    expect(failed).toEqual(expect.objectContaining({ outcome: 'failed', retryable: true }));
    expect((await store.getInboxItem(id))?.done_at).toBeUndefined();
    expect(await store.listStaffMessages('APT-1')).toEqual([
      expect.objectContaining({ status: 'failed', error: expect.stringContaining('503') }),
    ]);
    sender.failWith = undefined;
    expect(await sendStaffReply(deps, { inboxId: id, replyId: 'r-2', body: 'Call us back?', by: 'u-7' })).toEqual(
      expect.objectContaining({ outcome: 'sent' }),
    );
    expect(sender.sent).toHaveLength(1);
  });

  it('refuses a patient who opted out, and text that is empty, invisible, malformed or longer than 3 segments', async () => {
    const { store, sender, deps, id } = await setUp();
    expect(staffTextProblem('   ')).toBe('must not be empty');
    expect(staffTextProblem('\u200b')).toBeDefined();
    expect(staffTextProblem('a\ud800b')).toBeDefined();
    expect(staffTextProblem('x'.repeat(459))).toBeUndefined();
    expect(staffTextProblem('x'.repeat(460))).toMatch(/4 SMS segments/);
    expect(staffTextProblem('ж'.repeat(201))).toBeUndefined();
    expect(staffTextProblem('ж'.repeat(202))).toMatch(/4 SMS segments/);
    await store.putOptOut({ phone: '+14155550100', opted_out: true, at: '2026-11-25T08:30:00.000Z' });
    expect(await sendStaffReply(deps, { inboxId: id, replyId: 'r-1', body: 'Hello', by: 'u-7' })).toEqual({ outcome: 'opted-out' });
    expect(sender.sent).toEqual([]);
  });
});
