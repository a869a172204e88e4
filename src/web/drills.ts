/**
 * Failover drills started through this web server — from the admin API (`POST /api/v1/drills`)
 * or the monitor's form (`/ui/drill`) — share one store per server: at most one runs at a time on
 * an instance, whichever door it came through, and the monitor shows the latest, wherever it was
 * started. A run (progress lines, then the report or the error) is kept in memory and in Redis
 * (`<prefix>:drill:<id>`, a week), so `GET /api/v1/drills/:id` on any instance can answer.
 * Every start and outcome is recorded in the admin log.
 */
import { randomUUID } from 'node:crypto';
import { describeError } from '../errors.ts';
import { recordAdminAction } from '../coordination/control.ts';
import type { AdminContext } from '../core/admin.ts';
import type { DrillOptions, DrillReport } from '../core/drill.ts';
import type { WebDeps } from './deps.ts';
import { HttpError } from './router.ts';

/** Starts a drill and resolves with its report (src/core/drill.ts `runDrill`; tests inject a stub). */
export type DrillStarter = (ctx: AdminContext, opts: DrillOptions) => Promise<DrillReport>;

/** What a drill is asked to do (the body of `POST /api/v1/drills`; every field optional). */
export interface DrillRequest {
  /** The victim; default: the live instance that ran the most recent cycles. */
  readonly instance?: string;
  /** Give up waiting for a queue's failover after this long (seconds). */
  readonly timeoutSeconds?: number;
}

/** A drill as `GET /api/v1/drills/:id` shows it. */
export interface DrillRun {
  readonly id: string;
  readonly state: 'running' | 'done' | 'failed';
  /** Instance that runs the drill (where the request arrived). */
  readonly runner: string;
  /** Who started it. */
  readonly by: string;
  readonly request: DrillRequest;
  /** Epoch ms. */
  readonly startedAt: number;
  readonly endedAt: number | null;
  /** Progress lines so far. */
  readonly progress: readonly string[];
  readonly report: DrillReport | null;
  /** Why it failed (state `failed`). */
  readonly error: string | null;
}

/** How long a drill's record stays in Redis, seconds. */
export const DRILL_TTL_S = 7 * 86_400;
/** Drills kept in memory (the oldest finished ones are forgotten first; Redis keeps them). */
const DRILLS_IN_MEMORY = 100;

/** Mutable form of a {@link DrillRun} while it runs. */
interface LiveDrill {
  id: string;
  state: DrillRun['state'];
  runner: string;
  by: string;
  request: DrillRequest;
  startedAt: number;
  endedAt: number | null;
  progress: string[];
  report: DrillReport | null;
  error: string | null;
}

/** Drills per server (keyed by its deps): a drill outlives the request that started it. */
const stores = new WeakMap<WebDeps, Map<string, LiveDrill>>();

function drillsOf(deps: WebDeps): Map<string, LiveDrill> {
  let runs = stores.get(deps);
  if (runs === undefined) stores.set(deps, (runs = new Map<string, LiveDrill>()));
  return runs;
}

/** True when `v` looks like a stored {@link DrillRun}. */
export function isDrillRun(v: unknown): v is DrillRun {
  const r = v as Partial<DrillRun> | null;
  return typeof r === 'object' && r !== null && typeof r.id === 'string' && (r.state === 'running' || r.state === 'done' || r.state === 'failed');
}

/** A drill this server started, by id. */
export function localDrill(deps: WebDeps, id: string): DrillRun | undefined {
  return drillsOf(deps).get(id);
}

/** The drill this server started last, if any. */
export function latestDrill(deps: WebDeps): DrillRun | undefined {
  let latest: LiveDrill | undefined;
  for (const r of drillsOf(deps).values()) if (latest === undefined || r.startedAt >= latest.startedAt) latest = r;
  return latest;
}

/** One line for the admin log. */
export function drillSummary(r: DrillReport): string {
  const s = (ms: number | null): string => (ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`);
  return `victim ${r.victim}, max gap ${s(r.maxGapMs)}, missed ${r.missed.length}, duplicates ${r.duplicates.length}`;
}

/**
 * Starts a drill in the background and returns its run at once (state `running`). Throws
 * HttpError 409 while another drill started through this server is still running.
 */
export async function launchDrill(deps: WebDeps, ctx: AdminContext, request: DrillRequest, start: DrillStarter): Promise<DrillRun> {
  const log = deps.logger.child({ component: 'web-admin' });
  const runs = drillsOf(deps);
  const busy = [...runs.values()].find((r) => r.state === 'running');
  if (busy !== undefined) throw new HttpError(409, `drill ${busy.id} (started by ${busy.by}) is still running on this instance`);
  const save = (run: LiveDrill): Promise<void> =>
    deps.redis
      .set(deps.keys.drill(run.id), JSON.stringify(run), 'EX', DRILL_TTL_S)
      .then(() => undefined)
      .catch((err: unknown) => log.warn({ drill: run.id, error: describeError(err) }, 'drill progress not stored in Redis'));
  const record = (target: string, at: number, result: string): Promise<void> =>
    recordAdminAction(deps.redis, deps.keys, { who: ctx.who, action: 'drill', target, at, result }).catch((e: unknown) =>
      log.warn({ error: describeError(e) }, 'admin action not recorded'),
    );
  const target = request.instance ?? 'auto';
  const run: LiveDrill = {
    id: randomUUID(),
    state: 'running',
    runner: deps.instanceId,
    by: ctx.who,
    request,
    startedAt: deps.now(),
    endedAt: null,
    progress: [],
    report: null,
    error: null,
  };
  runs.set(run.id, run);
  for (const [id, r] of runs) {
    if (runs.size <= DRILLS_IN_MEMORY) break;
    if (r.state !== 'running') runs.delete(id);
  }
  await save(run);
  await record(target, run.startedAt, `started drill ${run.id}`);
  log.info({ who: ctx.who, drill: run.id, target }, 'admin action: drill started');
  const opts: DrillOptions = {
    ...(request.instance === undefined ? {} : { instance: request.instance }),
    ...(request.timeoutSeconds === undefined ? {} : { timeoutMs: Math.round(request.timeoutSeconds * 1000) }),
    progress: (line) => {
      run.progress.push(line);
      void save(run);
    },
  };
  void (async () => {
    try {
      run.report = await start(ctx, opts);
      run.state = 'done';
    } catch (err) {
      run.error = describeError(err);
      run.state = 'failed';
    }
    run.endedAt = deps.now();
    await save(run);
    const result = run.report === null ? `drill ${run.id} failed: ${run.error ?? ''}` : `drill ${run.id} done: ${drillSummary(run.report)}`;
    log.info({ drill: run.id, state: run.state }, result);
    await record(run.report?.victim ?? target, run.endedAt, result);
  })();
  return run;
}
