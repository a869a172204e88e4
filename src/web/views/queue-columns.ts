/**
 * The cluster queue table's columns, defined once for the monitor (`/queues`) and the JSON API
 * (`/api/v1/queues`): APF monitor's created / running / exiting / done (1 hr) / fault (1 hr) /
 * last msg, plus apf's ready, pending, the instance of the last cycle and the paused / blocked
 * markers. Pure: rows are built from the status report and the cycle records.
 */
import type { CycleRecord } from '../../coordination/records.ts';
import type { QueueStatus } from '../../core/status.ts';
import { createdSince } from './activity.ts';

/** The window of "created", "done" and "fault". */
export const HOUR_MS = 3_600_000;

/** One queue in the cluster table (and in the JSON API's queue list). */
export interface QueueRow {
  readonly name: string;
  readonly enabled: boolean;
  readonly paused: boolean;
  /** Pilots submitted in the last hour: the jobIds of the queue's cycle records that ended within it. */
  readonly created: number;
  /** Cluster-wide running pilots (batch counts); null when no batch source is known. */
  readonly running: number | null;
  /** apfmon's "exiting" comes from the pilots' own reports, which apf does not receive: always null. */
  readonly exiting: null;
  /** Finished well in the last hour (batch counts: history plus done jobs still queued). */
  readonly done: number | null;
  /** Removed or failed in the last hour (batch counts). */
  readonly fault: number | null;
  /** PanDA activated jobs (the demand) as the last cycle saw it; null when unknown. */
  readonly ready: number | null;
  /** Cluster-wide pending pilots (snapshot plus submitted since). */
  readonly pending: number | null;
  /** Age of the last cycle's message (its end), ms; null before the first cycle. */
  readonly lastMsgAgeMs: number | null;
  /** The last cycle's `;`-joined sched message (APF's monitor status). */
  readonly lastMsg: string | null;
  /** Instance that ran the last cycle. */
  readonly lastInstance: string | null;
  /** Outcome of the last cycle (`submitted`, `nothing`, `blocked`…). */
  readonly lastOutcome: string | null;
  /** Why the last cycle's gate refused to act (fail closed), or null. */
  readonly blocked: string | null;
}

/** Sortable column keys (`?sort=`). */
export type QueueColumnKey = 'name' | 'created' | 'running' | 'exiting' | 'done' | 'fault' | 'lastmsg' | 'ready' | 'pending' | 'instance';

/** A column of the queue table. */
export interface QueueColumn {
  readonly key: QueueColumnKey;
  /** Header text. */
  readonly label: string;
  /** What it means (header tooltip, docs). */
  readonly description: string;
  readonly numeric: boolean;
  /** The value sorted on (null sorts last in both directions). */
  readonly value: (row: QueueRow) => string | number | null;
}

const NAME_COLUMN: QueueColumn = { key: 'name', label: 'queue', description: 'APF queue (section of queues.conf)', numeric: false, value: (r) => r.name };

/** Every column, in table order. */
export const QUEUE_COLUMNS: readonly QueueColumn[] = [
  NAME_COLUMN,
  { key: 'created', label: 'created', description: 'pilots submitted in the last hour (cycle history)', numeric: true, value: (r) => r.created },
  { key: 'running', label: 'running', description: 'running pilots, cluster-wide (batch status)', numeric: true, value: (r) => r.running },
  { key: 'exiting', label: 'exiting', description: 'pilots reporting exit (only the pilots tell apfmon; unknown to apf)', numeric: true, value: (r) => r.exiting },
  { key: 'done', label: 'done (1 hr)', description: 'pilots finished well in the last hour (batch status)', numeric: true, value: (r) => r.done },
  { key: 'fault', label: 'fault (1 hr)', description: 'pilots removed or failed in the last hour (batch status)', numeric: true, value: (r) => r.fault },
  { key: 'lastmsg', label: 'last msg', description: 'age of the last cycle and its sched message', numeric: true, value: (r) => r.lastMsgAgeMs },
  { key: 'ready', label: 'ready', description: 'PanDA activated jobs seen by the last cycle', numeric: true, value: (r) => r.ready },
  { key: 'pending', label: 'pending', description: 'pending pilots, cluster-wide (snapshot plus submitted since)', numeric: true, value: (r) => r.pending },
  { key: 'instance', label: 'instance', description: 'instance that ran the last cycle', numeric: false, value: (r) => r.lastInstance },
];

/** The column of a key, or undefined. */
export function queueColumn(key: string | null | undefined): QueueColumn | undefined {
  return QUEUE_COLUMNS.find((c) => c.key === key);
}

/**
 * A queue's row.
 *
 * @param q - the queue in the status report (collectStatus).
 * @param records - its recent cycle records (any order; those older than an hour are ignored).
 * @param last - its last committed cycle (full record: `inputs.ready` lives there), or null.
 */
export function queueRow(q: QueueStatus, records: Iterable<Pick<CycleRecord, 'at' | 'jobIds'>>, last: CycleRecord | null, now: number): QueueRow {
  return {
    name: q.name,
    enabled: q.enabled,
    paused: q.paused,
    created: createdSince(records, now - HOUR_MS),
    running: q.running,
    exiting: null,
    done: q.done,
    fault: q.failed,
    ready: last?.inputs.ready ?? null,
    pending: q.pending,
    lastMsgAgeMs: last === null ? null : Math.max(0, now - last.at),
    lastMsg: last?.msg ?? null,
    lastInstance: last?.instance ?? null,
    lastOutcome: last?.outcome ?? null,
    blocked: last?.blocked ?? null,
  };
}

/** Sort direction. */
export type SortDir = 'asc' | 'desc';

/** Parses `?sort=&dir=`: unknown keys sort by name, unknown directions ascend. */
export function parseSort(sort: string | null | undefined, dir: string | null | undefined): { key: QueueColumnKey; dir: SortDir } {
  return { key: queueColumn(sort)?.key ?? 'name', dir: dir === 'desc' ? 'desc' : 'asc' };
}

/** Rows sorted on a column (stable; ties by name; unknown values last in either direction). */
export function sortQueueRows(rows: readonly QueueRow[], key: QueueColumnKey, dir: SortDir): QueueRow[] {
  const col = queueColumn(key) ?? NAME_COLUMN;
  const sign = dir === 'desc' ? -1 : 1;
  const cmp = (a: string | number, b: string | number): number =>
    typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
  return [...rows].sort((a, b) => {
    const va = col.value(a);
    const vb = col.value(b);
    if (va === null && vb !== null) return 1;
    if (vb === null && va !== null) return -1;
    const c = va === null || vb === null ? 0 : sign * cmp(va, vb);
    return c !== 0 ? c : cmp(a.name, b.name);
  });
}

/** Rows whose name contains `text` (case-insensitive; empty text keeps all). */
export function filterQueueRows(rows: readonly QueueRow[], text: string | null | undefined): QueueRow[] {
  const t = (text ?? '').trim().toLowerCase();
  return t === '' ? [...rows] : rows.filter((r) => r.name.toLowerCase().includes(t));
}
