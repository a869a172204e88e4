/**
 * The read-only JSON API under `/api/v1/` (docs/operations.md "Web API"): the same data as
 * `apf status --json` (src/core/status.ts is the one implementation) and as the monitor's pages
 * (the same loaders, src/web/views/data.ts, and the same queue columns), plus one queue's
 * history, the effective configuration and the admin log. Fields are only ever added. Unknown
 * queues and instances answer 404 JSON; Redis being unreachable answers 503.
 */
import { ApfError, describeError } from '../../errors.ts';
import type { ApfConfig } from '../../config/types.ts';
import { effectiveJson } from '../../config/effective.ts';
import { ADMIN_LOG_CAP, adminActions } from '../../coordination/control.ts';
import { parseCycleRecord } from '../../coordination/queue-state.ts';
import type { CycleRecord } from '../../coordination/records.ts';
import { collectStatus, type QueueStatus } from '../../core/status.ts';
import { bindingStep } from '../../plugins/sched/compose.ts';
import type { WebDeps } from '../deps.ts';
import { HttpError, json, type Route } from '../router.ts';
import { ACTIVITY_BUCKET_MS } from '../views/activity.ts';
import { loadInstance, loadOverview, loadQueueDetail, loadQueueTable, type InstanceData } from '../views/data.ts';
import { HOUR_MS, type QueueRow } from '../views/queue-columns.ts';

/**
 * Parses a `limit` query parameter: absent → `def`; a positive integer → at most `max`.
 *
 * @throws HttpError 400 for anything else.
 */
export function parseLimit(text: string | null, def: number, max: number): number {
  if (text === null || text === '') return Math.min(def, max);
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1) throw new HttpError(400, `limit must be a positive integer (got "${text.slice(0, 40)}")`);
  return Math.min(Number(text), max);
}

const SECRET_KEY = /(pass(word|wd|phrase)?|secret|token)$/i;

/**
 * Effective sections with secrets removed: values of keys named like a password, secret or token
 * (not the `…_file` keys that name where one is kept), and the password of any URL's userinfo.
 */
export function redactEffective(sections: Record<string, Record<string, string>>): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const [name, entries] of Object.entries(sections)) {
    const clean: Record<string, string> = {};
    for (const [k, v] of Object.entries(entries)) {
      clean[k] = SECRET_KEY.test(k) ? '[redacted]' : v.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*):[^@/\s]*@/gi, '$1:[redacted]@');
    }
    out[name] = clean;
  }
  return out;
}

/** The families `/api/v1/config?file=` may show (auth.conf stays private: it names credentials). */
const CONFIG_FAMILIES = ['factory', 'queues', 'monitor', 'mappings'] as const;

/** Maps an error to the HTTP answer it deserves (ApfError details.status, Redis → 503, usage → 400); others pass. */
export function httpErrorOf(err: unknown): unknown {
  if (err instanceof HttpError || !(err instanceof ApfError)) return err;
  const status = err.details['status'];
  if (typeof status === 'number' && Number.isInteger(status) && status >= 400 && status < 600) return new HttpError(status, err.message);
  if (err.code === 'APF_ERR_REDIS') return new HttpError(503, `Redis unavailable: ${err.message}`);
  if (err.code === 'APF_ERR_USAGE') return new HttpError(400, err.message);
  return err;
}

/** Runs `fn`, answering its coded errors with their HTTP status. */
export async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw httpErrorOf(err);
  }
}

/** The configured queue `name`, or a 404. */
export function knownQueue(config: ApfConfig, name: string): void {
  if (!config.queues.has(name)) throw new HttpError(404, `no queue named "${name}" in the configuration`);
}

/**
 * The newest `limit` records of a queue's history, newest first. A record that cannot be parsed
 * (written by hand or by a broken writer) is skipped rather than failing the whole answer.
 */
async function readHistory(deps: WebDeps, queue: string, limit: number): Promise<CycleRecord[]> {
  let texts: string[];
  try {
    texts = await deps.redis.lrange(deps.keys.queueHistory(queue), 0, limit - 1);
  } catch (err) {
    throw new ApfError('APF_ERR_REDIS', `reading the history of ${queue}: ${describeError(err)}`, { cause: err });
  }
  const out: CycleRecord[] = [];
  for (const t of texts) {
    try {
      out.push(parseCycleRecord(t));
    } catch {
      // skipped: see above
    }
  }
  return out;
}

/** A queue of the JSON API: the status fields (`apf status --json`) plus the monitor's columns. */
export type ApiQueue = QueueStatus & QueueRow;

/** Joins a queue's status and its monitor row (the row's values are the same numbers, named as the monitor names them). */
export function apiQueue(status: QueueStatus, row: QueueRow): ApiQueue {
  return { ...status, ...row };
}

/** A record with the index of its binding sched step (the monitor highlights it; -1: none). */
export function withBindingStep(r: CycleRecord): CycleRecord & { readonly bindingStep: number } {
  return { ...r, bindingStep: bindingStep(r.steps) };
}

