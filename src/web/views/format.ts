/**
 * Small formatting helpers shared by the monitor's views. They return plain text: callers still
 * pass every result through `esc()` (or build URLs with the href helpers, which encode).
 */

/** What a view prints for a value apf does not know (APF's monitor printed nothing; we say so). */
export const UNKNOWN = '—';

/** An age in the largest sensible unit: `850 ms`, `42 s`, `7 min`, `3.5 h`, `2 d`. */
export function fmtAge(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return UNKNOWN;
  const a = Math.max(0, ms);
  if (a < 1000) return `${Math.round(a)} ms`;
  if (a < 120_000) return `${Math.round(a / 1000)} s`;
  if (a < 7_200_000) return `${Math.round(a / 60_000)} min`;
  if (a < 172_800_000) return `${(a / 3_600_000).toFixed(1)} h`;
  return `${Math.round(a / 86_400_000)} d`;
}

/** A count, or {@link UNKNOWN} for null. */
export function fmtCount(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? UNKNOWN : String(n);
}

/** An epoch-ms time as `YYYY-MM-DD HH:MM:SS UTC` (the log tree is dated in UTC too). */
export function fmtTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return UNKNOWN;
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** `HH:MM` UTC of an epoch-ms time (plot axes). */
export function fmtClock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 16);
}

/** The monitor page of a queue (the name is one encoded path segment: `/`, `:`, quotes are escaped). */
export function queueHref(name: string): string {
  return `/queues/${encodeURIComponent(name)}`;
}

/** The monitor page of an instance. */
export function instanceHref(id: string): string {
  return `/instances/${encodeURIComponent(id)}`;
}

/** A query string (`?a=1&b=2`, or `''` when every value is empty). */
export function queryString(params: Readonly<Record<string, string | undefined>>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') u.set(k, v);
  const s = u.toString();
  return s === '' ? '' : `?${s}`;
}
