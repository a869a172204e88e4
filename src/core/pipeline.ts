/**
 * The pure decision of one queue cycle: status views → what the sched plugins see → the chain →
 * the fail-closed gate. No I/O, no clock, no logging: everything comes in as data, so the whole
 * decision is unit-testable and reproducible from a snapshot.
 */
import { ApfError, describeError } from '../errors.ts';
import type { QueueConfig } from '../config/types.ts';
import type { SchedInput, SchedStep } from '../plugins/define.ts';
import { runChain, type ChainLink } from '../plugins/sched/compose.ts';
import { ZERO_BATCH, ZERO_WMS, type BatchSnapshot, type WmsSnapshot } from './info.ts';
import { unusableReason, type SourceView } from './source-view.ts';

/** The status views of one queue. `wms` is undefined when the queue has no WMS plugin. */
export interface QueueViews {
  readonly wms: SourceView<WmsSnapshot> | undefined;
  readonly batch: SourceView<BatchSnapshot>;
}

/** Extra pilots to add to the batch counts (cluster: submitted since the snapshot was taken). */
export interface BatchAdjust {
  /** Pending pilots of this queue submitted after the snapshot. */
  readonly pending: number;
  /** Same, summed over every queue (MaxPerFactory's total). */
  readonly totalPending: number;
}

/** Everything the decision needs. */
export interface DecideInput {
  readonly queue: QueueConfig;
  readonly chain: readonly ChainLink[];
  readonly views: QueueViews;
  /** `[Factory] maxperfactory.maximum`. */
  readonly maxPerFactory: number | undefined;
  /** Decision time, epoch ms. */
  readonly now: number;
  readonly adjust?: BatchAdjust;
}

/** The outcome of the chain and the gate for one queue (the `apf plan --json` record). */
export interface Decision {
  readonly queue: string;
  /** The chain's result (may be negative: a retire request). */
  readonly n: number;
  /** What is really submitted (>0) or retired (<0) after the gate. */
  readonly submit: number;
  /** APF's `;`-joined sched messages. */
  readonly msg: string;
  readonly steps: readonly SchedStep[];
  /** Null, or why nothing is submitted although the chain may have asked for pilots. */
  readonly blocked: string | null;
  /** What the sched plugins saw. */
  readonly input: SchedInput;
}

/** Builds the sched plugins' view (APF's getInfo semantics: None when unavailable or stale). */
export function schedInput(d: Pick<DecideInput, 'queue' | 'views' | 'maxPerFactory' | 'now' | 'adjust'>): SchedInput {
  const { queue, views, now } = d;
  let wms: SchedInput['wms'] = null;
  let site: SchedInput['site'] = null;
  if (views.wms !== undefined && views.wms.available && unusableReason(views.wms, now, 'WMS') === null) {
    const snap = views.wms.snapshot;
    const wq = queue.wmsqueue ?? queue.name;
    wms = snap.queues.get(wq) ?? ZERO_WMS;
    site = snap.sites === null ? null : (snap.sites.get(wq) ?? { status: '' });
  }
  let batch: SchedInput['batch'] = null;
  let batchTotal: SchedInput['batchTotal'] = null;
  if (views.batch.available && unusableReason(views.batch, now, 'batch') === null) {
    const snap = views.batch.snapshot;
    const own = snap.queues.get(queue.name) ?? ZERO_BATCH;
    batch = d.adjust === undefined ? own : { ...own, pending: own.pending + d.adjust.pending };
    let pending = d.adjust?.totalPending ?? 0;
    let running = 0;
    if (snap.total !== undefined) {
      pending += snap.total.pending;
      running += snap.total.running;
    } else {
      for (const q of snap.queues.values()) {
        pending += q.pending;
        running += q.running;
      }
    }
    batchTotal = { pending, running };
  }
  return { queue: queue.name, wms, site, batch, batchTotal, maxPerFactory: d.maxPerFactory };
}

/** Runs the chain and the gate. Never throws: a failing plugin becomes a blocked decision. */
export function decide(d: DecideInput): Decision {
  const input = schedInput(d);
  let n = 0;
  let msg = '';
  let steps: readonly SchedStep[];
  let failure: string | null = null;
  try {
    const r = runChain(d.chain, input);
    n = r.n;
    msg = r.msg;
    steps = r.steps;
  } catch (err) {
    const partial = err instanceof ApfError ? (err.details['steps'] as readonly SchedStep[] | undefined) : undefined;
    steps = partial ?? [];
    failure = `sched chain failed: ${describeError(err)}`;
  }
  const reasons: string[] = [];
  if (failure !== null) reasons.push(failure);
  if (d.views.wms !== undefined) {
    const r = unusableReason(d.views.wms, d.now, 'WMS');
    if (r !== null) reasons.push(r);
  }
  const rb = unusableReason(d.views.batch, d.now, 'batch');
  if (rb !== null) reasons.push(rb);
  const blocked = reasons.length === 0 ? null : reasons.join('; ');
  return { queue: d.queue.name, n, submit: blocked === null ? n : 0, msg, steps, blocked, input };
}
