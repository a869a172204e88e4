/**
 * Cluster-wide control: messages on one pub/sub channel (reload, drain, freeze, run-now…) and the
 * admin log of who did what.
 *
 * Pub/sub is fire-and-forget: an instance that is disconnected when a message is published misses
 * it. Control actions whose effect must persist (drain, freeze) are therefore also written to the
 * registry by the caller; the message only makes the instances react at once.
 */
import type { Redis } from 'ioredis';
import { ApfError, describeError } from '../errors.ts';
import type { Logger } from '../logging/logger.ts';
import type { Keys } from './keys.ts';
import { lazySchemas } from '../util/zod.ts';

/** A control message. `by` says who sent it (user@host or an instance id), for the logs. */
export type ControlMessage =
  | { action: 'reload'; by: string }
  | { action: 'drain' | 'undrain'; instance: string; by: string }
  | { action: 'freeze'; instance: string; durationMs: number; by: string }
  | { action: 'thaw'; instance: string; by: string }
  | { action: 'run-now'; queue: string; by: string };

const schemas = lazySchemas((z) => {
  const name = z.string().min(1).max(512);
  return {
    // Unknown extra fields are stripped rather than refused, so a newer apf may add some.
    message: z.discriminatedUnion('action', [
      z.object({ action: z.literal('reload'), by: name }),
      z.object({ action: z.enum(['drain', 'undrain']), instance: name, by: name }),
      z.object({ action: z.literal('freeze'), instance: name, durationMs: z.number().int().positive().max(Number.MAX_SAFE_INTEGER), by: name }),
      z.object({ action: z.literal('thaw'), instance: name, by: name }),
      z.object({ action: z.literal('run-now'), queue: name, by: name }),
    ]),
    action: z.object({ who: z.string(), action: z.string(), target: z.string(), at: z.number().int().nonnegative(), result: z.string() }),
  };
});

/** Validates a message received as text; the reason when it is not a control message. */
export function parseControlMessage(text: string): { ok: true; message: ControlMessage } | { ok: false; reason: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `not JSON: ${describeError(err)}` };
  }
  const r = schemas().message.safeParse(raw);
  if (!r.success) return { ok: false, reason: r.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ') };
  const message: ControlMessage = r.data;
  return { ok: true, message };
}

/** Receives the control messages of the cluster on a dedicated subscriber connection, and sends them. */
export class ControlBus {
  readonly #sub: Redis;
  readonly #pub: Redis;
  readonly #channel: string;
  readonly #log: Logger;
  readonly #handlers = new Set<(msg: ControlMessage) => void>();
  #subscribed = false;
  readonly #onMessage = (channel: string, text: string): void => this.#deliver(channel, text);

  /**
   * @param redisSub - a connection used for nothing else (it enters subscriber mode); the caller
   *   creates and finally closes it.
   * @param redisPub - any ordinary connection, for publish.
   */
  constructor(redisSub: Redis, redisPub: Redis, keys: Keys, logger: Logger) {
    this.#sub = redisSub;
    this.#pub = redisPub;
    this.#channel = keys.controlChannel;
    this.#log = logger;
  }

  /**
   * Publishes a message to every subscribed instance.
   *
   * @returns how many subscribers received it.
   * @throws ApfError `APF_ERR_USAGE` (not a valid message), `APF_ERR_REDIS`.
   */
  async publish(msg: ControlMessage): Promise<number> {
    const r = schemas().message.safeParse(msg);
    if (!r.success) throw new ApfError('APF_ERR_USAGE', `invalid control message: ${r.error.issues.map((i) => i.message).join('; ')}`);
    try {
      return await this.#pub.publish(this.#channel, JSON.stringify(r.data));
    } catch (err) {
      throw new ApfError('APF_ERR_REDIS', `publishing a ${msg.action} control message: ${describeError(err)}`, { cause: err });
    }
  }

