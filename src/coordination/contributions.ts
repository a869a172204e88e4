/**
 * Cluster-wide batch contributions: the latest per-queue counts of every batch source (schedd),
 * published by whoever polls it, plus the pilots submitted into each source since its snapshot
 * (coordination.md §3.4).
 *
 * Source ids: a remote schedd is named by name and pool (`condor:<name>:<pool>`), so a schedd
 * shared by several instances is counted once; a local schedd belongs to its instance
 * (`condor:local@<instance>`, owner = that instance).
 *
 * Stored form of a snapshot (compact, because one source may hold thousands of queues):
 * `{"at":<ms>,"seq":<n>,"owner":<id|null>,"source":…,"publisher":…,"q":{"<queue>":[pending,running,done,failed(,recentTotal,recentShort)]}}`.
 * `at` and `seq` always come first: the Lua scripts read them by string match. Read it with
 * {@link decodeSourceRecord} (or {@link ContributionStore.readAll}), never by hand.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ApfError, describeError } from '../errors.ts';
import { isCount, isJsonObject } from '../util/json-shape.ts';
import type { BatchQueueInfo } from '../core/info.ts';
import { countsOf } from './batch-counts.ts';
import { carryOver, rememberRead, type RememberedSource } from './carry-over.ts';
import type { SubmittedEntry } from './cluster-view.ts';
import type { Keys } from './keys.ts';
import type { SourceRecord } from './records.ts';
import { CONTRIB_PUBLISH } from './lua/contrib-publish-3.ts';
import { CONTRIB_READ_ALL } from './lua/contrib-read-all-2.ts';
import { CONTRIB_SUBMITTED } from './lua/contrib-submitted-1.ts';

/** The source id and owner of a batch source, from its batch status key (`local` or `<name>:<pool>`). */
export function sourceIdFor(scheddKey: string, instanceId: string): { source: string; owner: string | null } {
  if (scheddKey === 'local') return { source: `condor:local@${instanceId}`, owner: instanceId };
  return { source: `condor:${scheddKey}`, owner: null };
}

// ---------------------------------------------------------------------------------------------
// encoding (pure)

/**
 * The head every stored snapshot starts with, `{"at":<at>,"seq":<seq>,` (it changes with every
 * publish), which the read script compares to leave out a snapshot the reader already holds.
 * Built from the decoded numbers, not cut from the text: V8 keeps a cut-out substring as a slice
 * of its parent, so holding it would hold the whole snapshot text (hundreds of kilobytes for a
 * large schedd) for as long as the source is known.
 */
export function snapshotHead(rec: Pick<SourceRecord, 'at' | 'seq'>): string {
  return `{"at":${rec.at},"seq":${rec.seq},`;
}

/**
 * The stored body of a snapshot after `at` and `seq`, without braces (what the publish script
 * stores). A schedd's snapshot holds thousands of queues and is published every interval: the
 * counts go into one null-prototype object (a queue named __proto__ stays an own property), with
 * no entry arrays on the way.
 */
export function encodeSourceBody(rec: Omit<SourceRecord, 'seq' | 'at'>): string {
  const q = Object.create(null) as Record<string, number[]>;
  for (const name of Object.keys(rec.queues)) {
    const c = rec.queues[name] as BatchQueueInfo;
    q[name] = c.recent === undefined ? [c.pending, c.running, c.done, c.failed] : [c.pending, c.running, c.done, c.failed, c.recent.total, c.recent.short];
  }
  return JSON.stringify({ owner: rec.owner, source: rec.source, publisher: rec.publisher, q }).slice(1, -1);
}

/** Whether a queue's counts can be published (non-negative integers throughout). */
function validCounts(c: BatchQueueInfo): boolean {
  return isCount(c.pending) && isCount(c.running) && isCount(c.done) && isCount(c.failed) && (c.recent === undefined || (isCount(c.recent.total) && isCount(c.recent.short)));
}

