import { BusyError } from '../domain/errors';
import type { Figure } from '../domain/figures';
import { addCount, factFigures, FIGURE_CAS_ATTEMPTS, shardFor } from './figures-records';
import { dailyFiguresKey, FIGURE_SHARDS, figureFactKey } from './keys';

/** How a store creates, reads, replaces and removes one object, for counting facts the same way in every adapter. */
export interface FigureIo {
  /** Creates the object unless it exists (If-None-Match: *); false when it existed. */
  create(key: string, value: unknown): Promise<boolean>;
  read(key: string): Promise<{ value: unknown; etag: string } | null>;
  /** Replaces it if it still has `etag` (null: creates it if absent); false when another write came first. */
  replace(key: string, value: unknown, etag: string | null): Promise<boolean>;
  remove(key: string): Promise<void>;
}

export interface FactToCount {
  figures: Figure | readonly Figure[];
  id: string;
  day: string;
}

const MARKER_WIDTH = 8;

/**
 * Counts facts on their days, each once: a fact's marker is created first (a fact counted before
 * keeps its marker and is skipped), then each day's counter record takes the day's new facts in one
 * compare-and-set (retried on another shard after a conflict). If a day's increment cannot be
 * written, that day's markers are removed again so a retry can count them, and the error is thrown.
 * Answers how many facts this call counted.
 */
export async function countFactsWith(io: FigureIo, facts: FactToCount[]): Promise<number> {
  const fresh: { list: readonly Figure[]; marker: string; id: string; day: string }[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < facts.length; i = next++) {
      const f = facts[i] as FactToCount;
      const fact = factFigures(f.figures);
      const marker = figureFactKey(fact.name, f.id);
      if (await io.create(marker, { figures: fact.list, fact_id: f.id, day: f.day }))
        fresh.push({ list: fact.list, marker, id: f.id, day: f.day });
    }
  };
  await Promise.all(Array.from({ length: Math.min(MARKER_WIDTH, facts.length) }, worker));
  const byDay = new Map<string, typeof fresh>();
  for (const f of fresh) byDay.set(f.day, [...(byDay.get(f.day) ?? []), f]);
  let failure: unknown;
  for (const [day, dayFacts] of byDay) {
    try {
      await addToDay(
        io,
        day,
        dayFacts.flatMap((f) => f.list),
        (dayFacts[0] as { id: string }).id,
      );
    } catch (err) {
      failure ??= err;
      // Without the increment the markers would hide these facts for good.
      await Promise.all(dayFacts.map((f) => io.remove(f.marker).catch(() => undefined)));
    }
  }
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrows the first caught error unchanged
  if (failure !== undefined) throw failure;
  return fresh.length;
}

async function addToDay(io: FigureIo, day: string, figures: readonly Figure[], spreadBy: string): Promise<void> {
  for (let i = 0; i < FIGURE_CAS_ATTEMPTS; i += 1) {
    const key = dailyFiguresKey(day, shardFor(spreadBy, i, FIGURE_SHARDS));
    const got = await io.read(key);
    if (await io.replace(key, addCount(got?.value, day, figures), got ? got.etag : null)) return;
    await new Promise((r) => setTimeout(r, Math.random() * Math.min(100, 5 * 2 ** i)));
  }
  throw new BusyError("the day's figures", FIGURE_CAS_ATTEMPTS);
}