  /**
   * Calls `handler` for every valid message from now on. Malformed messages are logged and
   * dropped; a handler that throws is logged, never propagated. Resolves once subscribed.
   *
   * @throws ApfError `APF_ERR_REDIS` when the subscription fails.
   */
  async subscribe(handler: (msg: ControlMessage) => void): Promise<void> {
    this.#handlers.add(handler);
    if (this.#subscribed) return;
    this.#subscribed = true;
    this.#sub.on('message', this.#onMessage);
    try {
      await this.#sub.subscribe(this.#channel);
    } catch (err) {
      this.#subscribed = false;
      this.#sub.off('message', this.#onMessage);
      this.#handlers.delete(handler);
      throw new ApfError('APF_ERR_REDIS', `subscribing to ${this.#channel}: ${describeError(err)}`, { cause: err });
    }
  }

  /** Unsubscribes and forgets the handlers (the connections stay open: they are the caller's). */
  async close(): Promise<void> {
    this.#handlers.clear();
    if (!this.#subscribed) return;
    this.#subscribed = false;
    this.#sub.off('message', this.#onMessage);
    try {
      await this.#sub.unsubscribe(this.#channel);
    } catch (err) {
      // The connection may already be gone; there is nothing left to undo.
      this.#log.debug({ err }, 'unsubscribing from the control channel failed');
    }
  }

  #deliver(channel: string, text: string): void {
    if (channel !== this.#channel) return;
    const r = parseControlMessage(text);
    if (!r.ok) {
      this.#log.warn({ channel, reason: r.reason, size: text.length }, 'dropping a malformed control message');
      return;
    }
    for (const h of this.#handlers) {
      try {
        h(r.message);
      } catch (err) {
        this.#log.error({ err, action: r.message.action }, 'a control message handler failed');
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// admin log

/** One administrative action (`apf drain`, `apf freeze`, a web button…), kept for audit. */
export interface AdminAction {
  /** Who did it (user@host). */
  readonly who: string;
  /** What (`drain`, `freeze`, `decommission`…). */
  readonly action: string;
  /** On what (instance id, queue name, `cluster`). */
  readonly target: string;
  /** When (epoch ms). */
  readonly at: number;
  /** How it ended (`ok`, `no such instance`, an error message). */
  readonly result: string;
}

/** How many admin actions the log keeps. */
export const ADMIN_LOG_CAP = 1000;

/**
 * Appends an action to the admin log (newest first, capped at {@link ADMIN_LOG_CAP}).
 *
 * @throws ApfError `APF_ERR_REDIS`.
 */
export async function recordAdminAction(redis: Redis, keys: Keys, action: AdminAction): Promise<void> {
  const { who, target, at, result } = action;
  const text = JSON.stringify({ who, action: action.action, target, at, result });
  try {
    const results = await redis.multi().lpush(keys.adminLog, text).ltrim(keys.adminLog, 0, ADMIN_LOG_CAP - 1).exec();
    for (const [err] of results ?? []) if (err !== null) throw err;
  } catch (err) {
    throw new ApfError('APF_ERR_REDIS', `recording an admin action: ${describeError(err)}`, { cause: err });
  }
}

/**
 * The latest admin actions, newest first (unreadable entries are skipped).
 *
 * @throws ApfError `APF_ERR_REDIS`.
 */
export async function adminActions(redis: Redis, keys: Keys, limit = 100): Promise<AdminAction[]> {
  if (!Number.isSafeInteger(limit) || limit <= 0) return [];
  let texts: string[];
  try {
    texts = await redis.lrange(keys.adminLog, 0, Math.min(limit, ADMIN_LOG_CAP) - 1);
  } catch (err) {
    throw new ApfError('APF_ERR_REDIS', `reading the admin log: ${describeError(err)}`, { cause: err });
  }
  const out: AdminAction[] = [];
  for (const t of texts) {
    try {
      const r = schemas().action.safeParse(JSON.parse(t));
      if (r.success) out.push(r.data);
    } catch {
      // Not JSON: somebody wrote into the list by hand; skip it.
    }
  }
  return out;
}
