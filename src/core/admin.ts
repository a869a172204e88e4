/**
 * Cluster-wide admin operations, one implementation shared by the CLI (`apf pause` …) and the web
 * admin API: each validates its target, acts through Redis (state and control messages), and is
 * recorded in the admin log with who and when.
 */
import type { Redis } from 'ioredis';
import { ApfError } from '../errors.ts';
import type { ApfConfig } from '../config/types.ts';
import { ContributionStore } from '../coordination/contributions.ts';
import { ControlBus, recordAdminAction } from '../coordination/control.ts';
import { Dispatcher } from '../coordination/dispatch.ts';
import { InstanceRegistry } from '../coordination/instances.ts';
import type { Keys } from '../coordination/keys.ts';
import { QueueState } from '../coordination/queue-state.ts';
import { silentLogger } from '../logging/logger.ts';

/** Who acts, on which cluster. */
export interface AdminContext {
  readonly redis: Redis;
  readonly keys: Keys;
  readonly config: ApfConfig;
  /** `user@cli`, `token:<name>@web`… */
  readonly who: string;
}

/** What an admin action did. */
export interface AdminResult {
  readonly action: string;
  readonly target: string;
  readonly message: string;
}

async function done(ctx: AdminContext, action: string, target: string, message: string): Promise<AdminResult> {
  await recordAdminAction(ctx.redis, ctx.keys, { who: ctx.who, action, target, at: Date.now(), result: message });
  return { action, target, message };
}

function knownQueue(ctx: AdminContext, queue: string): void {
  if (!ctx.config.queues.has(queue)) {
    throw new ApfError('APF_ERR_USAGE', `no queue named "${queue}" in the configuration`, { details: { status: 404 } });
  }
}

async function knownInstance(ctx: AdminContext, id: string) {
  const list = await new InstanceRegistry(ctx.redis, ctx.keys, { deadAfterMs: ctx.config.factory.cluster.deadAfterMs }).list();
  const inst = list.find((i) => i.id === id);
  if (inst === undefined) {
    throw new ApfError('APF_ERR_USAGE', `no instance "${id}" is registered (known: ${list.map((i) => i.id).join(', ') || 'none'})`, {
      details: { status: 404 },
    });
  }
  return inst;
}

function queueState(ctx: AdminContext): QueueState {
  return new QueueState(ctx.redis, ctx.keys, { history: ctx.config.factory.cluster.history });
}

/** Pauses a queue cluster-wide: its cycles are skipped (as `paused`) until resumed. */
export async function pauseQueue(ctx: AdminContext, queue: string): Promise<AdminResult> {
  knownQueue(ctx, queue);
  await queueState(ctx).setPaused(queue, true, ctx.who);
  return done(ctx, 'pause', queue, `queue ${queue} paused cluster-wide`);
}

/** Resumes a paused queue. */
export async function resumeQueue(ctx: AdminContext, queue: string): Promise<AdminResult> {
  knownQueue(ctx, queue);
  await queueState(ctx).setPaused(queue, false, ctx.who);
  return done(ctx, 'resume', queue, `queue ${queue} resumed`);
}

/** Runs a queue's cycle now (one extra cycle, on whichever instance takes it). */
export async function runQueueNow(ctx: AdminContext, queue: string): Promise<AdminResult> {
  knownQueue(ctx, queue);
  const d = new Dispatcher({ connection: ctx.redis, keys: ctx.keys, logger: silentLogger() });
  try {
    await d.runNow(queue);
  } finally {
    await d.close();
  }
  return done(ctx, 'run', queue, `cycle of ${queue} queued now`);
}

async function publish(ctx: AdminContext, msg: Parameters<ControlBus['publish']>[0]): Promise<number> {
  // publishing needs no subscriber connection; the bus only uses `redisPub` here
  return new ControlBus(ctx.redis, ctx.redis, ctx.keys, silentLogger()).publish(msg);
}

/** Drains an instance: it stops taking cycles (in-flight ones finish) and stays registered. */
export async function drainInstance(ctx: AdminContext, id: string): Promise<AdminResult> {
  await knownInstance(ctx, id);
  await new InstanceRegistry(ctx.redis, ctx.keys, { deadAfterMs: ctx.config.factory.cluster.deadAfterMs }).setState(id, 'draining');
  await publish(ctx, { action: 'drain', instance: id, by: ctx.who });
  return done(ctx, 'drain', id, `instance ${id} draining`);
}

/** Lets a drained instance take cycles again. */
export async function undrainInstance(ctx: AdminContext, id: string): Promise<AdminResult> {
  await knownInstance(ctx, id);
  await new InstanceRegistry(ctx.redis, ctx.keys, { deadAfterMs: ctx.config.factory.cluster.deadAfterMs }).setState(id, 'active');
  await publish(ctx, { action: 'undrain', instance: id, by: ctx.who });
  return done(ctx, 'undrain', id, `instance ${id} active`);
}

/** Asks every instance to reload its configuration (each validates first and keeps the old one if invalid). */
export async function reloadCluster(ctx: AdminContext): Promise<AdminResult> {
  const receivers = await publish(ctx, { action: 'reload', by: ctx.who });
  return done(ctx, 'reload', '*', `reload requested; ${receivers} instance connection(s) received it`);
}

/**
 * Drops a retired instance at once: its batch counts stop counting (instead of after the offline
 * grace) and it leaves the registry. Refused while the instance is alive (it would republish).
 */
export async function decommissionInstance(ctx: AdminContext, id: string): Promise<AdminResult> {
  const inst = await knownInstance(ctx, id).catch(() => null);
  if (inst?.alive === true) {
    throw new ApfError('APF_ERR_USAGE', `instance ${id} is alive (heartbeat ${inst.heartbeatAgeMs} ms ago): stop it first`, {
      details: { status: 409 },
    });
  }
  const removed = await new ContributionStore(ctx.redis, ctx.keys).decommission(id);
  await new InstanceRegistry(ctx.redis, ctx.keys, { deadAfterMs: ctx.config.factory.cluster.deadAfterMs }).remove(id);
  return done(ctx, 'decommission', id, `instance ${id} decommissioned; dropped source(s): ${removed.join(', ') || 'none'}`);
}

/** Freezes an instance for a drill (as if dead), or thaws it. */
export async function freezeInstance(ctx: AdminContext, id: string, durationMs: number): Promise<AdminResult> {
  await knownInstance(ctx, id);
  await publish(ctx, { action: 'freeze', instance: id, durationMs, by: ctx.who });
  return done(ctx, 'freeze', id, `instance ${id} frozen for ${durationMs} ms`);
}
