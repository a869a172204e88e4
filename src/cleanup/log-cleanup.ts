/**
 * The hourly log cleanup timer every instance runs (APF's CleanLogs thread: every 3600 s). A pass
 * never overlaps another; a failed pass is logged and the next one runs on time; the timer never
 * keeps the process alive.
 */
import type { ApfConfig } from '../config/types.ts';
import { describeError } from '../errors.ts';
import type { Logger } from '../logging/logger.ts';
import { cleanLogsOnce, type CleanupReport } from './clean.ts';
import { statfsUsage, type DiskUsageFn } from './disk.ts';

/** APF's hard-coded period. */
export const CLEANUP_INTERVAL_MS = 3_600_000;
/** Delay of the first pass after start, so that it does not compete with start-up. */
export const CLEANUP_FIRST_DELAY_MS = 60_000;

/** Options of {@link startLogCleanup}. */
export interface LogCleanupOptions {
  /** The configuration in use (read at every pass: a reload changes retentions). */
  readonly config: () => ApfConfig;
  readonly logger: Logger;
  /** Epoch ms. @defaultValue Date.now */
  readonly now?: () => number;
  /** Used percentage of the filesystem holding a path. @defaultValue statfs, as `df` */
  readonly diskUsage?: DiskUsageFn;
  /** @defaultValue {@link CLEANUP_INTERVAL_MS} */
  readonly intervalMs?: number;
  /** @defaultValue {@link CLEANUP_FIRST_DELAY_MS} */
  readonly firstDelayMs?: number;
}

/** A running cleanup timer. */
export interface LogCleanup {
  /** Stops the timer and the pass in progress (between two removals); resolves when it has ended. */
  stop(): Promise<void>;
  /** Runs a pass now (or joins the one in progress). */
  runOnce(): Promise<CleanupReport>;
}

/** Starts the hourly cleanup. */
export function startLogCleanup(o: LogCleanupOptions): LogCleanup {
  const now = o.now ?? Date.now;
  const diskUsage = o.diskUsage ?? statfsUsage;
  const interval = o.intervalMs ?? CLEANUP_INTERVAL_MS;
  const stopper = new AbortController();
  let running: Promise<CleanupReport> | undefined;
  let timer: NodeJS.Timeout | undefined;

  const runOnce = (): Promise<CleanupReport> => {
    // Through a promise: a throwing config() rejects the pass instead of throwing at the caller.
    running ??= Promise.resolve()
      .then(() => cleanLogsOnce({ config: o.config(), logger: o.logger, now: now(), diskUsage, signal: stopper.signal }))
      .finally(() => {
        running = undefined;
      });
    return running;
  };

  const schedule = (ms: number): void => {
    if (stopper.signal.aborted) return;
    timer = setTimeout(() => {
      runOnce()
        .catch((err: unknown) => o.logger.warn({ component: 'cleanlogs', err: describeError(err) }, 'log cleanup pass failed'))
        .finally(() => schedule(interval));
    }, ms);
    timer.unref();
  };
  schedule(o.firstDelayMs ?? CLEANUP_FIRST_DELAY_MS);

  return {
    runOnce,
    async stop() {
      stopper.abort();
      if (timer !== undefined) clearTimeout(timer);
      await running?.catch(() => undefined);
    },
  };
}
