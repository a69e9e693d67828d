import {
  BUNDLE_TYPES_READ,
  BundleResource,
  type Reference,
  schemaIssues,
  StatusParameters,
  SubscriptionStatusResource,
  type Issue,
} from './resources';

/** A resource as found: its JSON and the FHIRPath it sits at (for error expressions). */
export interface Located {
  resource: Record<string, unknown>;
  path: string;
  /** Fetched from the EHR's FHIR server rather than found in the request. */
  fetched?: boolean;
}

/** Resources by every name a reference may use: the entry's fullUrl and `Type/id`. */
export class ResourceIndex {
  private readonly byKey = new Map<string, Located>();

  add(located: Located, fullUrl?: string): void {
    const { resourceType, id } = located.resource;
    if (fullUrl) this.byKey.set(fullUrl, located);
    if (typeof resourceType === 'string' && typeof id === 'string') {
      const key = `${resourceType}/${id}`;
      if (!this.byKey.has(key)) this.byKey.set(key, located);
    }
  }

  /**
   * The resource a reference names (R4 §2.36.0.4 "resolving references in Bundles"): an exact
   * fullUrl match, else the relative `Type/id` (also the tail of an absolute URL).
   */
  get(reference: string): Located | undefined {
    const exact = this.byKey.get(reference);
    if (exact) return exact;
    const tail = relativeReference(reference);
    return tail ? this.byKey.get(tail) : undefined;
  }
}

const RELATIVE = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

/** `Patient/123` from `Patient/123`, `https://ehr/fhir/Patient/123` or `…/Patient/123/_history/2`. */
export function relativeReference(reference: string): string | undefined {
  const m = RELATIVE.exec(reference);
  return m ? `${m[1]}/${m[2]}` : undefined;
}

/** The resource type a reference names, from its text or its `type`. */
export function referenceType(ref: Reference): string | undefined {
  if (ref.reference && !ref.reference.startsWith('#')) {
    const rel = relativeReference(ref.reference);
    if (rel) return rel.split('/')[0];
  }
  return ref.type;
}

/** One Appointment to map, wherever it came from. */
export interface AppointmentItem {
  located: Located;
  /** The identifier a notification named the appointment by (athena), which then is its id. */
  focusIdentifier?: { system?: string; value?: string };
  /** When the change happened, if the envelope says: the notification event, else the Bundle. */
  eventTime?: { value: string; path: string };
}

/** An Appointment a notification names but does not carry: it must be fetched. */
export interface IdOnlyFocus {
  reference?: string;
  identifier?: { system?: string; value?: string };
  path: string;
  eventTime?: { value: string; path: string };
}

export type BodyRead =
  | { kind: 'appointments'; items: AppointmentItem[]; idOnly: IdOnlyFocus[]; index: ResourceIndex }
  /** A subscription handshake or heartbeat: answer 200 and do nothing else. */
  | { kind: 'no-op'; reason: string }
  | { kind: 'invalid'; status: 400 | 422; issues: Issue[] };

const SUPPORTED = 'an Appointment, or a Bundle (transaction, batch, collection, searchset, or a subscription notification)';

function invalid(status: 400 | 422, code: Issue['code'], expression: string, diagnostics: string): BodyRead {
  return { kind: 'invalid', status, issues: [{ severity: 'error', code, expression: [expression], diagnostics }] };
}

/**
 * What a POSTed FHIR body asks of us: the Appointments it carries (with every resource inside it
 * indexed for references) and those a notification only names. Pure; nothing is fetched here.
 */
export function readFhirBody(body: unknown): BodyRead {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return invalid(400, 'structure', 'resourceType', `the body must be a FHIR resource (JSON object): ${SUPPORTED}`);
  }
  const resourceType = (body as { resourceType?: unknown }).resourceType;
  const index = new ResourceIndex();
  if (resourceType === 'Appointment') {
    const located = { resource: body as Record<string, unknown>, path: 'Appointment' };
    index.add(located);
    return { kind: 'appointments', items: [{ located }], idOnly: [], index };
  }
  if (resourceType !== 'Bundle') {
    const what =
      typeof resourceType === 'string'
        ? `resourceType ${JSON.stringify(resourceType.slice(0, 40))} is not accepted`
        : 'resourceType is missing';
    return invalid(400, typeof resourceType === 'string' ? 'not-supported' : 'structure', 'resourceType', `${what}; send ${SUPPORTED}`);
  }
  const parsed = BundleResource.safeParse(body);
  if (!parsed.success) return { kind: 'invalid', status: 400, issues: schemaIssues(parsed.error, 'Bundle') };
  const bundle = parsed.data;
  if (!(BUNDLE_TYPES_READ as readonly string[]).includes(bundle.type)) {
    return invalid(
      400,
      'not-supported',
      'Bundle.type',
      `Bundle.type ${JSON.stringify(bundle.type.slice(0, 40))} is not accepted; use ${BUNDLE_TYPES_READ.join(', ')}`,
    );
  }
  const entries = bundle.entry ?? [];
  entries.forEach((e, i) => {
    if (e.resource) index.add({ resource: e.resource, path: `Bundle.entry[${i}].resource` }, e.fullUrl);
  });
  const bundleTime = bundle.timestamp ? { value: bundle.timestamp, path: 'Bundle.timestamp' } : undefined;

  const first = entries[0]?.resource?.resourceType;
  if (first === 'SubscriptionStatus' || first === 'Parameters') return readNotification(entries, index, bundleTime);

  const items: AppointmentItem[] = [];
  entries.forEach((e, i) => {
    if (e.resource?.resourceType !== 'Appointment') return;
    // In a searchset only the matches are the subject; `include`d entries are supporting resources.
    if (bundle.type === 'searchset' && e.search?.mode && e.search.mode !== 'match') return;
    items.push({
      located: { resource: e.resource, path: `Bundle.entry[${i}].resource` },
      ...(bundleTime ? { eventTime: bundleTime } : {}),
    });
  });
  if (items.length === 0) return invalid(422, 'required', 'Bundle.entry', 'the Bundle contains no Appointment');
  return { kind: 'appointments', items, idOnly: [], index };
}

