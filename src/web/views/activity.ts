/**
 * Pure numbers derived from cycle records (CycleRecord, newest first as stored): pilots created
 * per time bucket (apfmon's "activity": jobs created over the last 2 h in 5-minute buckets) and
 * over a window (the "created" column), and how many records a window can need.
 */
import type { CycleRecord } from '../../coordination/records.ts';

/** apfmon's activity window and bucket. */
export const ACTIVITY_WINDOW_MS = 2 * 3_600_000;
export const ACTIVITY_BUCKET_MS = 5 * 60_000;

/**
 * Pilots created (jobIds) per bucket over `[now − windowMs, now)`, oldest bucket first. A record
 * counts in the bucket of its end time (`at`, when its pilots were submitted).
 */
export function activityBuckets(
  records: Iterable<Pick<CycleRecord, 'at' | 'jobIds'>>,
  now: number,
  windowMs = ACTIVITY_WINDOW_MS,
  bucketMs = ACTIVITY_BUCKET_MS,
): number[] {
  const n = Math.max(1, Math.ceil(windowMs / bucketMs));
  const out = new Array<number>(n).fill(0);
  const start = now - n * bucketMs;
  for (const r of records) {
    if (r.at < start || r.at >= now) continue;
    const i = Math.floor((r.at - start) / bucketMs);
    out[i] = (out[i] ?? 0) + r.jobIds.length;
  }
  return out;
}

/** Pilots created by records that ended at or after `since`. */
export function createdSince(records: Iterable<Pick<CycleRecord, 'at' | 'jobIds'>>, since: number): number {
  let n = 0;
  for (const r of records) if (r.at >= since) n += r.jobIds.length;
  return n;
}

/**
 * How many of a queue's newest records to read to cover `windowMs`: the scheduled cycles in the
 * window doubled (admin "run now" cycles come on top) plus a margin, capped by what is kept.
 */
export function recordsForWindow(sleepS: number, windowMs: number, kept: number): number {
  const perWindow = Math.ceil(windowMs / Math.max(1000, sleepS * 1000));
  return Math.max(1, Math.min(kept, 2 * perWindow + 5));
}
