/**
 * The JSON records apf keeps in Redis. They are part of the documented status interface
 * (`apf status --json`, the web API), so fields are only ever added.
 */
import type { BatchQueueInfo } from '../core/info.ts';
import type { CycleOutcomeKind } from '../core/execute.ts';
import type { SchedStep } from '../plugins/define.ts';

/** How a dispatched cycle ended, including the ways it can be skipped. */
export type CycleRecordOutcome =
  | CycleOutcomeKind
  /** the runner's state writes were rejected by the fence (it lost its lease mid-cycle) */
  | 'fenced';

/** One queue cycle as stored in the queue's `last` field and history list. */
export interface CycleRecord {
  readonly queue: string;
  /** The scheduler slot (epoch ms) the cycle was dispatched for. */
  readonly slot: number;
  /** Fencing token of the lease the cycle ran under. */
  readonly token: number;
  /** `<queue>:<slot>:<token>`, stamped on every pilot as +APF_CYCLE. */
  readonly cycleId: string;
  /** Instance id and unique process owner id that ran it. */
  readonly instance: string;
  readonly owner: string;
  /** Start and end, epoch ms. */
  readonly startedAt: number;
  readonly at: number;
  readonly durationMs: number;
  /** Dispatch lag: start − slot, ms. */
  readonly lagMs: number;
  readonly outcome: CycleRecordOutcome;
  /** The chain's result, what was acted on, APF's joined message, the trace and the gate's reason. */
  readonly n: number;
  readonly submit: number;
  readonly msg: string;
  readonly steps: readonly SchedStep[];
  readonly blocked: string | null;
  /** What the chain saw (null = unavailable). */
  readonly inputs: {
    readonly ready: number | null;
    readonly pending: number | null;
    readonly running: number | null;
    readonly siteStatus: string | null;
  };
  /** Pilots submitted (`<cluster>.<proc>`) and removed by this cycle. */
  readonly jobIds: readonly string[];
  readonly removed: readonly string[];
  readonly error: string | null;
  /** Hash of the configuration the instance ran with. */
  readonly configHash: string;
}

/** A batch source's latest counts, as published by whoever polled it. */
export interface SourceRecord {
  /** Source identity: `condor:<schedd>:<pool>` (shared) or `condor:local@<instance>` (one instance's). */
  readonly source: string;
  /** The instance whose pilots these are (local schedd), or null for a shared schedd. */
  readonly owner: string | null;
  /** Instance that ran the query. */
  readonly publisher: string;
  /** When the query ran (epoch ms). */
  readonly at: number;
  /** Increases with every publication of this source; older writes are ignored. */
  readonly seq: number;
  /** Per APF queue counts. */
  readonly queues: Readonly<Record<string, BatchQueueInfo>>;
}

/** An instance's lifecycle state in the registry. */
export type InstanceState = 'active' | 'draining' | 'frozen' | 'stopping';

/** An instance's registration. */
export interface InstanceRecord {
  /** Stable id (`--instance`, `instance.id` or the hostname). */
  readonly id: string;
  /** Unique per process: `<id>:<pid>:<start ms>`. */
  readonly owner: string;
  readonly host: string;
  readonly pid: number;
  readonly version: string;
  readonly configHash: string;
  readonly startedAt: number;
  readonly heartbeatAt: number;
  readonly lastCycleAt: number | null;
  readonly state: InstanceState;
  /** Monitor port, when it serves one. */
  readonly webPort: number | null;
}
