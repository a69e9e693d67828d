import type { MessageSender, StudioInbound } from '../twilio/contracts';

/* The local Studio engine's limits and options (engine.ts runs the flows). */

/** §4.3 / §7.8 limits. */
export const MAX_STEPS = 1000;
export const MAX_CONSECUTIVE_RUNS = 10;
export const EXECUTION_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000;
/** §4.1 error 81023: To + From over 300 bytes. */
export const MAX_ADDRESS_BYTES = 300;

export interface EngineClock {
  now(): number;
  onChange?(fn: () => void): () => void;
}

export interface StudioEngineOptions {
  accountSid: string;
  /** Signs make-http-request and run-function calls (X-Twilio-Signature). */
  authToken: string;
  messages: MessageSender;
  clock: EngineClock;
  fetch?: typeof fetch;
  /** Studio's 10 s HTTP/Function timeout; tests may shorten it. */
  httpTimeoutMs?: number;
}

export interface StartExecutionRequest {
  flowSid: string;
  to: string;
  from: string;
  /** The REST `Parameters` JSON object (§4.1). */
  parameters?: Record<string, unknown>;
}

export type InboundOutcome = Awaited<ReturnType<StudioInbound['handleInboundMessage']>>;
