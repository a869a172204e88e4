/**
 * File locking and atomic writes for the HTCondor simulator's state directory (a simulator, NOT
 * HTCondor). Several condor_submit / condor_q / condor_rm processes run at once (the factory runs
 * queues in parallel), so every read-modify-write of a schedd's state happens under an exclusive
 * lock file (written in full, then hard-linked into place, so that it never exists empty). A lock
 * whose owner process is gone, or that is older than `staleMs`, is taken over; waiting is bounded. Files are replaced atomically (temp + rename)
 * so a reader never sees half a file.
 */
import { linkSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApfError } from '../../errors.ts';

/** Options of {@link withLock}. */
export interface LockOptions {
  /** Longest wait for the lock before failing. @defaultValue 30000 */
  readonly timeoutMs?: number;
  /** Age after which a lock held by a live process is considered abandoned. @defaultValue 120000 */
  readonly staleMs?: number;
  /** Stops waiting when aborted. */
  readonly signal?: AbortSignal;
}

let tmpCounter = 0;

/** Writes `data` to `path` atomically: a temporary file in the same directory, then rename. */
export function writeFileAtomic(path: string, data: string): void {
  const tmp = `${path}.${process.pid}.${++tmpCounter}.tmp`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw err;
  }
}

interface LockInfo {
  readonly pid: number;
  readonly host: string;
  readonly at: number;
  readonly text: string;
}

function readLock(path: string): LockInfo | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const [pid = '', host = '', at = ''] = text.split('\n');
  const num = (t: string): number => (/^\d+$/.test(t) ? Number(t) : NaN);
  return { pid: num(pid), host, at: num(at), text };
}

/** Age of a file from its modification time (0 when it is gone). */
function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when the lock described by `info` can be taken over. */
function isStale(info: LockInfo, staleMs: number): boolean {
  if (!Number.isFinite(info.at)) return false; // not a lock this code wrote: only its age could tell
  if (Date.now() - info.at > staleMs) return true;
  return info.host === hostname() && !processAlive(info.pid);
}

/**
 * Removes a stale lock, taking care not to remove a fresh one: the file is renamed aside first and
 * its content compared with what was judged stale; if another process replaced it meanwhile, it
 * is put back. (Best effort: stale locks only exist after a crash.)
 */
function breakLock(path: string, stale: LockInfo): void {
  const aside = `${path}.stale.${process.pid}.${++tmpCounter}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // someone else broke it
  }
  const moved = readLock(aside);
  if (moved !== undefined && moved.text !== stale.text) {
    try {
      linkSync(aside, path); // restore the fresh lock (fails if yet another one exists)
    } catch {
      // a newer lock exists; the one we moved was superseded anyway
    }
  }
  try {
    unlinkSync(aside);
  } catch {
    // ignore
  }
}

/**
 * Creates the lock file with its content in one step: the content is written to a private file
 * first and hard-linked to `path` (which fails if `path` exists), so no process ever sees an empty
 * or half-written lock. Returns false when the lock is held.
 */
function tryCreate(path: string): string | undefined {
  const tmp = `${path}.${process.pid}.${++tmpCounter}.new`;
  const content = `${process.pid}\n${hostname()}\n${Date.now()}\n${tmpCounter}\n`;
  writeFileSync(tmp, content);
  try {
    linkSync(tmp, path);
    return content;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return undefined;
  } finally {
    unlinkSync(tmp);
  }
}

/**
 * Runs `fn` while holding the lock file `path`. Throws `APF_ERR_SIM` when the lock cannot be had
 * within `timeoutMs`, `APF_ERR_ABORTED` when `signal` aborts the wait.
 */
export async function withLock<T>(path: string, fn: () => T | Promise<T>, options: LockOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const staleMs = options.staleMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  for (;;) {
    const mine = tryCreate(path);
    if (mine !== undefined) {
      try {
        return await fn();
      } finally {
        // Release only our own lock: after a very long hold it may have been taken over as stale.
        if (readLock(path)?.text === mine) {
          try {
            unlinkSync(path);
          } catch {
            // already gone
          }
        }
      }
    }
    const info = readLock(path);
    if (info !== undefined && (isStale(info, staleMs) || (!Number.isFinite(info.at) && ageMs(path) > staleMs))) {
      breakLock(path, info);
      continue;
    }
    if (options.signal?.aborted) throw new ApfError('APF_ERR_ABORTED', `waiting for ${path}: cancelled`);
    if (Date.now() >= deadline) {
      throw new ApfError('APF_ERR_SIM', `simulator state is locked (${path}, held by pid ${info?.pid ?? '?'}) for more than ${timeoutMs} ms`, {
        details: { lock: path, holder: info?.pid },
      });
    }
    await sleep(delay + Math.random() * delay);
    delay = Math.min(delay * 2, 50);
  }
}
