import { z } from 'zod';
import { checkPeriod, confirmationRate, daysBetween, figureDay, FIGURES, totalCounts, type Figure } from '../domain/figures';
import { errorReply, jsonReply, type HttpReply } from '../http/reply';
import type { ClinicInbox, DailyFigures } from '../storage/appointment-store';
import type { FiguresAnswer } from './api-types';

/** What each figure counts, in the words the page shows beside it. */
export const FIGURE_DEFINITIONS: Record<Figure | 'confirmation_rate' | 'inbox_waiting', string> = {
  sent: 'Appointment texts and reminders handed to Twilio (replies to patients’ messages are not counted).',
  confirmation_asks: 'Texts that asked the patient to reply 1 to confirm: booked, rescheduled and reminders.',
  delivered: 'Texts Twilio reported delivered to the phone (those sent through the Messaging Service, which reports their status).',
  failed: 'Texts Twilio reported failed or undelivered, each once.',
  confirmed_by_text: 'Patients who asked to confirm by text (the request is sent to the EHR).',
  canceled_by_text: 'Patients who asked to cancel by text.',
  no_shows: 'No-shows the EHR reported.',
  opt_outs: 'Phones that opted out of texts (STOP or a revocation in their own words).',
  confirmation_rate: 'Confirmed by text ÷ texts asking for a confirmation, over the same period.',
  inbox_waiting: 'Patient replies in the clinic inbox that nobody has marked done yet (of the newest 100), now.',
};

const Period = z.object({ from: z.string().optional(), to: z.string().optional() });

/** How many inbox items the count is over (the inbox panel's page). */
const INBOX_WINDOW = 100;

/**
 * The figures of a period, `from`..`to` (days, both included; the last 7 days to today when
 * absent). Reads one counter record per day, never the appointments, and the inbox's newest page.
 */
export async function figuresReply(
  store: DailyFigures & ClinicInbox,
  params: Record<string, unknown>,
  now: Date,
  requestId: string,
): Promise<HttpReply> {
  const parsed = Period.safeParse(params);
  if (!parsed.success)
    return errorReply('invalid-request', 'from and to must be dates as YYYY-MM-DD', requestId, {
      problems: [{ field: 'from', message: 'must be a date as YYYY-MM-DD' }],
    });
  const to = parsed.data.to || figureDay(now.toISOString());
  const from = parsed.data.from || figureDay(new Date(Date.parse(`${to}T12:00:00Z`) - 6 * 86_400_000).toISOString());
  const problem = checkPeriod(from, to);
  if (problem) return errorReply('invalid-request', `${problem.field} ${problem.message}`, requestId, { problems: [problem] });
  const [days, inbox] = await Promise.all([store.readFigures(daysBetween(from, to)), store.listInbox(INBOX_WINDOW)]);
  const totals = totalCounts(days);
  return jsonReply(
    200,
    {
      from,
      to,
      figures: FIGURES,
      days,
      totals,
      confirmation_rate: confirmationRate(totals),
      inbox_waiting: inbox.filter((i) => !i.done_at).length,
      definitions: FIGURE_DEFINITIONS,
    } satisfies FiguresAnswer,
    requestId,
  );
}
