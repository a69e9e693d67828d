/* eslint-disable @typescript-eslint/no-explicit-any -- tests read answers loosely and assert on them */

/**
 * What the Twilio Functions runtime gives a Function as the global `Twilio.Response`, recording what
 * the Function set, for tests that call a Function's handler in-process.
 */
export class RecordedResponse {
  statusCode = 200;
  body: any;
  headers: Record<string, string> = {};
  setStatusCode(code: number) {
    this.statusCode = code;
  }
  setBody(body: unknown) {
    this.body = body;
  }
  appendHeader(k: string, v: string) {
    this.headers[k] = v;
  }
}

/** Installs `Twilio.Response` as the runtime would; the returned function removes it again. */
export function installTwilioResponse(): () => void {
  (globalThis as any).Twilio = { Response: RecordedResponse };
  return () => {
    delete (globalThis as any).Twilio;
  };
}
