/**
 * Bridging a Redis data loss (a restart without persistence, a wiped server): the batch
 * contributions of every source vanish at once, and until each source's owner publishes again the
 * cluster would count none of the pilots those sources hold — and submit them a second time. An
 * instance that read the contributions before the loss still holds each source's last snapshot
 * and the pilots submitted into it since; it keeps counting those from memory (fail closed: the
 * pilots still exist) until the source is published again. The usual lifecycle still applies to
 * them (stale, offline, dropped after the grace), so a source whose owner died with the data ages
 * out as it would have.
 *
 * A loss is told by the epoch (keys.ts `epoch`): a random id stored once; a read that finds a
 * different one knows Redis lost its data since the previous read. Sources removed on purpose
 * (`apf decommission`, the prune after the offline grace) leave the epoch alone and are not
 * carried.
 */
import type { SubmittedEntry } from './cluster-view.ts';
import type { SourceRecord } from './records.ts';

/** A source as one read saw it: its snapshot and the pilots submitted into it since. */
export interface RememberedSource {
  readonly rec: SourceRecord;
  readonly submitted: readonly SubmittedEntry[];
}

/** Inputs of {@link carryOver}. */
export interface CarryOverInput {
  /** True when the epoch changed since the previous read (Redis lost its data). */
  readonly lost: boolean;
  /** The sources of the previous read (before the loss, when `lost`). */
  readonly previous: ReadonlyMap<string, RememberedSource>;
  /** What was being carried already (an earlier loss). */
  readonly carried: ReadonlyMap<string, RememberedSource>;
  /** The source ids this read found in Redis. */
  readonly present: ReadonlySet<string>;
  /** Now (epoch ms). */
  readonly now: number;
  /** A carried source whose snapshot is older than this is let go (ms). */
  readonly maxAgeMs: number;
}

/** The sources to keep counting from memory after this read (none while no loss happened). */
export function carryOver(o: CarryOverInput): ReadonlyMap<string, RememberedSource> {
  const next = new Map<string, RememberedSource>();
  const keep = (id: string, r: RememberedSource): void => {
    if (!o.present.has(id) && o.now - r.rec.at <= o.maxAgeMs) next.set(id, r);
  };
  for (const [id, r] of o.carried) keep(id, r);
  if (o.lost) for (const [id, r] of o.previous) if (!next.has(id)) keep(id, r);
  return next;
}

/** Groups one read's sources and submitted entries by source id. */
export function rememberRead(sources: readonly SourceRecord[], submitted: readonly SubmittedEntry[]): Map<string, RememberedSource> {
  const byId = new Map<string, SubmittedEntry[]>();
  for (const e of submitted) {
    let list = byId.get(e.source);
    if (list === undefined) byId.set(e.source, (list = []));
    list.push(e);
  }
  return new Map(sources.map((rec) => [rec.source, { rec, submitted: byId.get(rec.source) ?? [] }]));
}
