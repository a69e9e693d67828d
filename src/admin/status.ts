import { FunctionsConfig, type Env } from '../config/config';
import type { AdminRuntimeConfig } from '../config/admin-config';
import type { S3AdminStore } from '../storage/s3-admin-store';
import type { TwilioClient } from '../twilio/client';
import { errorSummary } from './handler';
import type { ComponentStatus, StatusReport } from './api-types';
export type { ComponentState, ComponentStatus, StatusReport } from './api-types';

export interface StatusDeps {
  config: AdminRuntimeConfig;
  env: Env;
  twilio: TwilioClient;
  store: S3AdminStore;
  /** The clock the sweep writes its heartbeat with (the local demo clock when running locally). */
  now: () => Date;
}

/** The sweep runs every 15 minutes (infra/stack.ts); two missed runs in a row is an outage. */
export const SWEEP_STALE_AFTER_MS = 35 * 60_000;

interface RestErrorShape {
  status?: number;
  code?: number;
}

function twilioProblem(err: unknown): string {
  const e = err as RestErrorShape;
  return e.status === 404 ? 'not found in this Twilio account' : `Twilio answered ${errorSummary(err)}`;
}

function minutes(ms: number): string {
  const m = Math.round(ms / 60_000);
  return m < 1 ? 'less than a minute' : m < 120 ? `${m} min` : `${Math.round(m / 60)} h`;
}

/**
 * Whether what the deployment needs is in place: the Studio Flow, the Twilio number pointing at
 * it, the Verify service, the bucket, and a reminder sweep that has run recently. Each check runs
 * on its own, so one failure does not hide the others.
 */
export async function deploymentStatus(deps: StatusDeps): Promise<StatusReport> {
  const local = Boolean(deps.config.TWILIO_API_BASE_URL);
  const flowSid = FunctionsConfig.shape.TWILIO_FLOW_SID.safeParse(deps.env.TWILIO_FLOW_SID);
  const number = FunctionsConfig.shape.TWILIO_PHONE_NUMBER.safeParse(deps.env.TWILIO_PHONE_NUMBER);
  const region = deps.config.AWS_REGION;

  const flow = async (): Promise<ComponentStatus> => {
    const base = { id: 'studio-flow' as const, label: 'Studio Flow' };
    if (!flowSid.success) return { ...base, state: 'error', detail: 'TWILIO_FLOW_SID is not set or not valid (see the settings check)' };
    const link = local
      ? undefined
      : { href: `https://console.twilio.com/us1/develop/studio/flows/${flowSid.data}`, label: 'Open in the Studio canvas' };
    try {
      const f = await deps.twilio.studio.v2.flows(flowSid.data).fetch();
      const published = f.status === 'published';
      return {
        ...base,
        state: published ? 'ok' : 'warning',
        detail: `"${f.friendlyName}", revision ${f.revision}, ${published ? 'published' : 'a draft: publish it so executions use it'}${local ? ' (local Studio engine)' : ''}`,
        ...(link ? { link } : {}),
      };
    } catch (err) {
      return { ...base, state: 'error', detail: `${flowSid.data} ${twilioProblem(err)}`, ...(link ? { link } : {}) };
    }
  };

  const phone = async (): Promise<ComponentStatus> => {
    const base = { id: 'phone-number' as const, label: 'Twilio phone number' };
    if (!number.success) return { ...base, state: 'error', detail: 'TWILIO_PHONE_NUMBER is not set or not valid (see the settings check)' };
    try {
      const [found] = await deps.twilio.incomingPhoneNumbers.list({ phoneNumber: number.data, limit: 1 });
      if (!found) return { ...base, state: 'error', detail: `${number.data} is not a number of this Twilio account` };
      const link = local
        ? undefined
        : {
            href: `https://console.twilio.com/us1/develop/phone-numbers/manage/incoming/${found.sid}/configure`,
            label: 'Configure the number',
          };
      const toFlow = flowSid.success && found.smsUrl.includes(flowSid.data);
      return {
        ...base,
        state: toFlow ? 'ok' : 'warning',
        detail: toFlow
          ? `${number.data}: incoming messages go to the Studio Flow`
          : `${number.data}: incoming messages do not go to the Studio Flow, so patient replies are not handled`,
        ...(link ? { link } : {}),
      };
    } catch (err) {
      return { ...base, state: 'error', detail: twilioProblem(err) };
    }
  };

  const verify = async (): Promise<ComponentStatus> => {
    const base = { id: 'verify-service' as const, label: 'Verify service (admin login codes)' };
    try {
      const s = await deps.twilio.verify.v2.services(deps.config.VERIFY_SERVICE_SID).fetch();
      return { ...base, state: 'ok', detail: `"${s.friendlyName}", ${s.codeLength}-digit codes` };
    } catch (err) {
      return { ...base, state: 'error', detail: `${deps.config.VERIFY_SERVICE_SID} ${twilioProblem(err)}` };
    }
  };

  const bucket = async (): Promise<ComponentStatus> => {
    const base = { id: 'bucket' as const, label: 'S3 bucket' };
    const link = deps.config.S3_ENDPOINT
      ? { href: `${deps.config.S3_ENDPOINT.replace(/\/$/, '')}/${deps.config.S3_BUCKET}`, label: 'Embedded S3 listing' }
      : { href: `https://s3.console.aws.amazon.com/s3/buckets/${deps.config.S3_BUCKET}?region=${region}`, label: 'Open in the S3 console' };
    try {
      await deps.store.ping();
      return {
        ...base,
        state: 'ok',
        detail: `${deps.config.S3_BUCKET} is reachable${deps.config.S3_ENDPOINT ? ' (embedded S3 server)' : ` in ${region}`}`,
        link,
      };
    } catch (err) {
      return { ...base, state: 'error', detail: `${deps.config.S3_BUCKET} is not reachable: ${errorSummary(err)}`, link };
    }
  };

  const sweep = async (): Promise<ComponentStatus> => {
    const base = { id: 'reminder-sweep' as const, label: 'Reminder sweep' };
    const link = local
      ? undefined
      : { href: `https://${region}.console.aws.amazon.com/lambda/home?region=${region}#/functions`, label: 'Lambda functions' };
    const extra = link ? { link } : {};
    try {
      const status = await deps.store.getSweepStatus();
      const at = status ? Date.parse(status.at) : NaN;
      if (!status || Number.isNaN(at)) {
        return {
          ...base,
          state: 'warning',
          detail: local ? 'has not run yet' : 'has not run yet: check the Lambda and its schedule (`npm run deploy`)',
          ...extra,
        };
      }
      const age = deps.now().getTime() - at;
      const counts = Object.entries(status.counts ?? {})
        .filter(([, v]) => typeof v === 'number' && v > 0)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      const when = age < 0 ? 'just now' : `${minutes(age)} ago`;
      if (age > SWEEP_STALE_AFTER_MS)
        return { ...base, state: 'error', detail: `last ran ${when}: the schedule may be disabled or the Lambda failing`, ...extra };
      return { ...base, state: 'ok', detail: `last ran ${when}${counts ? ` (${counts})` : ''}`, ...extra };
    } catch (err) {
      return { ...base, state: 'error', detail: `its status could not be read: ${errorSummary(err)}`, ...extra };
    }
  };

  const components = await Promise.all([flow(), phone(), verify(), bucket(), sweep()]);
  return { ok: components.every((c) => c.state === 'ok'), local, checked_at: deps.now().toISOString(), components };
}