/**
 * A topic-based notification (Subscriptions R5 Backport IG, R4): entry[0] is its status, as R4
 * `Parameters` or as the R4B/R5 `SubscriptionStatus` some servers send; the focus resources
 * follow it when the payload is full-resource, otherwise only their ids are given.
 */
function readNotification(
  entries: NonNullable<BundleResource['entry']>,
  index: ResourceIndex,
  bundleTime?: { value: string; path: string },
): BodyRead {
  const status = statusOf(entries[0]?.resource ?? {});
  if ('issues' in status) return { kind: 'invalid', status: 400, issues: status.issues };
  if (status.type === 'handshake' || status.type === 'heartbeat' || status.type === 'query-status') {
    return { kind: 'no-op', reason: `subscription ${status.type}` };
  }
  if (status.type !== 'event-notification' && status.type !== 'query-event') {
    return invalid(
      400,
      'code-invalid',
      'Bundle.entry[0].resource.type',
      `notification type ${JSON.stringify(status.type.slice(0, 40))} is not a backport notification type`,
    );
  }
  const items: AppointmentItem[] = [];
  const idOnly: IdOnlyFocus[] = [];
  status.events.forEach((event, i) => {
    const path = `${status.eventPath}[${i}].focus`;
    const eventTime = event.timestamp ? { value: event.timestamp, path: `${status.eventPath}[${i}].timestamp` } : bundleTime;
    const focus = event.focus;
    if (!focus) return;
    const found = focus.reference ? index.get(focus.reference) : undefined;
    if (found && found.resource.resourceType === 'Appointment') {
      items.push({ located: found, ...(eventTime ? { eventTime } : {}) });
      return;
    }
    const type = referenceType(focus);
    if (type && type !== 'Appointment') return;
    idOnly.push({
      ...(focus.reference ? { reference: focus.reference } : {}),
      ...(focus.identifier ? { identifier: focus.identifier } : {}),
      path,
      ...(eventTime ? { eventTime } : {}),
    });
  });
  if (items.length === 0 && idOnly.length === 0) {
    return { kind: 'no-op', reason: 'the notification names no Appointment' };
  }
  return { kind: 'appointments', items, idOnly, index };
}

interface NotificationStatus {
  type: string;
  eventPath: string;
  events: { timestamp?: string; focus?: Reference }[];
}

function statusOf(resource: Record<string, unknown>): NotificationStatus | { issues: Issue[] } {
  const base = 'Bundle.entry[0].resource';
  if (resource.resourceType === 'SubscriptionStatus') {
    const s = SubscriptionStatusResource.safeParse(resource);
    if (!s.success) return { issues: schemaIssues(s.error, base) };
    return { type: s.data.type, eventPath: `${base}.notificationEvent`, events: s.data.notificationEvent ?? [] };
  }
  const p = StatusParameters.safeParse(resource);
  if (!p.success) return { issues: schemaIssues(p.error, base) };
  const params = p.data.parameter;
  const type = params.find((x) => x.name === 'type')?.valueCode;
  if (!type)
    return {
      issues: [
        {
          severity: 'error',
          code: 'required',
          expression: [`${base}.parameter`],
          diagnostics: 'the status Parameters have no "type" parameter',
        },
      ],
    };
  // Events are the `notification-event` parameters; their parts carry timestamp and focus.
  const events = params.filter((x) => x.name === 'notification-event');
  return {
    type,
    eventPath: `${base}.parameter.where(name='notification-event')`,
    events: events.map((x) => {
      const timestamp = x.part?.find((q) => q.name === 'timestamp')?.valueInstant;
      const focus = x.part?.find((q) => q.name === 'focus')?.valueReference;
      return { ...(timestamp ? { timestamp } : {}), ...(focus ? { focus } : {}) };
    }),
  };
}
