/**
 * The plugin contract. A plugin is one value built with one of the `define*Plugin` helpers, in one
 * file `src/plugins/<family>/<kebab-id>.ts`, listed in that family's static registry
 * (`src/plugins/<family>/index.ts`). Its INI keys are the slice `<family>.<id lowercase>.<param>`
 * of the queue section, declared as an {@link OptionSpecs} table.
 */
import type { OptionSpecs, OptionValues } from '../config/options.ts';
import type { ApfConfig, FactorySettings, QueueConfig } from '../config/types.ts';
import type {
  BatchJob,
  BatchQueueInfo,
  BatchSnapshot,
  SiteInfo,
  WmsQueueInfo,
  WmsSnapshot,
} from '../core/info.ts';
import type { Logger } from '../logging/logger.ts';

/** The plugin families, named as in APF's INI keys. */
export type PluginFamily = 'sched' | 'wmsstatus' | 'batchstatus' | 'batchsubmit';

/** What every plugin declares. */
export interface PluginBase<S extends OptionSpecs> {
  /** INI name, e.g. `MaxPerCycle`, `Panda`, `CondorOSGCE` (matched case-insensitively). */
  readonly id: string;
  /** One line shown by `apf list-plugins`. */
  readonly summary: string;
  /** Keys below the plugin's prefix. */
  readonly options: S;
}

// ---------------------------------------------------------------------------------------------
// sched

/**
 * What a sched plugin sees (APF's `wms.getInfo`, `getSiteInfo`, `batch.getInfo`). `null` means
 * "not available or stale" exactly where APF's plugins saw `None`; a queue that is merely absent
 * from an available source reads as zeros.
 */
export interface SchedInput {
  /** APF queue name. */
  readonly queue: string;
  /** WMS queue info; null when there is no WMS plugin or its source is unavailable/stale. */
  readonly wms: WmsQueueInfo | null;
  /** Site status; null when unavailable. */
  readonly site: SiteInfo | null;
  /** This queue's pilots; null when the batch source is unavailable/stale. */
  readonly batch: BatchQueueInfo | null;
  /** Pending + running summed over every queue of this factory (MaxPerFactory); null when unavailable. */
  readonly batchTotal: { readonly pending: number; readonly running: number } | null;
  /** `[Factory] maxperfactory.maximum`. */
  readonly maxPerFactory: number | undefined;
}

/** A sched plugin's answer: APF's `(n, msg)`; `msg` null or empty is not appended. */
export interface SchedResult {
  readonly n: number;
  readonly msg: string | null;
}

/** One step of a chain as recorded in the decision trace. */
export interface SchedStep {
  readonly plugin: string;
  readonly in: number;
  readonly out: number;
  readonly msg: string | null;
}

/** A configured sched plugin: pure, synchronous. Throwing aborts the chain (APF raised too). */
export type SchedFn = (n: number, input: SchedInput) => SchedResult;

/** A sched plugin definition. */
export interface SchedPluginDef<S extends OptionSpecs = OptionSpecs> extends PluginBase<S> {
  readonly family: 'sched';
  /** Builds the plugin from its parsed options. */
  create(options: OptionValues<S>): SchedFn;
}

// ---------------------------------------------------------------------------------------------
// status sources

/** Everything a status source may use. */
export interface SourceContext {
  readonly config: ApfConfig;
  readonly factory: FactorySettings;
  readonly logger: Logger;
  /** The queues that read this source (a source is shared by every queue with the same key). */
  readonly queues: readonly QueueConfig[];
  /** Current time in epoch ms (injectable for tests). */
  readonly now: () => number;
}

/** A shared WMS status source (one per endpoint). */
export interface WmsSource {
  /** Stable key: queues whose options give the same key share one source. */
  readonly key: string;
  /** Poll period (s) and staleness limit (s). */
  readonly sleepS: number;
  readonly maxAgeS: number;
  /**
   * Fetches fresh data. Rejects (ApfError `APF_ERR_WMS_*`) when the WMS cannot be read; the caller
   * then treats the source as unavailable. Must honour `signal`.
   */
  fetch(signal: AbortSignal): Promise<WmsSnapshot>;
}

/** A shared batch status source (one per schedd/pool). */
export interface BatchSource {
  readonly key: string;
  readonly sleepS: number;
  readonly maxAgeS: number;
  /** Fetches fresh data; rejects (ApfError `APF_ERR_BATCH_*`, `APF_ERR_COMMAND_*`) on any doubt. */
  fetch(signal: AbortSignal): Promise<BatchSnapshot>;
}

