/**
 * The admin API (POST, bearer token — src/web/server.ts answers 401/403 before these run): pause,
 * resume and run a queue, drain and undrain an instance, reload the cluster, start a failover
 * drill. Every action goes through src/core/admin.ts (the implementation the CLI uses), is logged,
 * and is recorded in the Redis admin log with who (`token@web:<remote address>`) and when —
 * refused actions too, with the reason.
 *
 * Drills run in the background on the instance that received the request: `POST /api/v1/drills`
 * answers 202 `{ id }` at once; the run (progress lines, then the report or the error) is kept in
 * memory and in Redis (`<prefix>:drill:<id>`, a week), so `GET /api/v1/drills/:id` on any
 * instance can answer.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { describeError } from '../../errors.ts';
import { recordAdminAction } from '../../coordination/control.ts';
import * as admin from '../../core/admin.ts';
import { runDrill, type DrillOptions, type DrillReport } from '../../core/drill.ts';
import type { Logger } from '../../logging/logger.ts';
import type { WebDeps } from '../deps.ts';
import { HttpError, json, type Route, type WebRequest } from '../router.ts';
import { guarded } from './api.ts';

/** Starts a drill and resolves with its report (src/core/drill.ts `runDrill`; tests inject a stub). */
export type DrillStarter = (ctx: admin.AdminContext, opts: DrillOptions) => Promise<DrillReport>;

/** What `POST /api/v1/drills` accepts (every field optional). */
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

/** Options of {@link adminRoutes}. */
export interface AdminRoutesOptions {
  /** @defaultValue runDrill */
  readonly startDrill?: DrillStarter;
}

/** How long a drill's record stays in Redis, seconds. */
export const DRILL_TTL_S = 7 * 86_400;
/** Drills kept in memory (the oldest finished ones are forgotten first; Redis keeps them). */
const DRILLS_IN_MEMORY = 100;
/** Longest drill timeout accepted, seconds. */
const MAX_DRILL_TIMEOUT_S = 86_400;


const drillSchema = z.strictObject({
  instance: z.string().min(1).max(512).optional(),
  timeoutSeconds: z.number().positive().max(MAX_DRILL_TIMEOUT_S).optional(),
});

/**
 * Parses the body of `POST /api/v1/drills`: empty → `{}`; otherwise a JSON object with only the
 * known fields, of the right types.
 *
 * @throws HttpError 400 naming the field (or the JSON error).
 */
export function parseDrillRequest(body: Buffer | string): DrillRequest {
  const text = body.toString().trim();
  if (text === '') return {};
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `malformed JSON body: ${describeError(err)}`);
  }
  const r = drillSchema.safeParse(raw);
  if (!r.success) {
    const why = r.error.issues.map((i) => `${i.path.length === 0 ? 'body' : `field "${i.path.join('.')}"`}: ${i.message}`).join('; ');
    throw new HttpError(400, why);
  }
  const out: { instance?: string; timeoutSeconds?: number } = {};
  if (r.data.instance !== undefined) out.instance = r.data.instance;
  if (r.data.timeoutSeconds !== undefined) out.timeoutSeconds = r.data.timeoutSeconds;
  return out;
}

/** Who acts: the token holder at the request's remote address. */
export function whoOf(req: Pick<WebRequest, 'remoteAddress'>): string {
  return `token@web:${req.remoteAddress === '' ? 'unknown' : req.remoteAddress}`;
}

function contextOf(req: WebRequest, deps: WebDeps): admin.AdminContext {
  return { redis: deps.redis, keys: deps.keys, config: deps.config(), who: whoOf(req) };
}

type Op = (ctx: admin.AdminContext, target: string) => Promise<admin.AdminResult>;

/** One admin action route: reads (and bounds) the body, acts, logs, and records refusals too. */
function actionRoute(pattern: string, action: string, param: 'name' | 'id' | null, op: Op): Route {
  return {
    method: 'POST',
    pattern,
    admin: true,
    handler: async (req, deps) => {
      // The body is not used, but reading it enforces the 64 KiB limit (413) on every admin POST.
      await req.body();
      const target = param === null ? '*' : (req.params[param] ?? '');
      const ctx = contextOf(req, deps);
      const log = deps.logger.child({ component: 'web-admin' });
      try {
        const result = await guarded(() => op(ctx, target));
        log.info({ who: ctx.who, action: result.action, target: result.target }, `admin action: ${result.message}`);
        return json(result);
      } catch (err) {
        await refused(deps, log, ctx.who, action, target, err);
        throw err;
      }
    },
  };
}

/** Logs a refused action and records it in the admin log (best effort: the answer is the error). */
async function refused(deps: WebDeps, log: Logger, who: string, action: string, target: string, err: unknown): Promise<void> {
  const why = err instanceof HttpError ? `${err.status} ${err.message}` : describeError(err);
  log.warn({ who, action, target, error: why }, 'admin action refused');
  await recordAdminAction(deps.redis, deps.keys, { who, action, target, at: deps.now(), result: `refused: ${why}` }).catch((e: unknown) =>
    log.warn({ error: describeError(e) }, 'admin action not recorded'),
  );
}

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

/** True when `v` looks like a stored {@link DrillRun}. */
function isDrillRun(v: unknown): v is DrillRun {
  const r = v as Partial<DrillRun> | null;
  return typeof r === 'object' && r !== null && typeof r.id === 'string' && (r.state === 'running' || r.state === 'done' || r.state === 'failed');
}

