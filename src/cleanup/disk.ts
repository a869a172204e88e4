/** How full the filesystem holding a path is, and how many bytes a tree holds (without following symlinks). */
import { lstat, readdir, statfs } from 'node:fs/promises';
import { join } from 'node:path';

/** Used percentage (0–100) of the filesystem holding `path`. */
export type DiskUsageFn = (path: string) => Promise<number>;

/**
 * `df`'s Use%: used / (used + available to unprivileged users) × 100, so the blocks reserved for
 * root count as full, as an operator reading `df` expects.
 */
export const statfsUsage: DiskUsageFn = async (path) => {
  const s = await statfs(path);
  const used = s.blocks - s.bfree;
  const total = used + s.bavail;
  return total <= 0 ? 0 : (used / total) * 100;
};

/** Bytes of the files below `path` (symlinks counted as themselves, never followed); unreadable parts count 0. */
export async function treeBytes(path: string): Promise<number> {
  let total = 0;
  const walk = async (p: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(p, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const child = join(p, e.name);
      if (e.isDirectory()) await walk(child);
      else {
        try {
          total += (await lstat(child)).size;
        } catch {
          // vanished meanwhile
        }
      }
    }
  };
  try {
    const s = await lstat(path);
    if (!s.isDirectory()) return s.size;
  } catch {
    return 0;
  }
  await walk(path);
  return total;
}
