/**
 * Directory listings of the log server (apf-behaviour §6.1): dot-files hidden, directories with a
 * trailing `/`, symlinks shown only when they resolve inside the log root. A day's queue directory
 * can hold tens of thousands of pilot files, so names are sorted first and only the first
 * {@link MAX_LISTED} are stat'ed and shown.
 */
import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isInside } from './safe-path.ts';

/** One row of a listing. */
export interface ListingEntry {
  readonly name: string;
  readonly isDir: boolean;
  /** Epoch ms. */
  readonly mtimeMs: number;
  /** Bytes (directories: 0, shown as `-`). */
  readonly size: number;
}

/** A listing. */
export interface Listing {
  readonly entries: readonly ListingEntry[];
  /** Entries not shown because of {@link MAX_LISTED}. */
  readonly omitted: number;
}

/** Most entries shown in one listing. */
export const MAX_LISTED = 10_000;

/** How many entries are stat'ed at once. */
const STAT_BATCH = 64;

/** Code-point order, as `ls` in the C locale (stable for every name, unlike localeCompare). */
function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One entry, or undefined when it vanished, cannot be read, or is a symlink out of the root. */
async function entryOf(dirReal: string, rootReal: string, d: Dirent): Promise<ListingEntry | undefined> {
  const path = join(dirReal, d.name);
  try {
    if (d.isSymbolicLink() && !isInside(rootReal, await realpath(path))) return undefined;
    const s = await stat(path);
    if (!s.isDirectory() && !s.isFile()) return undefined;
    return { name: d.name, isDir: s.isDirectory(), mtimeMs: s.mtimeMs, size: s.isDirectory() ? 0 : s.size };
  } catch {
    return undefined;
  }
}

/** Reads the listing of `dirReal` (a real directory inside `rootReal`). */
export async function readListing(dirReal: string, rootReal: string, max = MAX_LISTED): Promise<Listing> {
  const dirents = (await readdir(dirReal, { withFileTypes: true })).filter((d) => !d.name.startsWith('.'));
  dirents.sort((a, b) => byName(a.name, b.name));
  const shown = dirents.slice(0, max);
  const entries: ListingEntry[] = [];
  for (let i = 0; i < shown.length; i += STAT_BATCH) {
    const batch = await Promise.all(shown.slice(i, i + STAT_BATCH).map((d) => entryOf(dirReal, rootReal, d)));
    for (const e of batch) if (e !== undefined) entries.push(e);
  }
  return { entries, omitted: dirents.length - shown.length };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `dd-Mon-YYYY HH:MM` in UTC (APF's listing format; UTC like the day directories). */
export function formatListingDate(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}-${MONTHS[d.getUTCMonth()] ?? '???'}-${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}`;
}

/** APF's size column: B, K, M, G, T with one decimal (`512.0B`, `2.5K`). */
export function formatSize(bytes: number): string {
  let n = bytes;
  for (const unit of ['B', 'K', 'M', 'G']) {
    if (n < 1024) return `${n.toFixed(1)}${unit}`;
    n /= 1024;
  }
  return `${n.toFixed(1)}T`;
}