/** A WMS status plugin definition. Options are read from the queue section, falling back to [Factory]. */
export interface WmsStatusPluginDef<S extends OptionSpecs = OptionSpecs> extends PluginBase<S> {
  readonly family: 'wmsstatus';
  /** The key under which queues share a source. */
  sourceKey(options: OptionValues<S>, factory: FactorySettings): string;
  /** Builds the shared source (called once per key). */
  createSource(options: OptionValues<S>, ctx: SourceContext): WmsSource;
}

/** A batch status plugin definition. Options are read from the queue section, falling back to [Factory]. */
export interface BatchStatusPluginDef<S extends OptionSpecs = OptionSpecs> extends PluginBase<S> {
  readonly family: 'batchstatus';
  sourceKey(options: OptionValues<S>, factory: FactorySettings): string;
  createSource(options: OptionValues<S>, ctx: SourceContext): BatchSource;
}

// ---------------------------------------------------------------------------------------------
// submit

/** What a submitter is asked to do for n > 0. */
export interface SubmitRequest {
  /** How many pilots (> 0). */
  readonly n: number;
  /**
   * Per-cycle id stamped on every pilot as `+APF_CYCLE` (`<queue>:<slot>:<token>` in a cluster).
   */
  readonly cycleId: string;
  /** Instance id stamped as `+APF_INSTANCE` (absent in single-process use). */
  readonly instance?: string;
  /** Cycle time (log directory date, etc.). */
  readonly now: Date;
  /**
   * Called immediately before the batch system is contacted; throws to submit nothing
   * (the cluster runner checks its lease and deadline here).
   */
  readonly beforeSubmit?: () => void | Promise<void>;
}

/** What a submission did. */
export interface SubmitReport {
  /** `<cluster>.<proc>` of every pilot submitted. */
  readonly jobIds: readonly string[];
  /** Path of the submit file written. */
  readonly submitFile: string;
}

/** What a submitter is asked to do for n < 0. */
export interface RetireRequest {
  /** How many pilots to retire (> 0). */
  readonly n: number;
  /** This queue's pilots from the batch snapshot. */
  readonly jobs: readonly BatchJob[];
  readonly now: Date;
}

/** What a retire did. */
export interface RetireReport {
  /** Ids removed (empty when peaceful). */
  readonly removed: readonly string[];
  /** Human-readable summary (`peaceful: nothing removed`, `removed 3 newest`). */
  readonly summary: string;
}

/** Everything a submitter may use. */
export interface SubmitContext {
  readonly config: ApfConfig;
  readonly factory: FactorySettings;
  readonly queue: QueueConfig;
  /**
   * Bound to `{ plugin }` and shared by every queue of the plugin (one pino child per queue would
   * cost memory with thousands of queues): name the queue in each log call, `{ queue: …, … }`.
   */
  readonly logger: Logger;
}

/** A configured submitter for one queue. */
export interface BatchSubmitter {
  submit(req: SubmitRequest, signal: AbortSignal): Promise<SubmitReport>;
  retire(req: RetireRequest, signal: AbortSignal): Promise<RetireReport>;
}

/** A batch submit plugin definition. */
export interface BatchSubmitPluginDef<S extends OptionSpecs = OptionSpecs> extends PluginBase<S> {
  readonly family: 'batchsubmit';
  /**
   * APF's key-inheritance chain of INI names, most specific first, e.g.
   * `['condorosgce', 'condorce', 'condorgrid', 'condorbase']`: a key may be written under any of
   * these prefixes and the most specific one wins.
   */
  readonly keyChain: readonly string[];
  create(options: OptionValues<S>, ctx: SubmitContext): BatchSubmitter;
}

/** Any plugin definition. */
export type AnyPluginDef = SchedPluginDef | WmsStatusPluginDef | BatchStatusPluginDef | BatchSubmitPluginDef;

/** Typed identity helpers (keep inference of the options table). */
export function defineSchedPlugin<S extends OptionSpecs>(def: SchedPluginDef<S>): SchedPluginDef<S> {
  return Object.freeze(def);
}
export function defineWmsStatusPlugin<S extends OptionSpecs>(def: WmsStatusPluginDef<S>): WmsStatusPluginDef<S> {
  return Object.freeze(def);
}
export function defineBatchStatusPlugin<S extends OptionSpecs>(def: BatchStatusPluginDef<S>): BatchStatusPluginDef<S> {
  return Object.freeze(def);
}
export function defineBatchSubmitPlugin<S extends OptionSpecs>(def: BatchSubmitPluginDef<S>): BatchSubmitPluginDef<S> {
  return Object.freeze(def);
}
