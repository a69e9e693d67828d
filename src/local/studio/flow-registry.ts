import { TwilioApiError } from '../twilio/contracts';
import { newSid } from '../twilio/rest';
import type { FlowDefinition } from './flow-schema';
import type { FlowRevisionView, FlowStatus, FlowView } from './types';
import { parseFlowDefinition } from './validate';

/**
 * Flows and their revisions (docs/studio-engine.md §4.6). Every save is a whole-definition replace
 * that bumps `revision`; executions run the latest *published* revision (§4.1).
 */

export interface CreateFlowInput {
  friendlyName: string;
  status: FlowStatus;
  definition: unknown;
  commitMessage?: string | null;
}

export interface UpdateFlowInput {
  status: FlowStatus;
  friendlyName?: string;
  /** Omitted: the previous revision's definition is saved again. */
  definition?: unknown;
  commitMessage?: string | null;
}

interface StoredRevision extends FlowRevisionView {
  /** Present when the definition is valid. */
  parsed: FlowDefinition | undefined;
}

interface StoredFlow {
  sid: string;
  dateCreated: Date;
  revisions: StoredRevision[];
}

export function invalidDefinition(errors: { property_path: string; message: string }[]): TwilioApiError {
  return new TwilioApiError(400, 20001, 'Invalid Flow Definition', { errors });
}

export function flowNotFound(sid: string): TwilioApiError {
  return new TwilioApiError(404, 20404, `The requested resource /Flows/${sid} was not found`);
}

function view(flow: StoredFlow, r: StoredRevision): FlowView {
  const { parsed: _parsed, ...rest } = r;
  return { ...rest, dateCreated: flow.dateCreated };
}

export class FlowRegistry {
  private readonly flows = new Map<string, StoredFlow>();

  constructor(
    private readonly accountSid: string,
    private readonly now: () => number,
  ) {}

  private revisionOf(flow: StoredFlow | undefined, input: CreateFlowInput, revision: number): StoredRevision {
    const checked = parseFlowDefinition(input.definition);
    // A draft may be saved invalid (that is what `valid`/`errors` report); publishing may not.
    if (!checked.ok && input.status === 'published') throw invalidDefinition(checked.errors);
    const at = new Date(this.now());
    return {
      sid: flow?.sid ?? newSid('FW'),
      accountSid: this.accountSid,
      revision,
      friendlyName: input.friendlyName,
      status: input.status,
      definition: input.definition,
      commitMessage: input.commitMessage ?? null,
      valid: checked.ok,
      errors: checked.ok ? [] : checked.errors,
      warnings: checked.warnings,
      dateCreated: at,
      dateUpdated: at,
      parsed: checked.ok ? checked.definition : undefined,
    };
  }

  private stored(sid: string): StoredFlow {
    const flow = this.flows.get(sid);
    if (!flow) throw flowNotFound(sid);
    return flow;
  }

  private latest(flow: StoredFlow): StoredRevision {
    const r = flow.revisions[flow.revisions.length - 1];
    if (!r) throw new Error(`flow ${flow.sid} has no revision`);
    return r;
  }

  create(input: CreateFlowInput): FlowView {
    const r = this.revisionOf(undefined, input, 1);
    const flow: StoredFlow = { sid: r.sid, dateCreated: r.dateCreated, revisions: [r] };
    this.flows.set(flow.sid, flow);
    return view(flow, r);
  }

  update(sid: string, input: UpdateFlowInput): FlowView {
    const flow = this.stored(sid);
    const prev = this.latest(flow);
    const r = this.revisionOf(
      flow,
      {
        status: input.status,
        friendlyName: input.friendlyName ?? prev.friendlyName,
        definition: input.definition === undefined ? prev.definition : input.definition,
        commitMessage: input.commitMessage ?? null,
      },
      prev.revision + 1,
    );
    flow.revisions.push(r);
    return view(flow, r);
  }

  get(sid: string): FlowView {
    const flow = this.stored(sid);
    return view(flow, this.latest(flow));
  }

  has(sid: string): boolean {
    return this.flows.has(sid);
  }

  /** Newest flow first. */
  list(): FlowView[] {
    return [...this.flows.values()].reverse().map((f) => view(f, this.latest(f)));
  }

  delete(sid: string): void {
    this.stored(sid);
    this.flows.delete(sid);
  }

  /** Newest revision first. */
  revisions(sid: string): FlowRevisionView[] {
    const flow = this.stored(sid);
    return [...flow.revisions].reverse().map((r) => view(flow, r));
  }

  /** `n`, `LatestPublished` or `LatestRevision` (§4.6). */
  revision(sid: string, which: string): FlowRevisionView {
    const flow = this.stored(sid);
    const r =
      which === 'LatestRevision'
        ? this.latest(flow)
        : which === 'LatestPublished'
          ? this.published(flow)
          : flow.revisions.find((x) => String(x.revision) === which);
    if (!r) throw new TwilioApiError(404, 20404, `The requested resource /Flows/${sid}/Revisions/${which} was not found`);
    return view(flow, r);
  }

  private published(flow: StoredFlow): StoredRevision | undefined {
    return [...flow.revisions].reverse().find((r) => r.status === 'published' && r.parsed);
  }

  /** What a new execution runs: the latest published revision (§4.1). */
  runnable(sid: string): { revision: number; definition: FlowDefinition } {
    const flow = this.stored(sid);
    const r = this.published(flow);
    if (!r?.parsed) {
      throw new TwilioApiError(400, 20001, `Flow ${sid} has no published revision; publish it before starting executions`);
    }
    return { revision: r.revision, definition: r.parsed };
  }
}
