import twilio, { RequestClient } from 'twilio';
import type IRequestClient from 'twilio/lib/base/RequestClient';

export type TwilioClient = ReturnType<typeof twilio>;

/**
 * An SDK instance with the fields the SDK types as always set but Twilio's API sends as null
 * (a message's error_code before any failure, an environment's build_sid before its first build).
 */
export type WithNullable<T, K extends keyof T> = Omit<T, K> & { [P in K]: T[P] | null };

/**
 * Sends every request of the unmodified SDK to another base URL: `https://studio.twilio.com/v2/…`
 * becomes `<base>/studio/v2/…`. This is how the local stand-in is reached; production leaves the
 * base URL unset and talks to Twilio.
 */
export class RedirectingRequestClient extends RequestClient {
  constructor(private readonly base: string) {
    super({ keepAlive: true });
  }

  override request<TData>(opts: IRequestClient.RequestOptions<TData>) {
    const u = new URL(opts.uri);
    const product = u.hostname.split('.')[0];
    return super.request<TData>({ ...opts, uri: `${this.base.replace(/\/$/, '')}/${product}${u.pathname}${u.search}` });
  }
}

export interface TwilioClientSettings {
  accountSid: string;
  /** The account auth token, or an API key secret together with `apiKeySid`. */
  authToken?: string;
  apiKeySid?: string;
  apiKeySecret?: string;
  /** TWILIO_API_BASE_URL: set to the local stand-in; unset in production. */
  apiBaseUrl?: string;
}

export function createTwilioClient(s: TwilioClientSettings): TwilioClient {
  const httpClient = s.apiBaseUrl ? new RedirectingRequestClient(s.apiBaseUrl) : undefined;
  const options = { accountSid: s.accountSid, lazyLoading: true, ...(httpClient ? { httpClient } : {}) };
  if (s.apiKeySid && s.apiKeySecret) return twilio(s.apiKeySid, s.apiKeySecret, options);
  if (!s.authToken) throw new Error('Twilio credentials missing: an auth token or an API key and secret');
  return twilio(s.accountSid, s.authToken, options);
}
