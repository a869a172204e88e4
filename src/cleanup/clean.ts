/**
 * One pass of the log cleanup over `baseLogDir` (apf-behaviour §6.2, plus the disk-usage rule APF
 * described but never implemented):
 *
 * 1. by age: every queue directory of every past day older than its retention is removed, and a
 *    past day directory left empty is removed;
 * 2. by disk usage (`cleanlogs.maxdiskpercent`): while the filesystem is fuller than the limit,
 *    the oldest past day directory is removed.
 *
 * Only real directories whose names are real dates are touched: symlinks are never followed nor
 * removed, other names are left alone, today's (UTC) directory is never removed. Every removal is
 * logged with its path, bytes and reason; an error on one directory is logged and the pass goes on.
 */
import { lstat, readdir, realpath, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ApfConfig } from '../config/types.ts';
import { describeError } from '../errors.ts';
import type { Logger } from '../logging/logger.ts';
import { utcDay } from '../plugins/batch-submit/condor/jdl.ts';
import { isInside } from '../logserver/safe-path.ts';
import { treeBytes, type DiskUsageFn } from './disk.ts';
import { diskCandidates, keepdaysResolver, parseDayName, planAgeRemovals, type DayDirInfo } from './plan.ts';

/** Why something was removed. */
export type RemovalReason = 'age' | 'empty' | 'disk';

/** One removed directory. */
export interface Removal {
  readonly path: string;
  readonly bytes: number;
  readonly reason: RemovalReason;
}

/** What a pass did. */
export interface CleanupReport {
  /** The UTC day the pass treated as today. */
  readonly today: string;
  readonly removed: readonly Removal[];
  /** One line per directory that could not be read or removed. */
  readonly errors: readonly string[];
  /** Disk usage after the pass, when `cleanlogs.maxdiskpercent` is set and it could be measured. */
  readonly usedPercent?: number;
}

/** Inputs of {@link cleanLogsOnce}. */
export interface CleanLogsInput {
  readonly config: ApfConfig;
  readonly logger: Logger;
  /** Epoch ms. */
  readonly now: number;
  readonly diskUsage: DiskUsageFn;
  /** Stops the pass between two removals (daemon shutdown). */
  readonly signal?: AbortSignal;
}

/** Real (non-symlink) subdirectory names of `dir`, sorted (day directories: oldest first). */
async function realSubdirs(dir: string): Promise<string[]> {
  return (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

/** Runs one cleanup pass. Never throws for filesystem problems: they are logged and reported. */
export async function cleanLogsOnce(input: CleanLogsInput): Promise<CleanupReport> {
  const { config, signal } = input;
  const log = input.logger.child({ component: 'cleanlogs' });
  const today = utcDay(new Date(input.now));
  const removed: Removal[] = [];
  const errors: string[] = [];
  let rootReal: string;
  try {
    rootReal = await realpath(config.factory.baseLogDir);
  } catch (err) {
    log.debug({ baseLogDir: config.factory.baseLogDir, err: describeError(err) }, 'no log directory to clean');
    return { today, removed, errors };
  }

  /** Removes `path` (a real directory strictly inside the root, checked again right now). */
  const remove = async (path: string, reason: RemovalReason, extra: Record<string, unknown>): Promise<boolean> => {
    try {
      if (path === rootReal || !isInside(rootReal, path)) throw new Error('outside baseLogDir');
      const st = await lstat(path);
      if (!st.isDirectory()) throw new Error('no longer a real directory');
      const bytes = await treeBytes(path);
      // rm does not follow symlinks inside the tree: a link is removed, never its target.
      if (reason === 'empty') await rmdir(path);
      else await rm(path, { recursive: true, force: true });
      removed.push({ path, bytes, reason });
      log.info({ path, bytes, reason, ...extra }, 'removed pilot logs');
      return true;
    } catch (err) {
      errors.push(`${path}: ${describeError(err)}`);
      log.warn({ path, reason, err: describeError(err) }, 'could not remove pilot logs');
      return false;
    }
  };

  let days: DayDirInfo[];
  try {
    days = [];
    for (const name of await realSubdirs(rootReal)) {
      if (parseDayName(name) === undefined) continue;
      try {
        days.push({ name, queues: await realSubdirs(join(rootReal, name)) });
      } catch (err) {
        errors.push(`${join(rootReal, name)}: ${describeError(err)}`);
      }
    }
  } catch (err) {
    errors.push(`${rootReal}: ${describeError(err)}`);
    log.warn({ path: rootReal, err: describeError(err) }, 'cannot list the log directory');
    return { today, removed, errors };
  }

  // 1. By age.
  for (const r of planAgeRemovals(days, today, keepdaysResolver(config))) {
    if (signal?.aborted === true) return { today, removed, errors };
    await remove(join(rootReal, r.day, r.queue), 'age', { keepdays: r.keepdays, ageDays: r.ageDays });
  }
  const remaining = new Set(days.map((d) => d.name));
  for (const name of diskCandidates([...remaining], today)) {
    if (signal?.aborted === true) return { today, removed, errors };
    const dir = join(rootReal, name);
    try {
      if ((await readdir(dir)).length > 0) continue;
    } catch {
      continue;
    }
    if (await remove(dir, 'empty', {})) remaining.delete(name);
  }

  // 2. By disk usage.
  const max = config.factory.web.cleanMaxDiskPercent;
  if (max === undefined) return { today, removed, errors };
  let used: number;
  try {
    used = await input.diskUsage(rootReal);
  } catch (err) {
    errors.push(`${rootReal}: disk usage: ${describeError(err)}`);
    log.warn({ path: rootReal, err: describeError(err) }, 'cannot measure disk usage');
    return { today, removed, errors };
  }
  const candidates = diskCandidates([...remaining], today);
  while (used > max && candidates.length > 0) {
    if (signal?.aborted === true) break;
    const name = candidates.shift() as string;
    await remove(join(rootReal, name), 'disk', { usedPercent: Math.round(used * 10) / 10, maxPercent: max });
    try {
      used = await input.diskUsage(rootReal);
    } catch (err) {
      errors.push(`${rootReal}: disk usage: ${describeError(err)}`);
      break;
    }
  }
  if (used > max) {
    log.warn({ path: rootReal, usedPercent: Math.round(used * 10) / 10, maxPercent: max }, 'disk still fuller than cleanlogs.maxdiskpercent: only today\'s logs (or other files) are left');
  }
  return { today, removed, errors, usedPercent: used };
}
