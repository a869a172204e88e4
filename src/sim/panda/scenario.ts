/**
 * Scenario files of the PanDA simulator (a test tool, not PanDA): per PanDA queue a timeline of
 * job counts and site status, plus scheduled faults.
 *
 * ```json
 * {
 *   "queues": {
 *     "CERN": {
 *       "labels": ["managed", "user"],
 *       "loop": 600,
 *       "timeline": [
 *         { "t": 0,   "activated": 100, "running": 900, "status": "online" },
 *         { "t": 300, "activated": 0,   "running": 950 }
 *       ]
 *     }
 *   },
 *   "faults": [ { "from": 120, "to": 180, "endpoint": "stats", "kind": "500" } ]
 * }
 * ```
 *
 * Timeline: a step function — at `t` seconds since the simulator started, the latest point with
 * `point.t ≤ t` applies (with `loop`, `t` is taken modulo `loop`). Counts missing from a point are
 * 0; `status` defaults to `online`. Before its first point a queue has no jobs and its status is
 * that of its first point. Faults use the absolute time since start (`from ≤ t < to`; no `to` =
 * until cleared) and do not loop.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ApfError } from '../../errors.ts';

/** PanDA job states a scenario may count (formats.md §1.5; `merging` is filtered by PanDA itself). */
export const PANDA_JOB_STATES = [
  'pending',
  'defined',
  'waiting',
  'assigned',
  'throttled',
  'activated',
  'sent',
  'starting',
  'running',
  'holding',
  'transferring',
  'finished',
  'failed',
  'cancelled',
  'closed',
] as const;

/** A PanDA job state. */
export type PandaJobState = (typeof PANDA_JOB_STATES)[number];

/** PanDA brokerage statuses a queue may have. */
export const SITE_STATUSES = ['online', 'test', 'offline', 'brokeroff'] as const;

/** Simulator endpoints a fault can target. */
export const FAULT_ENDPOINTS = ['stats', 'label', 'site', 'cric', 'all'] as const;

/**
 * Fault kinds: `500` internal error, `hang` never answer, `garbage` an HTML/binary body,
 * `success-false` an error answer (v1 envelope `success:false`, legacy `False : …`, CRIC error
 * object), `slow` answer after `delayMs`, `decimal` legacy pickles carry `decimal.Decimal` counts
 * (a GLOBAL opcode; no effect on the JSON endpoints).
 */
export const FAULT_KINDS = ['500', 'hang', 'garbage', 'success-false', 'slow', 'decimal'] as const;

const count = z.number().int().nonnegative();
const pointShape: Record<string, z.ZodType> = { t: z.number().nonnegative(), status: z.enum(SITE_STATUSES).optional() };
for (const s of PANDA_JOB_STATES) pointShape[s] = count.optional();
const pointSchema = z.strictObject(pointShape);

const queueSchema = z
  .strictObject({
    labels: z.array(z.string().min(1)).min(1).optional(),
    loop: z.number().positive().optional(),
    timeline: z.array(pointSchema).min(1),
  })
  .superRefine((q, ctx) => {
    const ts = q.timeline.map((p) => p['t'] as number);
    ts.forEach((t, i) => {
      if (i > 0 && t < (ts[i - 1] as number)) ctx.addIssue({ code: 'custom', path: ['timeline', i, 't'], message: 'points must be in increasing t order' });
      if (q.loop !== undefined && t >= q.loop) ctx.addIssue({ code: 'custom', path: ['timeline', i, 't'], message: `t must be below loop (${q.loop})` });
    });
  });

/** One fault. */
export const faultSchema = z
  .strictObject({
    from: z.number().nonnegative().default(0),
    to: z.number().nonnegative().optional(),
    endpoint: z.enum(FAULT_ENDPOINTS),
    kind: z.enum(FAULT_KINDS),
    delayMs: z.number().int().nonnegative().optional(),
  })
  .refine((f) => f.to === undefined || f.to > f.from, { path: ['to'], message: 'to must be after from' });

const scenarioSchema = z.strictObject({
  description: z.string().optional(),
  queues: z.record(z.string().min(1), queueSchema),
  faults: z.array(faultSchema).default([]),
});

/** A validated fault. */
export type SimFault = z.infer<typeof faultSchema>;
/** A fault as given by a caller (`from` optional). */
export type SimFaultInput = z.input<typeof faultSchema>;

