// GET /admin/history?appointment_id=: one appointment's state, reminder plan, recorded events and its timeline
// (EHR changes, texts with their words and delivery, replies, staff texts, EHR requests, reminders) in the clinic's zone.
import { adminFunction, audit, stringParam } from '../../src/admin/handler';
import { appointmentStory } from '../../src/admin/timeline';
import { errorReply, jsonReply } from '../../src/http/reply';
import { functionsRuntime } from '../../src/runtime/functions';
import type { HistoryView } from '../../src/admin/api-types';

export const handler = adminFunction(
  'session',
  async (call) => {
    const { context, admin, params, requestId } = call;
    const id = stringParam(params, 'appointment_id');
    if (!id)
      return errorReply('invalid-request', 'appointment_id is required', requestId, {
        problems: [{ field: 'appointment_id', message: 'is required' }],
      });
    const runtime = functionsRuntime(context);
    const found = await appointmentStory(
      {
        store: runtime.store,
        twilio: admin.twilio,
        policy: runtime.policy,
        now: runtime.record.now,
        ...(runtime.config.EHR_DEFAULT_TIMEZONE ? { clinicZone: runtime.config.EHR_DEFAULT_TIMEZONE } : {}),
      },
      id,
    );
    await audit(call, 'appointment.view', { appointment_id: id }, { outcome: found ? 'success' : 'failure' });
    return found
      ? jsonReply(200, found satisfies HistoryView, requestId)
      : errorReply('not-found', 'no appointment with this id', requestId);
  },
  { role: 'staff' },
);
