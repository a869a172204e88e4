/**
 * The admin API (POST, bearer token — src/web/server.ts answers 401/403 before these run): pause,
 * resume and run a queue, drain and undrain an instance, reload the cluster, start a failover
 * drill. Every action goes through src/core/admin.ts (the implementation the CLI uses), is logged,
 * and is recorded in the Redis admin log with who (`token@web:<remote address>`) and when —
 * refused actions too, with the reason.
 *
 * Drills run in the background on the instance that received the request: `POST /api/v1/drills`
 * answers 202 `{ id }` at once; src/web/drills.ts keeps the run (shared with the monitor's form),
 * so `GET /api/v1/drills/:id` on any instance can answer.
 */
import { describeError } from '../../errors.ts';
import { recordAdminAction } from '../../coordination/control.ts';
import * as admin from '../../core/admin.ts';
import { runDrill } from '../../core/drill.ts';
import type { Logger } from '../../logging/logger.ts';
import { lazySchemas } from '../../util/zod.ts';
import type { WebDeps } from '../deps.ts';
import { isDrillRun, launchDrill, localDrill, type DrillRequest, type DrillStarter } from '../drills.ts';
import { HttpError, json, type Route, type WebRequest } from '../router.ts';
import { guarded } from './api.ts';

export { DRILL_TTL_S, type DrillRequest, type DrillRun, type DrillStarter } from '../drills.ts';

/** Options of {@link adminRoutes}. */
export interface AdminRoutesOptions {
  /** @defaultValue runDrill */
  readonly startDrill?: DrillStarter;
}

/** Longest drill timeout accepted, seconds. */
const MAX_DRILL_TIMEOUT_S = 86_400;

const drillSchema = lazySchemas((z) =>
  z.strictObject({
    instance: z.string().min(1).max(512).optional(),
    timeoutSeconds: z.number().positive().max(MAX_DRILL_TIMEOUT_S).optional(),
  }),
);

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
  const r = drillSchema().safeParse(raw);
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

/** The drill routes. */
function drillRoutes(start: DrillStarter): Route[] {
  return [
    {
      method: 'POST',
      pattern: '/api/v1/drills',
      admin: true,
      handler: async (req, deps) => {
        const request = parseDrillRequest(await req.body());
        const ctx = contextOf(req, deps);
        try {
          const run = await launchDrill(deps, ctx, request, start);
          const accepted = json({ id: run.id, href: `/api/v1/drills/${run.id}` }, 202);
          return { ...accepted, headers: { ...accepted.headers, location: `/api/v1/drills/${run.id}` } };
        } catch (err) {
          await refused(deps, deps.logger.child({ component: 'web-admin' }), ctx.who, 'drill', request.instance ?? 'auto', err);
          throw err;
        }
      },
    },
    {
      method: 'GET',
      pattern: '/api/v1/drills/:id',
      handler: (req, deps) =>
        guarded(async () => {
          const id = req.params['id'] ?? '';
          const local = localDrill(deps, id);
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
