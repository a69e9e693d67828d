import { call, describe, localFetch } from './api';
import { $, formatTime, h, Poller, replaceChildren } from './dom';
import type { EhrRequestsAnswer } from '../../../src/admin/api-types';

interface SandboxRequest {
  id: string;
  json: { event_type?: string; appointment_id?: string; patient_id?: string } | null;
  received_at: string;
  signature_valid: boolean;
  outcome: string;
  duplicate: boolean;
}

/**
 * What the EHR integration endpoint received: locally the sandbox EHR's own record of every POST
 * (signature checked); deployed, the requests and delivery receipts the Functions kept in S3.
 */
export function setUpEhrPanel(options: { local: boolean; phone: () => string | undefined }) {
  const list = $('ehr-requests');
  const state = $('ehr-state');

  async function loadLocal(): Promise<void> {
    const res = await localFetch('__local/ehr/requests', { cache: 'no-store' });
    if (!res.ok) throw new Error(`the sandbox EHR answered ${res.status}`);
    const { requests } = (await res.json()) as { requests: SandboxRequest[] };
    state.textContent =
      requests.length === 0
        ? 'Nothing received yet.'
        : `${requests.length} request${requests.length === 1 ? '' : 's'} received by the sandbox EHR.`;
    replaceChildren(
      list,
      ...requests
        .slice()
        .reverse()
        .slice(0, 30)
        .map((r) =>
          h(
            'li',
            { 'data-event-type': r.json?.event_type ?? '' },
            h('strong', {}, r.json?.event_type ?? 'unreadable body'),
            ` · appointment ${r.json?.appointment_id ?? '?'} · ${formatTime(r.received_at)}`,
            h('br'),
            h(
              'span',
              { class: 'muted' },
              `signature ${r.signature_valid ? 'valid' : 'INVALID'} · ${r.outcome}${r.duplicate ? ' · repeat' : ''}`,
            ),
          ),
        ),
    );
  }

  async function loadDeployed(): Promise<void> {
    const phone = options.phone();
    if (!phone) {
      state.textContent = 'Send an event to see what the EHR receives for this patient.';
      return;
    }
    const { requests } = await call<EhrRequestsAnswer>('admin/ehr-requests', { query: { phone } });
    state.textContent =
      requests.length === 0
        ? 'No requests for this patient yet.'
        : `${requests.length} request${requests.length === 1 ? '' : 's'} for this patient.`;
    replaceChildren(
      list,
      ...requests
        .slice()
        .reverse()
        .map((r) =>
          h(
            'li',
            { 'data-event-type': r.event_type },
            h('strong', {}, r.event_type),
            ` · appointment ${r.appointment_id} · ${formatTime(r.requested_at)}`,
            h('br'),
            h(
              'span',
              { class: 'muted' },
              r.delivery.status === 'delivered'
                ? `delivered ${formatTime(r.delivery.delivered_at)} after ${r.delivery.attempts} attempt(s)`
                : r.delivery.status === 'pending'
                  ? `pending, ${r.delivery.attempts} attempt(s)${r.delivery.last_error ? `: ${r.delivery.last_error}` : ''}`
                  : 'delivery unknown',
            ),
          ),
        ),
    );
  }

  const load = async () => {
    try {
      await (options.local ? loadLocal() : loadDeployed());
    } catch (err) {
      state.textContent = `The EHR requests could not be read: ${describe(err)}`;
    }
  };
  const poller = new Poller(load, options.local ? 2000 : 5000);
  return { load, start: () => poller.start(), stop: () => poller.stop() };
}
