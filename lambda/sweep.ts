/**
 * Entry point of the reminder sweep Lambda, run by the EventBridge schedule in infra/stack.ts.
 *
 * Placeholder: the orchestration (a `runSweep` use case in src/use-cases/sweep.ts built on
 * src/domain/reminders.ts `decide`) is not written yet. Until it is, the handler fails loudly so
 * a deployed schedule shows errors instead of silently sending nothing.
 */
export interface ScheduledEvent {
  id?: string;
  time?: string;
  'detail-type'?: string;
}

export async function handler(event: ScheduledEvent): Promise<never> {
  throw new Error(`sweep not wired yet (scheduled event ${event.id ?? '?'} at ${event.time ?? '?'})`);
}
