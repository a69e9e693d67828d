import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The deploy-time values a flow definition needs; everything else lives in studio/flow.json. */
export interface FlowPlaceholders {
  /** Base URL of the Functions service, e.g. https://patient-appointment-management-1234-dev.twil.io */
  functionsBaseUrl: string;
  /** The EHR integration endpoint (shown in the flow's variables; the Function posts to it). */
  ieEndpoint: string;
  customerName: string;
  /**
   * What our Functions put in `flow.data.origin` (see originMarker): an execution without it was
   * started by someone else, and its event is recorded by /studio/event before anything is texted.
   */
  originMarker: string;
  serviceSid?: string;
  environmentSid?: string;
  /** Function SIDs by Function path without the leading slash, e.g. `studio/reply`. */
  functionSids?: Record<string, string>;
}

export const FLOW_TEMPLATE_PATH = path.join(__dirname, 'flow.json');

export function loadFlowTemplate(): unknown {
  return JSON.parse(readFileSync(FLOW_TEMPLATE_PATH, 'utf8')) as unknown;
}

const PLACEHOLDER = /__([A-Z][A-Z0-9_]*)__/g;

/**
 * Fills the placeholders of the flow template. Values are substituted inside the parsed JSON's
 * strings, so a customer name with quotes or backslashes cannot break the definition.
 */
export function renderFlow(template: unknown, p: FlowPlaceholders): Record<string, unknown> {
  const zero = (prefix: string) => `${prefix}${'0'.repeat(32)}`;
  const values: Record<string, string> = {
    FUNCTIONS_BASE_URL: p.functionsBaseUrl.replace(/\/+$/, ''),
    IE_ENDPOINT: p.ieEndpoint,
    CUSTOMER_NAME: p.customerName,
    SERVICE_SID: p.serviceSid ?? zero('ZS'),
    ENVIRONMENT_SID: p.environmentSid ?? zero('ZE'),
    FUNCTION_SID_STUDIO_REPLY: p.functionSids?.['studio/reply'] ?? zero('ZH'),
    FUNCTION_SID_STUDIO_EVENT: p.functionSids?.['studio/event'] ?? zero('ZH'),
    ORIGIN_MARKER: p.originMarker,
  };
  const missing = new Set<string>();
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') {
      return node.replace(PLACEHOLDER, (whole, name: string) => {
        const v = values[name];
        if (v === undefined) missing.add(name);
        return v ?? whole;
      });
    }
    if (Array.isArray(node)) return node.map(walk);
    if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]));
    return node;
  };
  const rendered = walk(template) as Record<string, unknown>;
  if (missing.size > 0) throw new Error(`flow template has unknown placeholders: ${[...missing].join(', ')}`);
  return rendered;
}
