/**
 * Cluster-wide batch contributions: the latest per-queue counts of every batch source (schedd),
 * published by whoever polls it, plus the pilots submitted into each source since its snapshot
 * (coordination.md §3.4).
 *
 * Source ids: a remote schedd is named by name and pool (`condor:<name>:<pool>`), so a schedd
 * shared by several instances is counted once; a local schedd belongs to its instance
 * (`condor:local@<instance>`, owner = that instance).
 *
 * The stored forms are in contributions-codec.ts: read them with its decoders (or
 * {@link ContributionStore.readAll}), never by hand.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ApfError, describeError } from '../errors.ts';
import { isCount } from '../util/json-shape.ts';
import type { BatchQueueInfo } from '../core/info.ts';
import { carryOver, rememberRead, type RememberedSource } from './carry-over.ts';
import type { SubmittedEntry } from './cluster-view.ts';
import {
  checkName,
  decodeSourceRecord,
  decodeSubmittedMember,
  encodeSourceBody,
  snapshotHead,
  SUBMITTED_TTL_MS,
  validCounts,
} from './contributions-codec.ts';
import type { Keys } from './keys.ts';
import type { SourceRecord } from './records.ts';
import { CONTRIB_PUBLISH } from './lua/contrib-publish-3.ts';
import { CONTRIB_READ_ALL } from './lua/contrib-read-all-2.ts';

/** The source id and owner of a batch source, from its batch status key (`local` or `<name>:<pool>`). */
export function sourceIdFor(scheddKey: string, instanceId: string): { source: string; owner: string | null } {
  if (scheddKey === 'local') return { source: `condor:local@${instanceId}`, owner: instanceId };
  return { source: `condor:${scheddKey}`, owner: null };
}

export { decodeSourceRecord, decodeSubmittedMember, encodeSourceBody, encodeSubmittedMember, snapshotHead } from './contributions-codec.ts';

// ---------------------------------------------------------------------------------------------
// Redis

/** What {@link ContributionStore.readAll} returns. */
export interface ContributionsSnapshot {
  /** Every published source whose snapshot could be decoded. */
  readonly sources: readonly SourceRecord[];
  /** Per source, the submitted entries newer than its snapshot (all of them when it has none). */
  readonly submitted: readonly SubmittedEntry[];
  /** Sources whose stored snapshot could not be decoded (skipped: their counts are unknown). */
  readonly invalid: readonly string[];
  /**
   * Sources that Redis lost with its data and that are counted from this process's memory until
   * their owners publish again (carry-over.ts); included in `sources` and `submitted`.
   */
  readonly carried: readonly string[];
}

/** What {@link ContributionStore.publish} did. */
export interface PublishResult {
  /** False when the stored snapshot was as new or newer (a slow poll lost the race). */
  readonly written: boolean;
  /** The source's seq after the call (the new one, or the stored one when not written). */
  readonly seq: number;
  /** The `at` now stored. */
  readonly storedAt: number;
}

/** Options of {@link ContributionStore}. */
export interface ContributionStoreOptions {
  /**
   * Submitted entries older than a new snapshot minus this margin are pruned at publish (entries
   * just before it are kept in case the publisher's clock runs ahead). @defaultValue 300 000 ms
   */
  readonly pruneMarginMs?: number;
}

type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

/** Defines a script once per client (ioredis: EVALSHA with EVAL fallback) and returns its caller. */
function script(redis: Redis, def: { readonly name: string; readonly numberOfKeys: number; readonly lua: string }): ScriptFn {
  const r = redis as unknown as Record<string, ScriptFn | undefined>;
  if (typeof r[def.name] !== 'function') redis.defineCommand(def.name, { numberOfKeys: def.numberOfKeys, lua: def.lua });
  const fn = r[def.name] as ScriptFn;
  return (...args) => fn.apply(redis, args);
}

function redisError(op: string, err: unknown): ApfError {
  if (err instanceof ApfError) return err;
  return new ApfError('APF_ERR_REDIS', `${op}: ${describeError(err)}`, { cause: err });
}

/** Runs a MULTI and rethrows the first per-command error (ioredis reports them in the result). */
async function execTx(tx: ReturnType<Redis['multi']>): Promise<void> {
  const results = await tx.exec();
  if (results === null) throw new Error('transaction aborted');
  for (const [err] of results) if (err !== null) throw err;
}

const NOTHING_REMEMBERED: ReadonlyMap<string, RememberedSource> = new Map();

/**
 * How far below the newest submitted entry a source holds a read asks again (ms). An entry is
 * recorded right after its submission time; one recorded later than this below the newest entry
 * already read (a stalled process, clocks this far apart) changes the count the read script
 * compares, and that read sends the source's whole list.
 */
export const REREAD_WINDOW_MS = 10_000;

/** A source as the last read left it: decoded snapshot, its head, the submitted entries since. */
interface HeldSource {
  readonly head: string;
  readonly rec: SourceRecord;
  readonly submitted: readonly SubmittedEntry[];
}

/**
 * The re-read bound of a held source and how many of its entries lie below it (all of them lie
 * above its snapshot's `at`), or null for a whole read (no entries, or all within the window).
 */