/** Drills per server (keyed by its deps): a drill outlives the request that started it. */
const drillStores = new WeakMap<WebDeps, Map<string, LiveDrill>>();

function drillsOf(deps: WebDeps): Map<string, LiveDrill> {
  let runs = drillStores.get(deps);
  if (runs === undefined) drillStores.set(deps, (runs = new Map<string, LiveDrill>()));
  return runs;
}

/** The drill routes. */
function drillRoutes(start: DrillStarter): Route[] {
  const save = (deps: WebDeps, run: LiveDrill): Promise<void> => {
    const keys = deps.keys;
    return deps.redis
      .set(keys.drill(run.id), JSON.stringify(run), 'EX', DRILL_TTL_S)
      .then(() => undefined)
      .catch((err: unknown) => deps.logger.warn({ drill: run.id, error: describeError(err) }, 'drill progress not stored in Redis'));
  };
  const remember = (deps: WebDeps, run: LiveDrill): void => {
    const runs = drillsOf(deps);
    runs.set(run.id, run);
    for (const [id, r] of runs) {
      if (runs.size <= DRILLS_IN_MEMORY) break;
      if (r.state !== 'running') runs.delete(id);
    }
  };
  return [
    {
      method: 'POST',
      pattern: '/api/v1/drills',
      admin: true,
      handler: async (req, deps) => {
        const request = parseDrillRequest(await req.body());
        const ctx = contextOf(req, deps);
        const log = deps.logger.child({ component: 'web-admin' });
        const target = request.instance ?? 'auto';
        const busy = [...drillsOf(deps).values()].find((r) => r.state === 'running');
        if (busy !== undefined) {
          const err = new HttpError(409, `drill ${busy.id} is still running on this instance`);
          await refused(deps, log, ctx.who, 'drill', target, err);
          throw err;
        }
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
        remember(deps, run);
        await save(deps, run);
        await guarded(() => recordAdminAction(deps.redis, deps.keys, { who: ctx.who, action: 'drill', target, at: run.startedAt, result: `started drill ${run.id}` }));
        log.info({ who: ctx.who, drill: run.id, target }, 'admin action: drill started');
        const opts: DrillOptions = {
          ...(request.instance === undefined ? {} : { instance: request.instance }),
          ...(request.timeoutSeconds === undefined ? {} : { timeoutMs: Math.round(request.timeoutSeconds * 1000) }),
          progress: (line) => {
            run.progress.push(line);
            void save(deps, run);
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
          await save(deps, run);
          const result = run.report === null ? `drill ${run.id} failed: ${run.error ?? ''}` : `drill ${run.id} done: ${summary(run.report)}`;
          log.info({ drill: run.id, state: run.state }, result);
          await recordAdminAction(deps.redis, deps.keys, { who: ctx.who, action: 'drill', target: run.report?.victim ?? target, at: run.endedAt, result }).catch(
            (e: unknown) => log.warn({ error: describeError(e) }, 'admin action not recorded'),
          );
        })();
        const accepted = json({ id: run.id, href: `/api/v1/drills/${run.id}` }, 202);
        return { ...accepted, headers: { ...accepted.headers, location: `/api/v1/drills/${run.id}` } };
      },
    },
    {
      method: 'GET',
      pattern: '/api/v1/drills/:id',
      handler: (req, deps) =>
        guarded(async () => {
          const id = req.params['id'] ?? '';
          const local = drillsOf(deps).get(id);
          if (local !== undefined) return json(local);
          if (!/^[A-Za-z0-9-]{1,64}$/.test(id)) throw new HttpError(404, `no drill "${id}"`);
          const text = await deps.redis.get(deps.keys.drill(id)).catch((err: unknown) => {
            throw new HttpError(503, `Redis unavailable: ${describeError(err)}`);
          });
          let stored: unknown = null;
          try {
            stored = text === null ? null : JSON.parse(text);
          } catch {
            // a corrupt record is as good as none
          }
          if (!isDrillRun(stored)) throw new HttpError(404, `no drill "${id}"`);
          return json(stored);
        }),
    },
  ];
}

function summary(r: DrillReport): string {
  const s = (ms: number | null): string => (ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`);
  return `victim ${r.victim}, max gap ${s(r.maxGapMs)}, missed ${r.missed.length}, duplicates ${r.duplicates.length}`;
}

/** The admin routes. */
export function adminRoutes(opts: AdminRoutesOptions = {}): readonly Route[] {
  return [
    actionRoute('/api/v1/queues/:name/pause', 'pause', 'name', admin.pauseQueue),
    actionRoute('/api/v1/queues/:name/resume', 'resume', 'name', admin.resumeQueue),
    actionRoute('/api/v1/queues/:name/run', 'run', 'name', admin.runQueueNow),
    actionRoute('/api/v1/instances/:id/drain', 'drain', 'id', admin.drainInstance),
    actionRoute('/api/v1/instances/:id/undrain', 'undrain', 'id', admin.undrainInstance),
    actionRoute('/api/v1/reload', 'reload', null, (ctx) => admin.reloadCluster(ctx)),
    ...drillRoutes(opts.startDrill ?? runDrill),
  ];
}
