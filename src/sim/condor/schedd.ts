/**
 * One simulated schedd session (HTCondor simulator, NOT HTCondor): take the schedd's lock, read
 * its queue, advance the timeline to now (writing the jobs' files), let the tool look or act,
 * then append finished jobs to history and write the queue back — only if something changed, so
 * that read-only queries of a 100k-job queue do not rewrite it.
 */
import { mkdirSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { ApfError } from '../../errors.ts';
import type { SimConfig } from './config.ts';
import { JobFileWriter } from './joblog.ts';
import { withLock } from './lock.ts';
import { AdBuilder } from './materialize.ts';
import { appendHistory, lockPath, pruneClusters, readHistory, readQueue, scheddDir, writeQueue, type HistoryData, type JobRecord, type QueueState } from './store.ts';
import { advance } from './timeline.ts';

/** What every simulated tool runs with. */
export interface ToolContext {
  readonly stateDir: string;
  readonly config: SimConfig;
  /** Simulated now, epoch seconds (wall clock + `clockOffsetSeconds`, or injected). */
  readonly now: number;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Reads standard input (condor_submit -). */
  readonly readStdin: () => Promise<string>;
  readonly signal: AbortSignal | undefined;
  /** Longest wait for a schedd lock. */
  readonly lockTimeoutMs: number;
}

/** The default schedd (no `-name`). */
export const LOCAL_SCHEDD = 'local';

/** The submitting user (Owner). */
export function currentUser(env: Readonly<Record<string, string | undefined>>): string {
  const fromEnv = env['USER'] ?? env['LOGNAME'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  try {
    return userInfo().username;
  } catch {
    return 'nobody';
  }
}

/** Host name shown for a schedd (GlobalJobId, messages): the machine for `local`, else the name. */
export function scheddHost(name: string): string {
  return name === LOCAL_SCHEDD ? hostname() : name;
}

/** Thrown for a `-name` that the state does not know (config `schedds`): the tools print a connection failure. */
export function unknownSchedd(name: string): ApfError {
  return new ApfError('APF_ERR_SIM', `unknown schedd ${name}`, { details: { unreachable: true, schedd: name } });
}

/** True for errors that the tools report as "cannot reach the schedd". */
export function isUnreachable(err: unknown): boolean {
  return err instanceof ApfError && (err.details['unreachable'] === true || err.details['lock'] !== undefined);
}

/** The live view a tool gets inside a session. */
export interface ScheddSession {
  readonly name: string;
  readonly host: string;
  readonly queue: QueueState;
  readonly ads: AdBuilder;
  readonly files: JobFileWriter;
  /** Marks the queue as modified (it is written back at the end). */
  changed(): void;
  /** Sends jobs (already updated) to history and out of the queue. */
  finish(jobs: readonly JobRecord[]): void;
}

/**
 * Runs `fn` on schedd `name` under its lock, after advancing the timeline. Throws
 * {@link unknownSchedd} for a name the config does not list.
 */
export async function withSchedd<T>(ctx: ToolContext, name: string, fn: (s: ScheddSession) => T): Promise<T> {
  if (ctx.config.schedds !== undefined && !ctx.config.schedds.includes(name) && name !== LOCAL_SCHEDD) throw unknownSchedd(name);
  const dir = scheddDir(ctx.stateDir, name);
  mkdirSync(dir, { recursive: true });
  const host = scheddHost(name);
  return withLock(
    lockPath(dir),
    () => {
      const queue = readQueue(dir, ctx.config.firstClusterId, ctx.now);
      const files = new JobFileWriter(host);
      const adv = advance(queue, ctx.config, ctx.now);
      files.events(queue.clusters, adv.events);
      let dirty = adv.events.length > 0;
      const finished: JobRecord[] = [...adv.finished];
      const session: ScheddSession = {
        name,
        host,
        queue,
        ads: new AdBuilder(host),
        files,
        changed: () => {
          dirty = true;
        },
        finish: (jobs) => {
          if (jobs.length === 0) return;
          const gone = new Set(jobs);
          queue.jobs = queue.jobs.filter((j) => !gone.has(j));
          for (const j of jobs) finished.push(j);
          dirty = true;
        },
      };
      try {
        return fn(session);
      } finally {
        // Also when the tool failed: the timeline's transitions (and the job files already
        // written for them) are kept. Tools only modify the queue once nothing can fail.
        if (dirty) {
          appendHistory(dir, queue, finished);
          pruneClusters(queue);
          writeQueue(dir, queue);
        }
      }
    },
    { timeoutMs: ctx.lockTimeoutMs, ...(ctx.signal === undefined ? {} : { signal: ctx.signal }) },
  );
}

/** Reads a schedd's history (under its lock, after advancing, so just-finished jobs are included). */
export async function readScheddHistory(ctx: ToolContext, name: string): Promise<{ history: HistoryData; host: string }> {
  const host = scheddHost(name);
  await withSchedd(ctx, name, () => undefined);
  return { history: readHistory(scheddDir(ctx.stateDir, name)), host };
}