/**
 * Decodes a stored snapshot; null when it is not one (never throws). The queue counts replace
 * the parsed arrays in the parsed object itself, so a snapshot of thousands of queues is not
 * copied into a second one.
 */
export function decodeSourceRecord(text: string): SourceRecord | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isJsonObject(raw)) return null;
  const { at, seq, owner, source, publisher, q } = raw;
  if (!isCount(at) || !isCount(seq) || typeof source !== 'string' || typeof publisher !== 'string') return null;
  if (owner !== null && typeof owner !== 'string') return null;
  if (!isJsonObject(q)) return null;
  // JSON.parse made "__proto__" an own data property, so assigning to it stays an own property.
  for (const name of Object.keys(q)) {
    const c = q[name];
    if (!Array.isArray(c) || (c.length !== 4 && c.length !== 6) || !c.every(isCount)) return null;
    const [pending, running, done, failed, total, short] = c;
    // most queues of a large schedd are idle: they share one frozen zero
    const info = countsOf(pending as number, running as number, done as number, failed as number);
    q[name] = total === undefined ? info : { ...info, recent: { total, short: short as number } };
  }
  return { source, owner, publisher, at, seq, queues: q as Record<string, BatchQueueInfo> };
}

/** The submitted zset member `<queue>\t<cycleId>\t<n>`. */
export function encodeSubmittedMember(queue: string, cycleId: string, n: number): string {
  return `${queue}\t${cycleId}\t${n}`;
}

/** Decodes a submitted zset member and its score; null when malformed. */
export function decodeSubmittedMember(source: string, member: string, score: string | number): SubmittedEntry | null {
  const parts = member.split('\t');
  if (parts.length !== 3) return null;
  const [queue, cycleId, nText] = parts as [string, string, string];
  const n = Number(nText);
  const at = Number(score);
  if (queue === '' || !isCount(n) || !Number.isFinite(at)) return null;
  return { source, queue, cycleId, n, at };
}

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
  /**
   * Expiry of a submitted zset, renewed at every submission, so the entries of a source nobody
   * publishes any more do not stay forever. @defaultValue 86 400 000 ms (a day)
   */
  readonly submittedTtlMs?: number;
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

function noControl(what: string, s: string): void {
  // Tabs and newlines would break the submitted member format and log lines.
  if (s === '' || /[\t\r\n]/.test(s)) throw new ApfError('APF_ERR_USAGE', `invalid ${what} ${JSON.stringify(s)}`);
}

const NOTHING_REMEMBERED: ReadonlyMap<string, RememberedSource> = new Map();

/** Reads and writes the batch contributions of the whole cluster. */
export class ContributionStore {
  readonly #redis: Redis;
  readonly #keys: Keys;
  readonly #pruneMarginMs: number;
  readonly #submittedTtlMs: number;
  readonly #publish: ScriptFn;
  readonly #readAll: ScriptFn;
  readonly #submitted: ScriptFn;
  /** Key templates for the read script: the part of a key before and after the source id. */
  readonly #snapKey: readonly [string, string];
  readonly #subKey: readonly [string, string];
  /**
   * The last decoded snapshot of each source with the head (`{"at":…,"seq":…,`) it was stored
   * under: a read passes the heads, and the script leaves out snapshots that still start with
   * theirs, so an unchanged snapshot (thousands of queues) is neither sent nor decoded again.
   */
  #decoded = new Map<string, { readonly head: string; readonly rec: SourceRecord }>();
  /** The epoch of the last read (undefined before the first), and what Redis held then. */
  #epoch: string | undefined;
  #last: { readonly sources: readonly SourceRecord[]; readonly submitted: readonly SubmittedEntry[] } = { sources: [], submitted: [] };
  #carried: ReadonlyMap<string, RememberedSource> = NOTHING_REMEMBERED;
  /** Bumped by every local write, so a read begun before it is never handed to a later caller. */
  #writes = 0;
  #inflight: { readonly writes: number; readonly promise: Promise<ContributionsSnapshot> } | undefined;

