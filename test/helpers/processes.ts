/**
 * Spawning, tracking and killing the real processes integration tests start (redis-server,
 * sentinels), by PID only.
 *
 * Every process started here is remembered until it exits. When the test process ends (normally,
 * through `process.exit`, after an uncaught error, or on SIGTERM/SIGINT/SIGHUP — vitest ends its
 * fork workers with SIGTERM, which skips Node's `exit` event) the ones still running are SIGKILLed
 * by PID and the temporary directories registered here are removed, so a test that forgets its teardown
 * leaves nothing behind. Nothing is ever killed by name: only PIDs this process spawned, and only
 * while Node has not yet seen them exit (so a PID can never have been reused by then).
 *
 * Children are not detached: they share the test runner's process group, so a Ctrl-C in the
 * terminal reaches them too. Their stdio never holds a pipe to the parent (stdin is /dev/null,
 * stdout and stderr go to a file or nowhere), so a parent waiting for output can never hang on them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApfError } from '../../src/errors.ts';

/** How a tracked process ended. */
export interface ProcessExit {
  /** Exit status, or `null` when a signal ended it. */
  readonly code: number | null;
  /** The signal that ended it, or `null` when it exited by itself. */
  readonly signal: NodeJS.Signals | null;
}

/** Options for {@link spawnTracked}. */
export interface SpawnTrackedOptions {
  /** Short label for messages (e.g. `redis-server:41234`). @defaultValue the file name */
  name?: string;
  /** Working directory. @defaultValue the test process's */
  cwd?: string;
  /** Extra environment variables, merged over `process.env`. */
  env?: Readonly<Record<string, string>>;
  /** File that receives the child's stdout and stderr (appended). @defaultValue discarded */
  outputFile?: string;
  /** Appended to the "not found" error, e.g. how to install the program. */
  installHint?: string;
}

/** A child process started by {@link spawnTracked}. */
export interface TrackedProcess {
  /** The child's PID. */
  readonly pid: number;
  /** Label for messages. */
  readonly name: string;
  /** Resolves when the child has exited (never rejects). */
  readonly exited: Promise<ProcessExit>;
  /** True until Node has seen the child exit. */
  running(): boolean;
  /** How it ended, once it has. */
  exitInfo(): ProcessExit | undefined;
  /** Sends `sig` by PID while the child runs; false when it had already exited. */
  signal(sig: NodeJS.Signals): boolean;
  /**
   * SIGTERM, then SIGKILL when it has not exited after `graceMs`; resolves once it has exited.
   * @throws ApfError `APF_ERR_COMMAND_TIMEOUT` when even SIGKILL did not end it within 5 s.
   */
  stop(graceMs?: number): Promise<ProcessExit>;
  /** SIGKILL (a crash, no cleanup in the child); resolves once it has exited. */
  kill(): Promise<ProcessExit>;
}

/** Default time between SIGTERM and SIGKILL in {@link TrackedProcess.stop}. */
export const STOP_GRACE_MS = 5000;

/** How long to wait for an exit after SIGKILL before declaring the process unkillable. */
const KILL_WAIT_MS = 5000;

const live = new Map<number, TrackedProcess>();
const tempDirs = new Set<string>();
let hooked = false;

/** Kills what is still running and removes registered temp dirs; runs synchronously at process exit. */
function cleanupAtExit(): void {
  const killed = [...live.values()].filter((proc) => proc.signal('SIGKILL'));
  live.clear();
  // SIGKILL takes effect asynchronously: wait (synchronously, up to 1 s) until the children can no
  // longer write, or a server still flushing its AOF could recreate files under the rm below.
  const until = performance.now() + 1000;
  while (killed.some((proc) => isPidAlive(proc.pid)) && performance.now() < until) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
  }
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // A child killed a moment ago may still be writing into it; nothing more can be done at exit.
    }
  }
  tempDirs.clear();
}

/** Signals that end the test process without an `exit` event (vitest stops its fork workers with SIGTERM). */
const FATAL_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

/**
 * Cleans up on a fatal signal, then lets the signal do what it would have done: when no one else
 * listens for it, it is raised again with this handler removed, so the default action (terminate)
 * applies; when someone else listens, their handler decides.
 */
function onFatalSignal(sig: NodeJS.Signals): void {
  cleanupAtExit();
  for (const s of FATAL_SIGNALS) process.off(s, onFatalSignal);
  if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
}

function installExitHook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', cleanupAtExit);
  for (const s of FATAL_SIGNALS) process.on(s, onFatalSignal);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves with `p`'s value, or with `undefined` once `ms` have passed (the timer never outlives the race). */
