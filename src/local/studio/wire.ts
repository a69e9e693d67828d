import { iso } from '../twilio/rest';
import type { ExecutionView, FlowRevisionView, FlowView, StepView, StudioContext } from './types';

/**
 * Studio v2 JSON exactly as twilio-node 6.2.0 deserializes it (lib/rest/studio/v2/flow.js,
 * flow/execution.js, executionContext.js, executionStep.js, executionStepContext.js,
 * flowRevision.js). URLs are absolute Twilio URLs; the SDK's redirecting client maps them back.
 */

export const STUDIO_BASE = 'https://studio.twilio.com/v2';

const flowUrl = (sid: string) => `${STUDIO_BASE}/Flows/${sid}`;
const executionUrl = (flowSid: string, sid: string) => `${flowUrl(flowSid)}/Executions/${sid}`;
const stepUrl = (s: StepView) => `${executionUrl(s.flowSid, s.executionSid)}/Steps/${s.sid}`;

/** §4.2: the URL a number's inbound webhook must point at. */
export function webhookUrl(accountSid: string, flowSid: string): string {
  return `https://webhooks.twilio.com/v1/Accounts/${accountSid}/Flows/${flowSid}`;
}

export function flowJson(f: FlowView, opts: { withDefinition: boolean }) {
  return {
    sid: f.sid,
    account_sid: f.accountSid,
    author_sid: null,
    friendly_name: f.friendlyName,
    // §4.6: the list omits definitions; fetch to get one.
    definition: opts.withDefinition ? f.definition : null,
    status: f.status,
    revision: f.revision,
    commit_message: f.commitMessage,
    valid: f.valid,
    errors: f.errors,
    warnings: f.warnings,
    date_created: iso(f.dateCreated),
    date_updated: iso(f.dateUpdated),
    webhook_url: webhookUrl(f.accountSid, f.sid),
    url: flowUrl(f.sid),
    links: {
      test_users: `${flowUrl(f.sid)}/TestUsers`,
      revisions: `${flowUrl(f.sid)}/Revisions`,
      executions: `${flowUrl(f.sid)}/Executions`,
    },
  };
}

export function revisionJson(r: FlowRevisionView, opts: { withDefinition: boolean }) {
  return {
    sid: r.sid,
    account_sid: r.accountSid,
    author_sid: null,
    friendly_name: r.friendlyName,
    definition: opts.withDefinition ? r.definition : null,
    status: r.status,
    revision: r.revision,
    commit_message: r.commitMessage,
    valid: r.valid,
    errors: r.errors,
    date_created: iso(r.dateCreated),
    date_updated: iso(r.dateUpdated),
    url: `${flowUrl(r.sid)}/Revisions/${r.revision}`,
  };
}

export function executionJson(x: ExecutionView) {
  const url = executionUrl(x.flowSid, x.sid);
  return {
    sid: x.sid,
    account_sid: x.accountSid,
    flow_sid: x.flowSid,
    contact_sid: null,
    contact_channel_address: x.contactChannelAddress,
    context: x.context,
    status: x.status,
    flow_version: x.flowVersion,
    initiated_by: x.initiatedBy,
    date_created: iso(x.dateCreated),
    date_updated: iso(x.dateUpdated),
    url,
    links: { steps: `${url}/Steps`, execution_context: `${url}/Context` },
  };
}

export function executionContextJson(accountSid: string, flowSid: string, executionSid: string, context: StudioContext) {
  return {
    account_sid: accountSid,
    context,
    flow_sid: flowSid,
    execution_sid: executionSid,
    url: `${executionUrl(flowSid, executionSid)}/Context`,
  };
}

export function stepJson(s: StepView) {
  return {
    sid: s.sid,
    account_sid: s.accountSid,
    flow_sid: s.flowSid,
    execution_sid: s.executionSid,
    parent_step_sid: null,
    name: s.name,
    context: s.context,
    transitioned_from: s.transitionedFrom,
    transitioned_to: s.transitionedTo,
    type: s.type,
    date_created: iso(s.dateCreated),
    date_updated: iso(s.dateCreated),
    url: stepUrl(s),
    links: { step_context: `${stepUrl(s)}/Context` },
  };
}

export function stepContextJson(s: StepView) {
  return {
    account_sid: s.accountSid,
    context: s.context,
    execution_sid: s.executionSid,
    flow_sid: s.flowSid,
    step_sid: s.sid,
    url: `${stepUrl(s)}/Context`,
  };
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

/**
 * One page of a list in Twilio's v2 envelope: `{ <key>: [...], meta: {...} }`. `query` keeps the
 * caller's filters in the page URLs so the SDK's next-page requests keep them.
 */
export function page<T>(items: T[], opts: { key: string; path: string; pageSize: number; page: number; query: Record<string, string> }) {
  const url = (p: number) => {
    const q = new URLSearchParams({ ...opts.query, PageSize: String(opts.pageSize), Page: String(p) });
    return `${STUDIO_BASE}${opts.path}?${q.toString()}`;
  };
  const start = opts.page * opts.pageSize;
  const slice = items.slice(start, start + opts.pageSize);
  return {
    [opts.key]: slice,
    meta: {
      page: opts.page,
      page_size: opts.pageSize,
      first_page_url: url(0),
      previous_page_url: opts.page > 0 ? url(opts.page - 1) : null,
      url: url(opts.page),
      next_page_url: start + opts.pageSize < items.length ? url(opts.page + 1) : null,
      key: opts.key,
    },
  };
}
