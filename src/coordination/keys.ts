/**
 * Every Redis key apf uses, in one place (style.md §18). All keys start with one prefix
 * (`cluster.prefix`, default `apf`); the keys of one queue share the hash tag `{q:<name>}` so that
 * a Lua script may touch several of them (and so that Redis Cluster would keep them together).
 */

/** Key builder for one cluster (one prefix). */
export class Keys {
  readonly prefix: string;

  constructor(prefix = 'apf') {
    if (!/^[A-Za-z0-9_.-]+$/.test(prefix)) throw new Error(`invalid key prefix "${prefix}"`);
    this.prefix = prefix;
  }

  #q(queue: string, what: string): string {
    return `${this.prefix}:q:{q:${queue}}:${what}`;
  }

  /** String `<redlock value>`, PX = lease TTL: who may run the queue's cycle now. */
  queueLease(queue: string): string {
    return this.#q(queue, 'lease');
  }
  /** Integer, no TTL: the queue's fencing counter (time-seeded so it never goes backwards). */
  queueFence(queue: string): string {
    return this.#q(queue, 'fence');
  }
  /** Hash: `fence` (highest token seen), `last` (JSON CycleRecord), `lastAt` (its time, epoch ms), `paused`, `pausedBy`, `pausedAt`. */
  queueState(queue: string): string {
    return this.#q(queue, 'state');
  }
  /** List of JSON CycleRecords, newest first, capped (`cluster.history`). */
  queueHistory(queue: string): string {
    return this.#q(queue, 'history');
  }
  /** Hash of counters: `skippedStale`, `skippedBusy`, `skippedPaused`, `fenced`, `cycles`, `submitted`. */
  queueStats(queue: string): string {
    return this.#q(queue, 'stats');
  }
  /** String JSON SlotRecord for one (queue, slot), EX ≥ 3 intervals: idempotency of a slot. */
  queueSlot(queue: string, slot: number): string {
    return this.#q(queue, `slot:${slot}`);
  }

  /**
   * String: a random id set once (by the first read of the contributions) and never changed. A
   * different or missing value tells the instances that Redis lost its data (contributions.ts).
   */
  get epoch(): string {
    return `${this.prefix}:epoch`;
  }

  /** Zset: batch source key → last publish time (ms). */
  get sources(): string {
    return `${this.prefix}:sources`;
  }
  /** String: a batch source's latest per-queue counts, compactly encoded (contributions.ts `decodeSourceRecord`). */
  sourceSnapshot(source: string): string {
    return `${this.prefix}:src:${source}:snap`;
  }
  /** Zset: pilots submitted into a batch source (member `<queue>\t<cycleId>\t<n>`, score = time ms). */
  sourceSubmitted(source: string): string {
    return `${this.prefix}:src:${source}:sub`;
  }
  /** String: set NX while one instance polls a shared batch source this interval. */
  sourcePollLock(source: string): string {
    return `${this.prefix}:src:${source}:poll`;
  }

  /** String JSON WMS snapshot shared by the whole cluster. */
  wmsSnapshot(source: string): string {
    return `${this.prefix}:wms:${source}`;
  }
  /** String: set NX PX = sleep while one instance fetches the WMS this interval. */
  wmsFetchLock(source: string): string {
    return `${this.prefix}:wms:${source}:fetch`;
  }

  /** Zset: instance id → last heartbeat (ms). */
  get instances(): string {
    return `${this.prefix}:instances`;
  }
  /** Hash: one instance's registration (host, pid, version, configHash, state…). */
  instance(id: string): string {
    return `${this.prefix}:inst:${id}`;
  }

  /** String: the reconciler's lease (one instance keeps the schedulers in line with the config). */
  get reconcilerLease(): string {
    return `${this.prefix}:reconciler`;
  }
  /** Pub/sub channel for cluster-wide control messages (reload, drain, freeze…). */
  get controlChannel(): string {
    return `${this.prefix}:ctl`;
  }
  /** List of JSON admin actions (who, what, when), newest first, capped. */
  get adminLog(): string {
    return `${this.prefix}:admin:log`;
  }
  /** String JSON drill run (progress and report), EX 7 days: any instance can answer for it. */
  drill(id: string): string {
    return `${this.prefix}:drill:${id}`;
  }
  /** The BullMQ prefix (BullMQ adds `:<queue>:…`). */
  get bullPrefix(): string {
    return `${this.prefix}:bull`;
  }
}
