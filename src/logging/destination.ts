/**
 * The daemon's log file (`apf start --log FILE`): a pino destination that logrotate can rotate
 * without restarting apf. logrotate renames the file, creates a fresh one and sends SIGUSR1
 * (deploy/logrotate/apf); apf then reopens the path, so records written before the signal land in
 * the renamed file and every later record in the new one — none is lost (APF could not reopen
 * its log and had to be restarted on every rotation).
 *
 * SIGUSR1, not SIGHUP: SIGHUP already means "reload the configuration" for `apf start`. A
 * listener for SIGUSR1 also stops Node from starting its inspector on that signal.
 *
 * Writes are synchronous (as on stderr): a crash loses no buffered record, and a reopen switches
 * files at an exact record boundary.
 */
import { closeSync, fchownSync, openSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { pino, type DestinationStream } from 'pino';
import { ApfError, type ErrorCode } from '../errors.ts';

/**
 * Code of "the log file cannot be opened". The --log argument names a file apf cannot use, so a
 * usage error until a dedicated `APF_ERR_LOG_FILE` code exists in src/errors.ts.
 */
const LOG_FILE_ERROR: ErrorCode = 'APF_ERR_LOG_FILE';

/** The signal that reopens the log file (logrotate's postrotate sends it). */
export const REOPEN_SIGNAL: NodeJS.Signals = 'SIGUSR1';

/** Options for {@link openLogFile}. */
export interface LogFileOptions {
  /** Absolute path of the log file; created when missing, appended to otherwise. */
  readonly path: string;
  /** Permissions of a file created here (logrotate's `create` sets them after a rotation). @defaultValue 0o640 */
  readonly mode?: number;
  /** Signal that reopens the file; `null` installs no handler (callers then call {@link LogFile.reopen}). @defaultValue {@link REOPEN_SIGNAL} */
  readonly reopenSignal?: NodeJS.Signals | null;
}

/** An open log file. */
export interface LogFile {
  /** The path given (what is reopened). */
  readonly path: string;
  /** The pino destination (pass it to `createLogger({ destination })`). */
  readonly stream: DestinationStream;
  /**
   * Opens the path again and sends later records there. When that fails (the directory is gone
   * or not writable) records keep going to the old file and the failure is reported to the
   * {@link LogFile.onReopen} listeners.
   */
  reopen(): void;
  /** Called after each reopen with `null`, or with the error when the path could not be opened. */
  onReopen(listener: (err: Error | null) => void): void;
  /** Gives the file to `uid:gid` (before a privilege drop: the user must be able to append). */
  chown(uid: number, gid: number): void;
  /** Removes the signal handler and closes the file. Idempotent. */
  close(): void;
}

/** The SonicBoom behind `pino.destination`: only what this module uses. */
interface SonicBoomLike extends DestinationStream {
  fd: number;
  reopen(file?: string): void;
  flushSync(): void;
  destroy(): void;
  on(event: 'error' | 'ready', listener: (err?: Error) => void): unknown;
  once(event: 'ready', listener: () => void): unknown;
}

/**
 * Opens `path` for the daemon's records and, unless told otherwise, reopens it on SIGUSR1.
 *
 * @throws ApfError {@link LOG_FILE_ERROR} when the path is not absolute or cannot be opened
 *   (missing directory, permissions) — checked here, at start, because pino's synchronous
 *   destination would otherwise drop that error silently.
 */
export function openLogFile(options: LogFileOptions): LogFile {
  const { path } = options;
  if (!isAbsolute(path)) throw new ApfError(LOG_FILE_ERROR, `log file path must be absolute: ${path}`);
  const mode = options.mode ?? 0o640;
  try {
    closeSync(openSync(path, 'a', mode));
  } catch (err) {
    throw new ApfError(LOG_FILE_ERROR, `cannot open the log file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
      cause: err,
      details: { path },
    });
  }
  const sonic = pino.destination({ dest: path, sync: true, append: true, mkdir: false, mode }) as unknown as SonicBoomLike;
  const listeners: Array<(err: Error | null) => void> = [];
  // SonicBoom throws a failed synchronous open from reopen() and also emits it as 'error' on the
  // next tick, which pino's own listener re-emits once more: each error is reported once.
  let lastError: Error | undefined;
  const notify = (err: Error | null): void => {
    if (err !== null) {
      if (err === lastError) return;
      lastError = err;
    }
    for (const l of listeners) l(err);
  };
  // Without a listener SonicBoom drops open errors in sync mode, and an unhandled 'error' event
  // would end the process: a failed reopen must only be reported.
  sonic.on('error', (err) => notify(err ?? new Error('log file error')));
  let closed = false;
  const reopen = (): void => {
    if (closed) return;
    const before = sonic.fd;
    try {
      // Opened here first: when that fails SonicBoom is not asked at all, as a failed reopen leaves
      // it waiting to close the current descriptor at the next successful one (twice, then).
      closeSync(openSync(path, 'a', mode));
      sonic.reopen();
    } catch (err) {
      notify(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    // In sync mode the new descriptor is in place now; an unchanged one means the open failed
    // (reported through 'error' on the next tick) and records still go to the old file.
    if (sonic.fd !== before) notify(null);
  };
  const signal = options.reopenSignal === undefined ? REOPEN_SIGNAL : options.reopenSignal;
  const onSignal = (): void => reopen();
  if (signal !== null) process.on(signal, onSignal);
  return {
    path,
    stream: sonic,
    reopen,
    onReopen: (listener) => void listeners.push(listener),
    chown(uid, gid) {
      fchownSync(sonic.fd, uid, gid);
    },
    close() {
      if (closed) return;
      closed = true;
      if (signal !== null) process.off(signal, onSignal);
      try {
        sonic.flushSync();
      } catch {
        // Nothing buffered in sync mode; a failing flush must not prevent the close.
      }
      sonic.destroy();
    },
  };
}