async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Wraps a spawned child into a {@link TrackedProcess} and remembers it until it exits. */
function track(child: ChildProcess, pid: number, name: string): TrackedProcess {
  let info: ProcessExit | undefined;
  // A later 'error' (e.g. a failed kill) must not become an uncaught exception in the test process.
  child.on('error', () => undefined);
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('exit', (code, signal) => {
      info = { code, signal };
      live.delete(pid);
      resolve(info);
    });
  });
  const waitExit = async (ms: number): Promise<ProcessExit | undefined> => within(exited, ms);
  const proc: TrackedProcess = {
    pid,
    name,
    exited,
    running: () => info === undefined,
    exitInfo: () => info,
    signal(sig) {
      if (info !== undefined) return false;
      try {
        process.kill(pid, sig);
        return true;
      } catch {
        return false; // ESRCH: exited, and Node has not processed the exit yet.
      }
    },
    async stop(graceMs = STOP_GRACE_MS) {
      if (info !== undefined) return info;
      proc.signal('SIGTERM');
      const done = await waitExit(graceMs);
      return done ?? proc.kill();
    },
    async kill() {
      if (info !== undefined) return info;
      proc.signal('SIGKILL');
      const done = await waitExit(KILL_WAIT_MS);
      if (done !== undefined) return done;
      throw new ApfError('APF_ERR_COMMAND_TIMEOUT', `${name} (pid ${pid}) did not exit within ${KILL_WAIT_MS} ms of SIGKILL`, {
        details: { pid, name },
      });
    },
  };
  live.set(pid, proc);
  return proc;
}

/**
 * Starts `file args…` (no shell) and tracks it: it is SIGKILLed at test-process exit if still
 * running. Resolves once the process exists.
 *
 * @throws ApfError `APF_ERR_COMMAND_FAILED` when the program cannot be started (the message names
 *   it and adds {@link SpawnTrackedOptions.installHint} when it is not found).
 */
export async function spawnTracked(file: string, args: readonly string[], options: SpawnTrackedOptions = {}): Promise<TrackedProcess> {
  installExitHook();
  const name = options.name ?? file;
  const out = options.outputFile === undefined ? 'ignore' : openSync(options.outputFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(file, args, {
      stdio: ['ignore', out, out],
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      env: options.env === undefined ? process.env : { ...process.env, ...options.env },
    });
  } finally {
    // The child has its own copy of the descriptor now.
    if (typeof out === 'number') closeSync(out);
  }
  const pid = await new Promise<number>((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid as number));
    child.once('error', (err: NodeJS.ErrnoException) => {
      const hint = options.installHint === undefined ? '' : `; ${options.installHint}`;
      const message = err.code === 'ENOENT' ? `${file} was not found on PATH${hint}` : `${file} could not be started: ${err.message}`;
      reject(new ApfError('APF_ERR_COMMAND_FAILED', message, { cause: err, details: { file, args: [...args] } }));
    });
  });
  return track(child, pid, name);
}

/** The tracked processes that are still running. */
export function runningTracked(): TrackedProcess[] {
  return [...live.values()];
}

/** Stops every tracked process that is still running (SIGTERM, then SIGKILL after `graceMs`). */
export async function stopAllTracked(graceMs = STOP_GRACE_MS): Promise<void> {
  await Promise.all(runningTracked().map((p) => p.stop(graceMs)));
}

/**
 * Whether a process with this PID exists and is not a zombie. Works for any PID (e.g. one printed
 * by another process); a zombie counts as dead because it will never run again.
 */
export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S …"; comm may contain spaces or parentheses, so split at the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // No procfs: trust kill(0).
  }
}

/**
 * Creates a fresh directory under the system temp dir, removed when the test process exits
 * (callers may remove it earlier with {@link removeDir}).
 */
export function makeTempDir(prefix: string): string {
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** Creates `dir` (and parents) when missing. */
export function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
}

/** Removes a directory now and forgets it for the exit cleanup. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  tempDirs.delete(dir);
}

/** Options for {@link waitUntil}. */
export interface WaitUntilOptions {
  /** Deadline in milliseconds. */
  timeoutMs: number;
  /** Pause between attempts. @defaultValue 50 ms */
  intervalMs?: number;
  /** Called once the deadline passed, for a message naming what was last seen. */
  describe?: () => string;
}

/**
 * Polls `probe` (sync or async) until it returns something other than `undefined` (errors and
 * rejections count as "not yet"), and resolves with that value.
 *
 * @throws ApfError `APF_ERR_COMMAND_TIMEOUT` naming `what` (and the last error) when the deadline passes.
 */
export async function waitUntil<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, options: WaitUntilOptions): Promise<T> {
  const deadline = performance.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (performance.now() >= deadline) break;
    await sleep(options.intervalMs ?? 50);
  }
  const seen = options.describe?.() ?? (lastError instanceof Error ? `last error: ${lastError.message}` : '');
  throw new ApfError('APF_ERR_COMMAND_TIMEOUT', `timed out after ${options.timeoutMs} ms waiting for ${what}${seen === '' ? '' : ` (${seen})`}`, {
    cause: lastError,
    details: { what, timeoutMs: options.timeoutMs },
  });
}
