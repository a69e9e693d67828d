// GET /admin/appointments?q=&range=&from=&to=&disposition=&location=&provider=&attention=&sort=&limit=&cursor=&tz=:
// a page of appointments, searched, filtered and sorted on the server (src/admin/appointment-list.ts).
import { listAppointments, parseAppointmentQuery } from '../../src/admin/appointment-list';
import { adminFunction, audit, stringParam } from '../../src/admin/handler';
import { errorReply, jsonReply } from '../../src/http/reply';
import { functionsRuntime } from '../../src/runtime/functions';
import { behind, fileForReader } from '../../src/use-cases/file-changes';
import type { AppointmentPage } from '../../src/admin/api-types';

export const handler = adminFunction(
  'session',
  async (call) => {
    const { context, params, requestId } = call;
    const parsed = parseAppointmentQuery(params);
    if (!parsed.ok) {
      const first = parsed.problems[0];
      return errorReply('invalid-request', `${first?.field} ${first?.message}`, requestId, { problems: parsed.problems });
    }
    const runtime = functionsRuntime(context);
    const filing = await fileForReader({ store: runtime.store, policy: runtime.policy, now: runtime.record.now });
    const page = await listAppointments(
      {
        store: runtime.store,
        policy: runtime.policy,
        now: runtime.record.now,
        defaultCountry: runtime.config.DEFAULT_PHONE_COUNTRY,
        ...(runtime.config.EHR_DEFAULT_TIMEZONE ? { clinicZone: runtime.config.EHR_DEFAULT_TIMEZONE } : {}),
      },
      parsed.query,
    );
    // Ids and the filter's shape, not the search text (it can be a patient's name or phone).
    await audit(call, 'appointments.list', {
      cursor: stringParam(params, 'cursor'),
      sort: parsed.query.sort,
      searched: parsed.query.q ? 'yes' : undefined,
    });
    // Changes the intake left that this request could not file in its budget: the page says so.
    return jsonReply(200, (behind(filing) ? { ...page, filing_behind: true } : page) satisfies AppointmentPage, requestId);
  },
  { role: 'staff' },
);