export function rereadWindow(d: Pick<HeldSource, 'rec' | 'submitted'>): { from: number; count: number } | null {
  let newest = -Infinity;
  for (const e of d.submitted) if (e.at > newest) newest = e.at;
  const from = newest - REREAD_WINDOW_MS;
  if (!(from > d.rec.at)) return null;
  let count = 0;
  for (const e of d.submitted) if (e.at < from) count++;
  return { from, count };
}

/**
 * A source's submitted entries after a read: the reply's alone, or — when the script answered
 * from a bound (`from` not `''`) — the held ones below the bound followed by the reply's.
 */
function submittedOf(source: string, reply: readonly unknown[], from: string, same: HeldSource | undefined): SubmittedEntry[] {
  const out: SubmittedEntry[] = [];
  if (from !== '') {
    const bound = Number(from);
    if (same === undefined || !Number.isSafeInteger(bound)) throw new ApfError('APF_ERR_REDIS', `reading batch contributions: a partial list of ${source} the reader did not ask for`);
    for (const e of same.submitted) if (e.at < bound) out.push(e);
  }
  for (let j = 0; j + 1 < reply.length; j += 2) {
    const e = decodeSubmittedMember(source, String(reply[j]), String(reply[j + 1]));
    if (e !== null) out.push(e);
  }
  return out;
}

/** Reads and writes the batch contributions of the whole cluster. */
export class ContributionStore {
  readonly #redis: Redis;
  readonly #keys: Keys;
  readonly #pruneMarginMs: number;
  readonly #publish: ScriptFn;
  readonly #readAll: ScriptFn;
  /** Key templates for the read script: the part of a key before and after the source id. */
  readonly #snapKey: readonly [string, string];
  readonly #subKey: readonly [string, string];
  /**
   * The last decoded snapshot of each source with the head (`{"at":…,"seq":…,`) it was stored
   * under: a read passes the heads, and the script leaves out snapshots that still start with
   * theirs, so an unchanged snapshot (thousands of queues) is neither sent nor decoded again.
   */
  #decoded = new Map<string, HeldSource>();
  /** The epoch of the last read (undefined before the first), and what Redis held then. */
  #epoch: string | undefined;
  #last: { readonly sources: readonly SourceRecord[]; readonly submitted: readonly SubmittedEntry[] } = { sources: [], submitted: [] };
  #carried: ReadonlyMap<string, RememberedSource> = NOTHING_REMEMBERED;
  /**
   * Bumped by every write of this store, so a read begun before it is never handed to a later
   * caller. The submitted-pilot records of fenced commits (QueueState.commit) are written by
   * another object and not counted: like other instances' writes, only a `fresh` read is sure to
   * see them, and the cycles read fresh (ClusterBatch).
   */
  #writes = 0;
  #inflight: { readonly writes: number; readonly promise: Promise<ContributionsSnapshot> } | undefined;

  constructor(redis: Redis, keys: Keys, opts: ContributionStoreOptions = {}) {
    this.#redis = redis;
    this.#keys = keys;
    this.#pruneMarginMs = opts.pruneMarginMs ?? 300_000;
    this.#publish = script(redis, CONTRIB_PUBLISH);
    this.#readAll = script(redis, CONTRIB_READ_ALL);
    const split = (key: string): [string, string] => {
      const [pre, post] = key.split('\u0000');
      return [pre ?? '', post ?? ''];
    };
    this.#snapKey = split(keys.sourceSnapshot('\u0000'));
    this.#subKey = split(keys.sourceSubmitted('\u0000'));
  }

