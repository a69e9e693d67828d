import type { AppointmentState } from '../domain/appointment';
import type { Fact } from '../domain/filing';
import { describeError, log } from '../log';
import type { AppointmentRecords, ChangeRef, Versioned } from '../storage/appointment-store';
import { countFacts } from './count-figures';
import { filedFor, planFiling, type FilingDeps, type FilingStore } from './filing';

/*
 * The filer: brings the derived indexes up to the states the intake wrote without filing them
 * (src/use-cases/filing.ts). It works from the change markers the intake wrote before each such
 * state, reads the state (never the marker's view of it: the state is the truth), writes what the
 * indexes lack, records that in the state (compare-and-set, so a writer in between wins and the
 * filer looks again), then drops what was replaced, counts new facts and retires the markers.
 *
 * Run by the sweep before it reads the due index, and by the readers that need the indexes
 * current (the admin list, search and dashboard). Idempotent: two filers at once, or a filer and
 * a writer, at worst write an entry twice.
 */

export interface FileChangesDeps extends FilingDeps {
  store: AppointmentRecords & FilingStore;
}

export interface FilingCounts {
  /** Appointments whose indexes were brought up to their state. */
  filed: number;
  /** Markers retired. */
  retired: number;
  /** Markers kept: a text still in flight, a state write not landed yet, or no time left. */
  kept: number;
  /** Appointments not looked at because the time was up (their markers are among `kept`). */
  left: number;
  failed: number;
  /** The listing stopped at `limit`: more markers may be waiting than this run looked at. */
  more: boolean;
}

/** Whether a run left changes for later (not counting texts in flight): a reader's page may lag behind by those. */
export function behind(counts: FilingCounts | undefined): boolean {
  return !!counts && (counts.more || counts.left > 0 || counts.failed > 0);
}

/** A marker whose state write has not landed after this long never will (the writer retries with a new marker, or died). */
export const STALE_MARKER_MS = 5 * 60_000;

const ATTEMPTS = 5;

/**
 * Files the changes waiting (at most `limit` markers), 8 appointments at a time, stopping at
 * `deadline` (ms since epoch). `phone` files only those of one patient phone.
 */
export async function fileChanges(
  deps: FileChangesDeps,
  /** `clock` (ms since epoch, the system clock by default) is the one `deadline` is in. */
  options: { limit?: number; deadline?: number; phone?: string; clock?: () => number } = {},
): Promise<FilingCounts> {
  const limit = options.limit ?? 1000;
  const clock = options.clock ?? Date.now;
  const refs = await deps.store.listChanges(limit, options.phone);
  const counts: FilingCounts = { filed: 0, retired: 0, kept: 0, left: 0, failed: 0, more: refs.length >= limit };
  if (refs.length === 0) return counts;
  const byAppointment = new Map<string, ChangeRef[]>();
  for (const r of refs) byAppointment.set(r.appointment_id, [...(byAppointment.get(r.appointment_id) ?? []), r]);
  const queue = [...byAppointment.entries()];
  const retire: ChangeRef[] = [];
  // The run's new facts are counted together at its end: one compare-and-set per day rather than one per fact.
  const facts: Fact[] = [];
  const filing: FileChangesDeps = { ...deps, countLater: (f) => facts.push(...f) };
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const [id, markers] = next;
      if (options.deadline !== undefined && clock() > options.deadline) {
        counts.kept += markers.length;
        counts.left += 1;
        continue;
      }
      try {
        const done = await fileOne(filing, id, markers);
        if (done.filed) counts.filed += 1;
        retire.push(...done.retire);
        counts.kept += markers.length - done.retire.length;
      } catch (err) {
        counts.failed += 1;
        counts.kept += markers.length;
        log('error', 'filing failed; the marker stays for the next run', { appointment_id: id, error: describeError(err) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, queue.length) }, worker));
  await countFacts(deps.store, facts);
  if (retire.length > 0) await deps.store.dropChanges(retire);
  counts.retired = retire.length;
  return counts;
}

async function fileOne(deps: FileChangesDeps, id: string, markers: ChangeRef[]): Promise<{ filed: boolean; retire: ChangeRef[] }> {
  let filed = false;
  for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
    const nowIso = deps.now().toISOString();
    const current = await deps.store.getState(id);
    const stale = (r: ChangeRef) => Date.parse(r.at) + STALE_MARKER_MS < Date.parse(nowIso);
    if (!current) return { filed, retire: markers.filter(stale) };
    const state = current.value;
    // A dispatcher holding a text is about to write the state again: leave it the state (the
    // marker stays, and the text's outcome is filed on a later run).
    const sending = state.outbox?.sending;
    if (sending?.lease_until && sending.lease_until > nowIso) return { filed, retire: [] };
    const written = await bringUp(deps, current);
    if (written === 'conflict') continue;
    filed ||= written === 'filed';
    return { filed, retire: retirable(markers, state, stale) };
  }
  return { filed, retire: [] };
}

/** Files the state; `conflict` when another write came first (read it again). */
async function bringUp(deps: FileChangesDeps, current: Versioned<AppointmentState>): Promise<'filed' | 'current' | 'conflict'> {
  const state = current.value;
  const filed = filedFor(state, deps.policy, deps.now().toISOString());
  if (filed && filed.revision === state.revision) return 'current';
  const plan = planFiling(deps.store, filed, state, deps);
  await plan.before();
  if ((await deps.store.writeState(plan.state, current.etag)) === null) return 'conflict';
  await plan.after();
  return 'filed';
}

/**
 * The markers the filed state covers (its revision or older); a newer one is for a write still in
 * flight, or one that never landed (retired once stale).
 */
function retirable(markers: ChangeRef[], state: AppointmentState, stale: (r: ChangeRef) => boolean): ChangeRef[] {
  return markers.filter((r) => r.revision <= state.revision || stale(r));
}

/** Markers a reader files at most before it reads, and for how long: a backlog beyond waits for the sweep. */
const READER_LIMIT = 500;
const READER_BUDGET_MS = 3000;

/**
 * Files what is waiting before a reader that needs the indexes current (the admin list, search,
 * dashboard), so a change the EHR just sent shows at once. Bounded; a failure only means the page
 * may lag behind by what was not filed, so it is logged, not thrown.
 */
export async function fileForReader(deps: FileChangesDeps): Promise<FilingCounts | undefined> {
  try {
    return await fileChanges(deps, { limit: READER_LIMIT, deadline: Date.now() + READER_BUDGET_MS });
  } catch (err) {
    log('warn', 'filing before a read failed; the page may lag', { error: describeError(err) });
    return undefined;
  }
}
