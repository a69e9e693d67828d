/**
 * Structured logs. Callers pass ids and counts only: never names, phones, message bodies or
 * secrets (the fields below are the whole vocabulary, which keeps that honest).
 */
export interface LogFields {
  request_id?: string;
  appointment_id?: string;
  event_id?: string;
  event_type?: string;
  execution_sid?: string;
  message_sid?: string;
  status?: number;
  code?: string;
  count?: number;
  ms?: number;
  error?: string;
  [key: string]: string | number | boolean | undefined;
}

type Level = 'debug' | 'info' | 'warn' | 'error';

let sink: (line: string, level: Level) => void = (line, level) => {
  if (level === 'error' || level === 'warn') console.error(line);
  else console.log(line);
};
let minimum: Level = (process.env.LOG_LEVEL as Level | undefined) ?? 'info';
const order: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function setLogSink(fn: typeof sink, level: Level = minimum): void {
  sink = fn;
  minimum = level;
}

export function log(level: Level, msg: string, fields: LogFields = {}): void {
  if (order[level] < order[minimum]) return;
  sink(JSON.stringify({ t: new Date().toISOString(), level, msg, ...fields }), level);
}

/** An error's class and message for logs; stack traces stay out of responses. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