/** The instance view: its status, activity and links, and the facts the serving instance's configuration gives. */
function instanceView(deps: WebDeps, d: InstanceData) {
  const i = d.entry.instance;
  const f = deps.config().factory;
  return {
    ...i,
    self: i.id === deps.instanceId,
    factoryId: f.factoryId,
    adminEmail: f.factoryAdminEmail,
    /** Pilots created per 5-minute bucket over the last 2 h, oldest first. */
    activity: d.entry.activity,
    /** Pilots created in the last 5 minutes, and cycles run in the last 2 h. */
    recently: d.entry.recently,
    cycles: d.entry.cycles,
    links: {
      self: `/api/v1/instances/${encodeURIComponent(i.id)}`,
      logs: f.web.logserver.enabled ? `${f.baseLogDirUrl}/` : null,
      config: '/api/v1/config',
      monitor: i.webPort === null ? null : `http://${i.host.includes(':') ? `[${i.host}]` : i.host}:${i.webPort}/instances/${encodeURIComponent(i.id)}`,
    },
  };
}

/** The read routes of the JSON API. */
export const apiRoutes: readonly Route[] = [
  {
    method: 'GET',
    pattern: '/api/v1/cluster',
    handler: (_req, deps) => guarded(async () => json(await collectStatus(deps.redis, deps.keys, deps.config(), deps.now()))),
  },
  {
    method: 'GET',
    pattern: '/api/v1/instances',
    handler: (_req, deps) =>
      guarded(async () => {
        const o = await loadOverview(deps);
        return json({
          at: o.status.at,
          activityBucketMs: ACTIVITY_BUCKET_MS,
          instances: o.instances.map((a) => ({ ...a.instance, activity: a.activity, recently: a.recently, cycles: a.cycles })),
        });
      }),
  },
  {
    method: 'GET',
    pattern: '/api/v1/instances/:id',
    handler: (req, deps) =>
      guarded(async () => {
        const id = req.params['id'] ?? '';
        const d = await loadInstance(deps, id);
        if (d === null) throw new HttpError(404, `no instance "${id}" is registered`);
        const byName = new Map(d.status.queues.map((q) => [q.name, q]));
        const queues = d.queues.flatMap((row) => {
          const q = byName.get(row.name);
          return q === undefined ? [] : [apiQueue(q, row)];
        });
        return json({ at: d.status.at, instance: instanceView(deps, d), queues });
      }),
  },
  {
    method: 'GET',
    pattern: '/api/v1/queues',
    handler: (_req, deps) =>
      guarded(async () => {
        const t = await loadQueueTable(deps);
        const queues = t.status.queues.map((q, i) => apiQueue(q, t.rows[i] as QueueRow));
        return json({ at: t.status.at, createdWindowMs: HOUR_MS, queues });
      }),
  },
  {
    method: 'GET',
    pattern: '/api/v1/queues/:name',
    handler: (req, deps) =>
      guarded(async () => {
        const name = req.params['name'] ?? '';
        const d = await loadQueueDetail(deps, name);
        if (d === null) throw new HttpError(404, `no queue named "${name}" in the configuration`);
        const section = deps.config().effective.queues.find((s) => s.name === name);
        const effective = section === undefined ? {} : Object.fromEntries([...section.entries].map(([k, e]) => [k, e.value]));
        const last = d.history[0];
        return json({
          at: deps.now(),
          queue: apiQueue(d.status, d.row),
          pausedBy: d.pausedBy,
          pausedAt: d.pausedAt,
          stats: d.stats,
          sources: d.sources,
          last: last === undefined ? null : withBindingStep(last),
          config: redactEffective({ [name]: effective })[name] ?? {},
        });
      }),
  },
  {
    method: 'GET',
    pattern: '/api/v1/queues/:name/history',
    handler: (req, deps) =>
      guarded(async () => {
        const name = req.params['name'] ?? '';
        const config = deps.config();
        knownQueue(config, name);
        const cap = config.factory.cluster.history;
        const limit = parseLimit(req.url.searchParams.get('limit'), Math.min(50, cap), cap);
        const records = await readHistory(deps, name, limit);
        return json({ queue: name, limit, records: records.map(withBindingStep) });
      }),
  },
  {
    method: 'GET',
    pattern: '/api/v1/config',
    handler: (req, deps) => {
      const file = req.url.searchParams.get('file') ?? 'queues';
      if (!(CONFIG_FAMILIES as readonly string[]).includes(file)) throw new HttpError(400, `file must be one of ${CONFIG_FAMILIES.join(', ')}`);
      return json(redactEffective(effectiveJson(deps.config(), [file as (typeof CONFIG_FAMILIES)[number]])));
    },
  },
  {
    method: 'GET',
    pattern: '/api/v1/admin-log',
    handler: (req, deps) =>
      guarded(async () => {
        const limit = parseLimit(req.url.searchParams.get('limit'), 100, ADMIN_LOG_CAP);
        return json({ actions: await adminActions(deps.redis, deps.keys, limit) });
      }),
  },
];
