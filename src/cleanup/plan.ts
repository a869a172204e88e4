/**
 * Pure decisions of the log cleanup (apf-behaviour §6.2): which queue directories are past their
 * retention, and in which order day directories go when the disk is too full. "Today" is the UTC
 * date — the same date the submit path writes (APF compared UTC directory names with the LOCAL
 * date, so near midnight it could be a day off; apf uses UTC on both sides).
 */
import type { ApfConfig } from '../config/types.ts';
import { queueLogName } from '../plugins/batch-submit/condor/jdl.ts';

/** A day directory's name: `YYYY-MM-DD`. */
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** Epoch ms of the UTC midnight a day-directory name stands for, or undefined when it is not a real date (`2024-02-30`). */
export function parseDayName(name: string): number | undefined {
  const m = DAY.exec(name);
  if (m === null) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return undefined;
  return ms;
}

/** Whole days from day `name` to day `today` (both `YYYY-MM-DD`; negative for a future name). */
export function ageInDays(name: string, today: string): number {
  const a = parseDayName(name);
  const b = parseDayName(today);
  if (a === undefined || b === undefined) return NaN;
  return Math.round((b - a) / DAY_MS);
}

/**
 * The retention of a queue directory (named as the submit path names it: `/` and `:` → `_`): the
 * queue's `cleanlogs.keepdays` when that queue is in the configuration, else the factory's. Two
 * queues whose names map to the same directory keep the longer of their retentions.
 */
export function keepdaysResolver(config: ApfConfig): (dirName: string) => number {
  const byDir = new Map<string, number>();
  const factory = config.factory.cleanlogsKeepdays;
  for (const q of config.queues.values()) {
    const dir = queueLogName(q.name);
    const days = q.cleanlogsKeepdays ?? factory;
    byDir.set(dir, Math.max(days, byDir.get(dir) ?? -1));
  }
  return (dirName) => byDir.get(dirName) ?? factory;
}

/** A day directory as found on disk: its name and its queue subdirectories (real directories only). */
export interface DayDirInfo {
  readonly name: string;
  readonly queues: readonly string[];
}

/** A queue directory past its retention. */
export interface AgeRemoval {
  readonly day: string;
  readonly queue: string;
  readonly keepdays: number;
  readonly ageDays: number;
}

/**
 * Queue directories older than their retention: (today − day) in days > keepdays, as APF. Today's
 * directory and future ones are never chosen, whatever keepdays says; names that are not dates
 * are ignored.
 */
export function planAgeRemovals(days: readonly DayDirInfo[], today: string, keepdaysFor: (dirName: string) => number): AgeRemoval[] {
  const out: AgeRemoval[] = [];
  for (const d of days) {
    const ageDays = ageInDays(d.name, today);
    if (!(ageDays > 0)) continue;
    for (const queue of d.queues) {
      const keepdays = keepdaysFor(queue);
      if (ageDays > keepdays) out.push({ day: d.name, queue, keepdays, ageDays });
    }
  }
  return out;
}

/** Day directories the disk-usage rule may remove, oldest first: real dates strictly before today. */
export function diskCandidates(dayNames: readonly string[], today: string): string[] {
  return dayNames.filter((n) => ageInDays(n, today) > 0).sort();
}
