import type { TwilioClient } from '../twilio/client';

export type CodeCheck = 'approved' | 'wrong' | 'expired' | 'too-many-checks';

/** One-time codes texted to the administrator (Twilio Verify). */
export interface VerifyCodes {
  send(to: string): Promise<void>;
  check(to: string, code: string): Promise<CodeCheck>;
}

/** A Twilio answer other than the expected ones; carries only status and code (messages may quote phones). */
export class VerifyError extends Error {
  constructor(
    readonly status: number | undefined,
    readonly code: number | undefined,
  ) {
    super(`Twilio Verify answered ${status ?? 'without a status'} (code ${code ?? 'none'})`);
  }
}

interface RestErrorShape {
  status?: number;
  code?: number;
}

export class TwilioVerifyCodes implements VerifyCodes {
  constructor(
    private readonly client: TwilioClient,
    private readonly serviceSid: string,
  ) {}

  async send(to: string): Promise<void> {
    try {
      await this.client.verify.v2.services(this.serviceSid).verifications.create({ to, channel: 'sms' });
    } catch (err) {
      const e = err as RestErrorShape;
      throw new VerifyError(e.status, e.code);
    }
  }

  async check(to: string, code: string): Promise<CodeCheck> {
    try {
      const result = await this.client.verify.v2.services(this.serviceSid).verificationChecks.create({ to, code });
      return result.status === 'approved' ? 'approved' : 'wrong';
    } catch (err) {
      const e = err as RestErrorShape;
      // 20404: no pending verification (expired, already used, or never sent); 60202: five wrong checks.
      if (e.status === 404 || e.code === 20404) return 'expired';
      if (e.status === 429 || e.code === 60202) return 'too-many-checks';
      throw new VerifyError(e.status, e.code);
    }
  }
}
