/**
 * The instance registry: which apf processes take part in the cluster, and whether they are alive.
 *
 * Each instance has a hash `inst:<id>` (its {@link InstanceRecord}) and a score in the `instances`
 * zset (its last heartbeat, epoch ms). The id is stable per host, the owner unique per process:
 * a restarted process with the same id replaces the registration, and the old process — should it
 * still run (paused, partitioned) — learns from its next heartbeat that it was replaced.
 *
 * Registrations do not expire: the last heartbeat of a dead instance is what tells the cluster
 * view how long its pilots keep being counted. `remove` (decommission) deletes them.
 */
import type { Redis } from 'ioredis';
import { ApfError, describeError } from '../errors.ts';
import type { Keys } from './keys.ts';
import type { InstanceRecord, InstanceState } from './records.ts';
import { INST_DEREGISTER } from './lua/inst-deregister-2.ts';
import { INST_HEARTBEAT } from './lua/inst-heartbeat-2.ts';
import { INST_SET_STATE } from './lua/inst-set-state-1.ts';

/** Every lifecycle state (the registry refuses others). */
export const INSTANCE_STATES: readonly InstanceState[] = ['active', 'draining', 'frozen', 'stopping'];

/** What {@link InstanceRegistry.heartbeat} may update along with the heartbeat time. */
export type HeartbeatPatch = Partial<Pick<InstanceRecord, 'lastCycleAt' | 'configHash' | 'state'>>;

/** An instance as listed, with its liveness at listing time. */
export type ListedInstance = InstanceRecord & {
  /** `now − heartbeatAt`, ms (0 when the heartbeat is in the future: clock skew). */
  readonly heartbeatAgeMs: number;
  /** `heartbeatAgeMs ≤ deadAfterMs`. */
  readonly alive: boolean;
};

/** Options of {@link InstanceRegistry}. */
export interface InstanceRegistryOptions {
  /** An instance whose last heartbeat is older than this is dead (cluster `deadAfterMs`). */
  readonly deadAfterMs: number;
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

function checkState(state: string): InstanceState {
  if (!(INSTANCE_STATES as readonly string[]).includes(state)) throw new ApfError('APF_ERR_USAGE', `unknown instance state "${state}"`);
  return state as InstanceState;
}

function optNumber(v: number | null): string {
  return v === null ? '' : String(v);
}

/** The hash fields of a record (null stored as ''). */
export function encodeInstance(rec: InstanceRecord): Record<string, string> {
  return {
    id: rec.id,
    owner: rec.owner,
    host: rec.host,
    pid: String(rec.pid),
    version: rec.version,
    configHash: rec.configHash,
    startedAt: String(rec.startedAt),
    heartbeatAt: String(rec.heartbeatAt),
    lastCycleAt: optNumber(rec.lastCycleAt),
    state: rec.state,
    webPort: optNumber(rec.webPort),
  };
}

/** Decodes a registration hash; null when it is empty or not a registration. */
export function decodeInstance(h: Readonly<Record<string, string>>): InstanceRecord | null {
  const int = (v: string | undefined): number | undefined => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined);
  const opt = (v: string | undefined): number | null | undefined => (v === '' ? null : int(v));
  const { id, owner, host, version, configHash, state } = h;
  const pid = int(h['pid']);
  const startedAt = int(h['startedAt']);
  const heartbeatAt = int(h['heartbeatAt']);
  const lastCycleAt = opt(h['lastCycleAt']);
  const webPort = opt(h['webPort']);
  if (id === undefined || owner === undefined || host === undefined || version === undefined || configHash === undefined) return null;
  if (state === undefined || !(INSTANCE_STATES as readonly string[]).includes(state)) return null;
  if (pid === undefined || startedAt === undefined || heartbeatAt === undefined || lastCycleAt === undefined || webPort === undefined) return null;
  return { id, owner, host, pid, version, configHash, startedAt, heartbeatAt, lastCycleAt, state: state as InstanceState, webPort };
}

/** Registration, heartbeats and liveness of the cluster's instances. */
export class InstanceRegistry {
  readonly #redis: Redis;
  readonly #keys: Keys;
  readonly #deadAfterMs: number;
  readonly #now: () => number;
  readonly #heartbeat: ScriptFn;
  readonly #setState: ScriptFn;
  readonly #deregister: ScriptFn;

  constructor(redis: Redis, keys: Keys, opts: InstanceRegistryOptions, now: () => number = Date.now) {
    this.#redis = redis;
    this.#keys = keys;
    this.#deadAfterMs = opts.deadAfterMs;
    this.#now = now;
    this.#heartbeat = script(redis, INST_HEARTBEAT);
    this.#setState = script(redis, INST_SET_STATE);
    this.#deregister = script(redis, INST_DEREGISTER);
  }

