import type { Fact } from '../domain/filing';
import { figureDay, type Figure } from '../domain/figures';
import { describeError, log } from '../log';
import type { DailyFigures } from '../storage/appointment-store';

/**
 * Counts one fact on the dashboard, on its day where the appointment is. Called on the path that
 * records the fact, after it is recorded, and again on every redelivery of it: the store counts
 * each fact id once, so a retry after a crash between recording and counting still counts it.
 * A failure to count never fails what was recorded; it is logged (ids only) and the figure is low by one.
 */
export async function countFigure(
  figures: DailyFigures,
  fact: { figure: Figure | readonly Figure[]; id: string; at: string; zone?: string | undefined; appointmentId?: string | undefined },
): Promise<void> {
  try {
    await figures.countFact(fact.figure, fact.id, figureDay(fact.at, fact.zone));
  } catch (err) {
    log('warn', 'figure not counted', {
      code: typeof fact.figure === 'string' ? fact.figure : fact.figure.join('+'),
      event_id: fact.id,
      ...(fact.appointmentId ? { appointment_id: fact.appointmentId } : {}),
      error: describeError(err),
    });
  }
}

/**
 * Counts facts already dated (src/domain/filing.ts) in one store call: each fact once, one
 * compare-and-set per day. Like `countFigure`, a failure never fails what was recorded: it is
 * logged (ids only) and those figures are low.
 */
export async function countFacts(figures: DailyFigures, facts: readonly Fact[], appointmentId?: string): Promise<void> {
  if (facts.length === 0) return;
  try {
    await figures.countFacts(facts.map((f) => ({ figures: f.figures, id: f.id, day: f.day })));
  } catch (err) {
    log('warn', 'figures not counted', {
      count: facts.length,
      ...(appointmentId ? { appointment_id: appointmentId } : {}),
      error: describeError(err),
    });
  }
}