  constructor(redis: Redis, keys: Keys, opts: ContributionStoreOptions = {}) {
    this.#redis = redis;
    this.#keys = keys;
    this.#pruneMarginMs = opts.pruneMarginMs ?? 300_000;
    this.#submittedTtlMs = opts.submittedTtlMs ?? 86_400_000;
    this.#publish = script(redis, CONTRIB_PUBLISH);
    this.#readAll = script(redis, CONTRIB_READ_ALL);
    this.#submitted = script(redis, CONTRIB_SUBMITTED);
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
    noControl('source id', rec.source);
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
   * Records pilots submitted into `source` by a cycle (one script: ZADD of the member
   * `<queue>\t<cycleId>\t<n>` with score `at`, and PEXPIRE of the zset), so the next cycle counts
   * them before the next poll. Call it once per cycle and
   * source with the total (or give each batch its own cycle id): the same member recorded twice
   * is one entry, which also makes a retried call harmless.
   *
   * @throws ApfError `APF_ERR_REDIS`, `APF_ERR_USAGE` (bad names or numbers).
   */
  async recordSubmitted(source: string, queue: string, cycleId: string, n: number, at: number): Promise<void> {
    noControl('source id', source);
    noControl('queue name', queue);
    noControl('cycle id', cycleId);
    if (!isCount(n) || n === 0 || !isCount(at)) throw new ApfError('APF_ERR_USAGE', `invalid submitted record n=${n} at=${at}`);
    this.#writes++;
    try {
      await this.#submitted(this.#keys.sourceSubmitted(source), at, encodeSubmittedMember(queue, cycleId, n), this.#submittedTtlMs);
    } catch (err) {
      throw redisError(`recording submitted pilots of ${queue} into ${source}`, err);
    }
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
    const heads = [...held].flatMap(([id, d]) => [id, d.head]);
    let reply: unknown;
    try {
      reply = await this.#readAll(this.#keys.sources, this.#keys.epoch, this.#snapKey[0], this.#snapKey[1], this.#subKey[0], this.#subKey[1], randomUUID(), ...heads);
    } catch (err) {
      throw redisError('reading batch contributions', err);
    }
    const flat = reply as unknown[];
    const epoch = String(flat[0]);
    const sources: SourceRecord[] = [];
    const submitted: SubmittedEntry[] = [];
    const invalid: string[] = [];
    const present = new Set<string>();
    const decoded = new Map<string, { readonly head: string; readonly rec: SourceRecord }>();
    for (let i = 1; i + 2 < flat.length; i += 3) {
      const id = String(flat[i]);
      present.add(id);
      const text = String(flat[i + 1]);
      const same = text === '=' ? held.get(id) : undefined;
      if (same !== undefined) {
        decoded.set(id, same);
        sources.push(same.rec);
      } else if (text !== '') {
        const rec = decodeSourceRecord(text);
        if (rec === null || rec.source !== id) invalid.push(id);
        else {
          sources.push(rec);
          const head = snapshotHead(rec);
          if (text.startsWith(head)) decoded.set(id, { head, rec });
        }
      }
      const sub = flat[i + 2] as unknown[];
      for (let j = 0; j + 1 < sub.length; j += 2) {
        const e = decodeSubmittedMember(id, String(sub[j]), String(sub[j + 1]));
        if (e !== null) submitted.push(e);
      }
    }
    // Sources gone from the index (decommissioned) are forgotten with the rest.
    this.#decoded = decoded;
    const lost = this.#epoch !== undefined && epoch !== this.#epoch;
    // grouped by source only when a loss makes the previous read matter
    const previous = lost ? rememberRead(this.#last.sources, this.#last.submitted) : NOTHING_REMEMBERED;
    const carried = this.#carried.size === 0 && !lost ? NOTHING_REMEMBERED : carryOver({ lost, previous, carried: this.#carried, present, now: Date.now(), maxAgeMs: this.#submittedTtlMs });
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