  /**
   * Registers this process under `rec.id` with a first heartbeat. A registration of another
   * process with the same id is replaced (its next heartbeat answers `replaced`).
   *
   * @throws ApfError `APF_ERR_REDIS`, `APF_ERR_USAGE` (empty id or owner, unknown state).
   */
  async register(rec: Omit<InstanceRecord, 'heartbeatAt'>): Promise<void> {
    if (rec.id === '' || rec.owner === '') throw new ApfError('APF_ERR_USAGE', 'an instance needs an id and an owner');
    checkState(rec.state);
    const now = this.#now();
    const key = this.#keys.instance(rec.id);
    try {
      // DEL first: fields of the previous process must not survive into the new registration.
      await execTx(this.#redis.multi().del(key).hset(key, encodeInstance({ ...rec, heartbeatAt: now })).zadd(this.#keys.instances, now, rec.id));
    } catch (err) {
      throw redisError(`registering instance ${rec.id}`, err);
    }
  }

  /**
   * Heartbeat (and optional patch) of this process's registration, in one script.
   *
   * @returns `replaced` when another process took the id (or the registration was removed):
   *   nothing was written, and this process must stop acting as that instance.
   * @throws ApfError `APF_ERR_REDIS`, `APF_ERR_USAGE` (unknown state).
   */
  async heartbeat(id: string, owner: string, patch: HeartbeatPatch = {}): Promise<'ok' | 'replaced'> {
    const args: string[] = [];
    if (patch.lastCycleAt !== undefined) args.push('lastCycleAt', optNumber(patch.lastCycleAt));
    if (patch.configHash !== undefined) args.push('configHash', patch.configHash);
    if (patch.state !== undefined) args.push('state', checkState(patch.state));
    let reply: unknown;
    try {
      reply = await this.#heartbeat(this.#keys.instance(id), this.#keys.instances, id, owner, this.#now(), ...args);
    } catch (err) {
      throw redisError(`heartbeat of instance ${id}`, err);
    }
    return reply === 1 ? 'ok' : 'replaced';
  }

  /**
   * Sets an instance's state from any process (drain, undrain, freeze).
   *
   * @returns false when no such instance is registered.
   * @throws ApfError `APF_ERR_REDIS`, `APF_ERR_USAGE` (unknown state).
   */
  async setState(id: string, state: InstanceState): Promise<boolean> {
    checkState(state);
    try {
      return (await this.#setState(this.#keys.instance(id), state)) === 1;
    } catch (err) {
      throw redisError(`setting the state of instance ${id}`, err);
    }
  }

  /**
   * Removes this process's registration at a clean shutdown — only while it is still ours.
   *
   * @throws ApfError `APF_ERR_REDIS`.
   */
  async deregister(id: string, owner: string): Promise<void> {
    try {
      await this.#deregister(this.#keys.instance(id), this.#keys.instances, id, owner);
    } catch (err) {
      throw redisError(`deregistering instance ${id}`, err);
    }
  }

  /**
   * Every registered instance with its heartbeat age and liveness, most recent heartbeat first
   * (two round trips, whatever the number of instances).
   *
   * @throws ApfError `APF_ERR_REDIS`.
   */
  async list(): Promise<ListedInstance[]> {
    let ids: string[];
    let hashes: (Record<string, string> | undefined)[];
    try {
      ids = await this.#redis.zrevrange(this.#keys.instances, 0, -1);
      if (ids.length === 0) return [];
      const p = this.#redis.pipeline();
      for (const id of ids) p.hgetall(this.#keys.instance(id));
      const results = (await p.exec()) ?? [];
      hashes = results.map(([err, h]) => {
        if (err !== null) throw err;
        return h as Record<string, string>;
      });
    } catch (err) {
      throw redisError('listing instances', err);
    }
    const now = this.#now();
    const out: ListedInstance[] = [];
    for (const h of hashes) {
      const rec = h === undefined ? null : decodeInstance(h);
      if (rec === null) continue;
      const heartbeatAgeMs = Math.max(0, now - rec.heartbeatAt);
      out.push({ ...rec, heartbeatAgeMs, alive: heartbeatAgeMs <= this.#deadAfterMs });
    }
    return out;
  }

  /**
   * One instance's registration, or null.
   *
   * @throws ApfError `APF_ERR_REDIS`.
   */
  async get(id: string): Promise<InstanceRecord | null> {
    try {
      return decodeInstance(await this.#redis.hgetall(this.#keys.instance(id)));
    } catch (err) {
      throw redisError(`reading instance ${id}`, err);
    }
  }

  /**
   * Decommissions an instance: deletes its registration whoever owns it (its contributions are
   * removed separately, by ContributionStore.decommission).
   *
   * @throws ApfError `APF_ERR_REDIS`.
   */
  async remove(id: string): Promise<void> {
    try {
      await execTx(this.#redis.multi().del(this.#keys.instance(id)).zrem(this.#keys.instances, id));
    } catch (err) {
      throw redisError(`removing instance ${id}`, err);
    }
  }
}
