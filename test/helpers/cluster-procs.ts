/**
 * Process-level helpers of the cluster harness (cluster.ts): the machine-wide lock that keeps
 * cluster test files from running at once, the instances' JSON logs, and their child processes
 * (the simulated condor tools) found and killed by PID.
 */
import { existsSync, linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPidAlive, waitUntil, type TrackedProcess } from './processes.ts';

/** A pino log line. */
export interface LogRecord {
  readonly level: number;
  readonly time: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

const LOCK_FILE = join(tmpdir(), 'apf-cluster-tests.lock');
/**
 * How long a cluster test file waits for the machine lock: the other cluster files may all be
 * queued before it (7 files of 20–40 s). Test files give their beforeAll {@link CLUSTER_HOOK_TIMEOUT_MS}.
 */
export const LOCK_WAIT_MS = 360_000;
/** beforeAll timeout for cluster test files: the lock wait plus the file's own start-up. */
export const CLUSTER_HOOK_TIMEOUT_MS = LOCK_WAIT_MS + 120_000;

/** Takes the machine-wide cluster-test lock (waiting up to `timeoutMs`); returns its release. */
export async function takeMachineLock(timeoutMs: number): Promise<() => void> {
  await waitUntil(
    'the machine-wide cluster-test lock (another cluster test file is running)',
    () => {
      // link(2) publishes the file with its content at once, or fails when the lock exists.
      const mine = `${LOCK_FILE}.${process.pid}`;
      writeFileSync(mine, String(process.pid));
      try {
        linkSync(mine, LOCK_FILE);
        return true;
      } catch {
        const holder = Number(existsSync(LOCK_FILE) ? readFileSync(LOCK_FILE, 'utf8') : '');
        // A holder that died without releasing frees the lock.
        if (Number.isInteger(holder) && holder > 0 && !isPidAlive(holder)) rmSync(LOCK_FILE, { force: true });
        return undefined;
      } finally {
        rmSync(mine, { force: true });
      }
    },
    { timeoutMs, intervalMs: 250 },
  );
  return () => {
    if (existsSync(LOCK_FILE) && readFileSync(LOCK_FILE, 'utf8') === String(process.pid)) rmSync(LOCK_FILE, { force: true });
  };
}

/**
 * SIGKILLs an instance and the simulated condor tools it runs. Those run in process groups of
 * their own (exec.ts), so they would outlive it and write into the state dirs: the instance is
 * stopped first (it cannot spawn more), then each child's group is killed, then the instance.
 */
export async function killTree(proc: TrackedProcess): Promise<void> {
  if (!proc.running()) return;
  proc.signal('SIGSTOP');
  for (const child of childProcesses(proc.pid)) {
    try {
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      // Only a group this child leads (runCommand's detached children), never ours.
      process.kill(pgrp === child.pid ? -child.pid : child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await proc.kill().catch(() => undefined);
}

/** The child processes of `pid` (Node spawns from its main thread), with their command lines. */
export function childProcesses(pid: number): Array<{ pid: number; cmdline: string }> {
  const out: Array<{ pid: number; cmdline: string }> = [];
  let children: string[];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter((x) => x !== '');
  } catch {
    return out;
  }
  for (const child of children) {
    try {
      out.push({ pid: Number(child), cmdline: readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0').join(' ') });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** Parses a log file's JSON lines. */
export function readLogFile(path: string): LogRecord[] {
  if (!existsSync(path)) return [];
  const out: LogRecord[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as LogRecord);
    } catch {
      // a line cut by a SIGKILL
    }
  }
  return out;
}
