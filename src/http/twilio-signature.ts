import { validateRequest } from 'twilio';

/**
 * Checks X-Twilio-Signature on a request to a Function. Deployed, Twilio checks `.protected`
 * Functions itself; the local runtime does not, so our Functions check in both places. The URL
 * Twilio signed is the Function's public URL: https://<DOMAIN_NAME><PATH> (http for localhost).
 */
export function isSignedByTwilio(options: {
  authToken: string;
  signature: string | undefined;
  domainName: string | undefined;
  path: string | undefined;
  params: Record<string, unknown>;
}): boolean {
  const { signature, domainName, path } = options;
  if (!signature || !domainName || !path) return false;
  const params = Object.fromEntries(Object.entries(options.params).filter(([k, v]) => k !== 'request' && typeof v === 'string')) as Record<
    string,
    string
  >;
  const local = /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(domainName);
  const urls = local ? [`http://${domainName}${path}`, `https://${domainName}${path}`] : [`https://${domainName}${path}`];
  return urls.some((url) => validateRequest(options.authToken, signature, url, params));
}

/** `isSignedByTwilio` for a Function called by the Studio flow: the signature header, URL and parameters as the runtime hands them over. */
export function isStudioCallSigned(
  authToken: string,
  context: { DOMAIN_NAME?: string; PATH?: string },
  event: Record<string, unknown>,
): boolean {
  const headers = (event.request as { headers?: Record<string, string> } | undefined)?.headers ?? {};
  return isSignedByTwilio({
    authToken,
    signature: headers['x-twilio-signature'],
    domainName: context.DOMAIN_NAME,
    path: context.PATH,
    params: event,
  });
}
