import { TwilioServerlessApiClient } from '@twilio-labs/serverless-api';

type RequestArgs = Parameters<TwilioServerlessApiClient['request']>;
type RequestOptions = NonNullable<RequestArgs[2]>;

const DEFAULT_PREFIX = 'https://serverless.twilio.com/v1';

/** `https://serverless-upload.twilio.com/v1/x` → `<base>/serverless-upload/v1/x`, as the SDK redirect does. */
export function redirectTwilioUrl(url: string, base: string): string {
  const u = new URL(url);
  const product = u.hostname.split('.')[0];
  return `${base.replace(/\/+$/, '')}/${product}${u.pathname.replace(/\/+$/, '')}${u.search}`;
}

export interface ServerlessClientSettings {
  /** Account SID or API key SID. */
  username: string;
  /** Auth token or API key secret. */
  password: string;
  /** The local stand-in (`<url>/__twilio`); unset in production. */
  apiBaseUrl?: string;
}

/**
 * The serverless-api client, optionally pointed at the local stand-in. The library builds its own
 * `got` client with a fixed `https://serverless.twilio.com/v1` prefix (its `edge`/`region` options
 * only change the host name, and uploads switch the prefix to `serverless-upload`). Every call goes
 * through its public `request(method, path, options)`, so that one method is wrapped: it rewrites
 * the prefix (or an absolute next-page URL) to the stand-in before got sees it, which keeps got's
 * own handling of credentials and bodies untouched.
 */
export function createServerlessClient(s: ServerlessClientSettings): TwilioServerlessApiClient {
  const client = new TwilioServerlessApiClient({ username: s.username, password: s.password });
  const base = s.apiBaseUrl;
  if (!base) return client;
  const original = client.request.bind(client) as (
    method: RequestArgs[0],
    path: string,
    options?: RequestOptions,
  ) => ReturnType<TwilioServerlessApiClient['request']>;
  const redirected = (method: RequestArgs[0], path: string, options: RequestOptions = {}) => {
    if (/^https?:\/\//.test(path)) return original(method, redirectTwilioUrl(path, base), { ...options, prefixUrl: '' });
    const prefix = typeof options.prefixUrl === 'string' && options.prefixUrl !== '' ? options.prefixUrl : DEFAULT_PREFIX;
    return original(method, path, { ...options, prefixUrl: redirectTwilioUrl(prefix, base) });
  };
  client.request = redirected as TwilioServerlessApiClient['request'];
  return client;
}