/** One timeline point: `t`, optional status, optional counts per PanDA state. */
export interface TimelinePoint {
  readonly t: number;
  readonly status?: (typeof SITE_STATUSES)[number];
  readonly counts: Readonly<Partial<Record<PandaJobState, number>>>;
}

/** One simulated PanDA queue. */
export interface SimQueue {
  /** prodSourceLabels the counts are spread over in `getJobStatisticsWithLabel`. */
  readonly labels: readonly string[];
  readonly loop: number | undefined;
  readonly timeline: readonly TimelinePoint[];
}

/** A validated scenario. */
export interface PandaScenario {
  readonly description: string | undefined;
  readonly queues: ReadonlyMap<string, SimQueue>;
  readonly faults: readonly SimFault[];
}

/** The state of one queue at one moment. */
export interface QueueState {
  /** Non-zero counts only; empty before the first point. */
  readonly counts: ReadonlyMap<PandaJobState, number>;
  readonly status: string;
}

function simError(what: string, error: z.ZodError): ApfError {
  const issues = error.issues.slice(0, 5).map((i) => `${i.path.length === 0 ? '(root)' : i.path.map(String).join('.')}: ${i.message}`);
  return new ApfError('APF_ERR_SIM', `${what}: ${issues.join('; ')}`, { details: { issues: issues.length } });
}

/** Validates a parsed scenario; `APF_ERR_SIM` names every bad field (`queues.CERN.timeline.2.t: …`). */
export function parseScenario(json: unknown, what = 'PanDA simulator scenario'): PandaScenario {
  const r = scenarioSchema.safeParse(json);
  if (!r.success) throw simError(what, r.error);
  const queues = new Map<string, SimQueue>();
  for (const [name, q] of Object.entries(r.data.queues)) {
    queues.set(name, {
      labels: q.labels ?? ['managed'],
      loop: q.loop,
      timeline: q.timeline.map((p) => {
        const counts: Partial<Record<PandaJobState, number>> = {};
        for (const s of PANDA_JOB_STATES) if (typeof p[s] === 'number') counts[s] = p[s];
        return { t: p['t'] as number, ...(p['status'] === undefined ? {} : { status: p['status'] as TimelinePoint['status'] }), counts };
      }),
    });
  }
  return { description: r.data.description, queues, faults: r.data.faults };
}

/** Validates a list of faults (or one fault). */
export function parseFaults(json: unknown): SimFault[] {
  // Parsed separately (not as a union) so that errors name the field, not "invalid input".
  const r = z.array(faultSchema).safeParse(Array.isArray(json) ? json : [json]);
  if (!r.success) throw simError('PanDA simulator faults', r.error);
  return r.data;
}

/** Reads and validates a scenario file. */
export async function loadScenario(path: string): Promise<PandaScenario> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ApfError('APF_ERR_SIM', `cannot read scenario ${path}: ${(err as Error).message}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ApfError('APF_ERR_SIM', `scenario ${path} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseScenario(json, `scenario ${path}`);
}

/** The state of `queue` at `tSeconds` since start (the step function described above). */
export function queueStateAt(queue: SimQueue, tSeconds: number): QueueState {
  const t = queue.loop === undefined ? tSeconds : ((tSeconds % queue.loop) + queue.loop) % queue.loop;
  let point: TimelinePoint | undefined;
  for (const p of queue.timeline) {
    if (p.t <= t) point = p;
    else break;
  }
  const first = queue.timeline[0] as TimelinePoint;
  if (point === undefined) return { counts: new Map(), status: first.status ?? 'online' };
  const counts = new Map<PandaJobState, number>();
  for (const s of PANDA_JOB_STATES) {
    const n = point.counts[s];
    if (n !== undefined && n > 0) counts.set(s, n);
  }
  return { counts, status: point.status ?? 'online' };
}

/** The first fault active at `tSeconds` for `endpoint`, if any. */
export function activeFault(faults: readonly SimFault[], endpoint: Exclude<SimFault['endpoint'], 'all'> | 'alive', tSeconds: number): SimFault | undefined {
  return faults.find(
    (f) => (f.endpoint === 'all' || f.endpoint === endpoint) && f.from <= tSeconds && (f.to === undefined || tSeconds < f.to),
  );
}