  /**
   * Publishes a source's snapshot: written only if its `at` is newer than the stored one; the seq
   * becomes the stored seq + 1; the sources index is updated and the source's submitted entries
   * older than the snapshot (minus the prune margin) are removed — one script, atomic.
   *
   * @throws ApfError `APF_ERR_REDIS` (Redis unreachable or failing), `APF_ERR_USAGE` (bad record).
   */
  async publish(rec: Omit<SourceRecord, 'seq'>): Promise<PublishResult> {
    checkName('source id', rec.source);
    if (!isCount(rec.at)) throw new ApfError('APF_ERR_USAGE', `invalid snapshot time ${String(rec.at)} for ${rec.source}`);
    for (const q of Object.keys(rec.queues)) {
      if (!validCounts(rec.queues[q] as BatchQueueInfo)) throw new ApfError('APF_ERR_USAGE', `invalid counts for queue ${q} in ${rec.source}`);
    }
    const body = encodeSourceBody(rec);
    this.#writes++;
    let reply: unknown;
    try {
      reply = await this.#publish(
        this.#keys.sourceSnapshot(rec.source),
        this.#keys.sources,
        this.#keys.sourceSubmitted(rec.source),
        rec.source,
        rec.at,
        body,
        rec.at - this.#pruneMarginMs,
      );
    } catch (err) {
      throw redisError(`publishing ${rec.source}`, err);
    }
    const [written, seq, storedAt] = reply as [number, number, number];
    return { written: written === 1, seq, storedAt };
  }

  /**
   * Every source and its submitted-since entries, in one round trip (one script). Concurrent
   * callers share one read, unless this store wrote something after that read began, or the caller
   * asks for a `fresh` read (one that begins now: it must see what other instances wrote so far).
   *
   * @throws ApfError `APF_ERR_REDIS`.
   */
  readAll(fresh = false): Promise<ContributionsSnapshot> {
    const current = this.#inflight;
    if (!fresh && current !== undefined && current.writes === this.#writes) return current.promise;
    const entry = { writes: this.#writes, promise: this.#read() };
    this.#inflight = entry;
    const clear = (): void => {
      if (this.#inflight === entry) this.#inflight = undefined;
    };
    entry.promise.then(clear, clear);
    return entry.promise;
  }

  async #read(): Promise<ContributionsSnapshot> {
    // What '=' refers to is the copy held when the read was sent (a concurrent read may replace it).
    const held = this.#decoded;
    const known = [...held].flatMap(([id, d]) => {
      const w = rereadWindow(d);
      return [id, d.head, w?.from ?? '', w?.count ?? ''];
    });
    let reply: unknown;
    try {
      reply = await this.#readAll(this.#keys.sources, this.#keys.epoch, this.#snapKey[0], this.#snapKey[1], this.#subKey[0], this.#subKey[1], randomUUID(), ...known);
    } catch (err) {
      throw redisError('reading batch contributions', err);
    }
    const flat = reply as unknown[];
    const epoch = String(flat[0]);
    const sources: SourceRecord[] = [];
    const submitted: SubmittedEntry[] = [];
    const invalid: string[] = [];
    const present = new Set<string>();
    const decoded = new Map<string, HeldSource>();
    for (let i = 1; i + 3 < flat.length; i += 4) {
      const id = String(flat[i]);
      present.add(id);
      const text = String(flat[i + 1]);
      const same = text === '=' ? held.get(id) : undefined;
      const entries = submittedOf(id, flat[i + 3] as unknown[], String(flat[i + 2]), same);
      for (const e of entries) submitted.push(e);
      if (same !== undefined) {
        decoded.set(id, { head: same.head, rec: same.rec, submitted: entries });
        sources.push(same.rec);
      } else if (text !== '') {
        const rec = decodeSourceRecord(text);
        if (rec === null || rec.source !== id) invalid.push(id);
        else {
          sources.push(rec);
          const head = snapshotHead(rec);
          if (text.startsWith(head)) decoded.set(id, { head, rec, submitted: entries });
        }
      }
    }
    // Sources gone from the index (decommissioned) are forgotten with the rest.
    this.#decoded = decoded;
    const lost = this.#epoch !== undefined && epoch !== this.#epoch;
    // grouped by source only when a loss makes the previous read matter
    const previous = lost ? rememberRead(this.#last.sources, this.#last.submitted) : NOTHING_REMEMBERED;
    const carried = this.#carried.size === 0 && !lost ? NOTHING_REMEMBERED : carryOver({ lost, previous, carried: this.#carried, present, now: Date.now(), maxAgeMs: SUBMITTED_TTL_MS });
    this.#epoch = epoch;
    this.#last = { sources, submitted };
    this.#carried = carried;
    if (carried.size === 0) return { sources, submitted, invalid, carried: [] };
    const kept = [...carried.values()];
    return {
      sources: [...sources, ...kept.map((r) => r.rec)],
      submitted: [...submitted, ...kept.flatMap((r) => r.submitted)],
      invalid,
      carried: [...carried.keys()],
    };
  }

  /**
   * Claims the right to poll a shared schedd this interval (`SET NX PX`), so that of the instances
   * using it only one queries it per interval; the others read its snapshot from Redis.
   *
   * @returns true when this instance should poll now.
   * @throws ApfError `APF_ERR_REDIS`.
   */
  async claimPoll(source: string, instanceId: string, intervalMs: number): Promise<boolean> {
    try {
      return (await this.#redis.set(this.#keys.sourcePollLock(source), instanceId, 'PX', Math.max(1, Math.round(intervalMs)), 'NX')) === 'OK';
    } catch (err) {
      throw redisError(`claiming the poll of ${source}`, err);
    }
  }

  /**
   * Decommissions an instance's contributions: deletes every source it owns (its local schedd,
   * published or not) with its submitted entries, in one transaction.
   *
   * @returns the ids of the sources removed (sorted; the instance's local source id is always among them).
   * @throws ApfError `APF_ERR_REDIS`.
   */
  async decommission(instance: string): Promise<string[]> {
    const all = await this.readAll();
    const ids = new Set(all.sources.filter((s) => s.owner === instance).map((s) => s.source));
    ids.add(sourceIdFor('local', instance).source);
    const list = [...ids].sort();
    this.#writes++;
    try {
      const tx = this.#redis.multi();
      tx.del(...list.flatMap((id) => [this.#keys.sourceSnapshot(id), this.#keys.sourceSubmitted(id)]));
      tx.zrem(this.#keys.sources, ...list);
      await execTx(tx);
    } catch (err) {
      throw redisError(`decommissioning the sources of ${instance}`, err);
    }
    return list;
  }
}
