import { FunctionsConfig, type Env } from '../config/config';
import { normalisePhone, type CountryCode } from '../domain/phone';
import { errorReply, type HttpReply } from '../http/reply';

/** The `phone` parameter in E.164, read as the intake reads patient phones (DEFAULT_PHONE_COUNTRY). */
export function phoneParam(
  params: Record<string, unknown>,
  env: Env,
  requestId: string,
): { ok: true; value: string } | { ok: false; reply: HttpReply } {
  const raw = typeof params.phone === 'string' ? params.phone : '';
  const phone = normalisePhone(raw, phoneCountry(env));
  if (phone.ok) return phone;
  return {
    ok: false,
    reply: errorReply('invalid-request', `phone ${phone.reason}`, requestId, { problems: [{ field: 'phone', message: phone.reason }] }),
  };
}

/** DEFAULT_PHONE_COUNTRY as the intake reads it, for numbers typed without a country code. */
export function phoneCountry(env: Env): CountryCode {
  const country = FunctionsConfig.shape.DEFAULT_PHONE_COUNTRY.safeParse(env.DEFAULT_PHONE_COUNTRY || undefined);
  return country.success ? country.data : 'US';
}
