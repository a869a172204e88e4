/**
 * On-disk state of one simulated schedd (HTCondor simulator, NOT HTCondor):
 * `DIR/schedds/<name>/queue.json` holds the jobs in the queue and `history.jsonl` the finished
 * ones. To stay fast with 100k jobs, an ad is never stored per job: each cluster keeps one ad
 * template per `queue` statement, and each job is a small record of its dynamic state (status,
 * times, exit code). The history file is append-only JSON lines: a `cluster` line (written once,
 * before the first job of that cluster) and one `job` line per finished job, oldest first.
 * Callers hold the schedd lock (lock.ts) around every read-modify-write.
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApfError } from '../../errors.ts';
import type { AdTemplate } from './job-ad.ts';
import { writeFileAtomic } from './lock.ts';

/** The procs of one `queue` statement. */
export interface GroupRecord {
  /** First ProcId. */
  readonly first: number;
  readonly count: number;
  readonly template: AdTemplate;
}

/** A cluster in the queue (or in history). */
export interface ClusterRecord {
  readonly id: number;
  /** Submit time, epoch seconds. */
  readonly qdate: number;
  readonly groups: readonly GroupRecord[];
  /** Set once the cluster line has been written to history. */
  inHistory?: boolean;
}

/**
 * The dynamic state of one job. Short keys keep queue.json small. Times are epoch seconds.
 */
export interface JobRecord {
  /** ClusterId. */
  readonly c: number;
  /** ProcId. */
  readonly p: number;
  /** JobStatus. */
  s: number;
  /** LastJobStatus. */
  ls: number;
  /** EnteredCurrentStatus. */
  e: number;
  /** JobStartDate (set when it started). */
  st?: number;
  /** CompletionDate (completed jobs). */
  end?: number;
  /** ExitCode (completed jobs). */
  x?: number;
  /** HoldReason / HoldReasonCode / HoldReasonSubCode. */
  hr?: string;
  hc?: number;
  hs?: number;
  /** RemoveReason. */
  rr?: string;
  /** When it leaves the queue for history (removed jobs kept `removeSeconds`). */
  out?: number;
}

/** queue.json. */
export interface QueueState {
  readonly version: 1;
  nextClusterId: number;
  /** Time the timeline was last advanced to (transitions before it are final). */
  evaluatedAt: number;
  /** Clusters that still have jobs in the queue, by id. */
  clusters: Record<string, ClusterRecord>;
  /** Jobs in the queue, ordered by cluster then proc. */
  jobs: JobRecord[];
}

/** What history.jsonl holds, oldest first. */
export interface HistoryData {
  readonly clusters: ReadonlyMap<number, ClusterRecord>;
  readonly jobs: readonly JobRecord[];
}

/** Directory of one schedd's state (`-name` values are encoded to stay one path segment). */
export function scheddDir(stateDir: string, schedd: string): string {
  return join(stateDir, 'schedds', encodeURIComponent(schedd));
}

/** The schedd lock file. */
export function lockPath(dir: string): string {
  return join(dir, 'lock');
}

/** A new, empty queue. */
export function emptyQueue(firstClusterId: number, now: number): QueueState {
  return { version: 1, nextClusterId: firstClusterId, evaluatedAt: now, clusters: {}, jobs: [] };
}

/** Reads queue.json; an absent file is a new schedd. Throws `APF_ERR_SIM` when it is corrupt. */
export function readQueue(dir: string, firstClusterId: number, now: number): QueueState {
  const path = join(dir, 'queue.json');
  if (!existsSync(path)) return emptyQueue(firstClusterId, now);
  try {
    const q = JSON.parse(readFileSync(path, 'utf8')) as QueueState;
    if (q.version !== 1 || !Array.isArray(q.jobs)) throw new Error('unknown layout');
    return q;
  } catch (err) {
    throw new ApfError('APF_ERR_SIM', `${path}: corrupt simulator state: ${(err as Error).message}`, { cause: err });
  }
}

/** Writes queue.json atomically (creating the schedd directory). */
export function writeQueue(dir: string, q: QueueState): void {
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, 'queue.json'), JSON.stringify(q));
}

/**
 * Appends finished jobs to history.jsonl (oldest first), writing each cluster's line before its
 * first job. Called before queue.json is rewritten: a crash in between can only duplicate a
 * history line, which {@link readHistory} drops.
 */
export function appendHistory(dir: string, q: QueueState, finished: readonly JobRecord[]): void {
  if (finished.length === 0) return;
  const lines: string[] = [];
  for (const j of finished) {
    const cl = q.clusters[String(j.c)];
    if (cl !== undefined && cl.inHistory !== true) {
      lines.push(JSON.stringify({ cluster: { id: cl.id, qdate: cl.qdate, groups: cl.groups } }));
      cl.inHistory = true;
    }
    lines.push(JSON.stringify({ job: j }));
  }
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, 'history.jsonl'), `${lines.join('\n')}\n`);
}

/** Reads history.jsonl (absent = empty). A job recorded twice keeps its last line. */
export function readHistory(dir: string): HistoryData {
  const path = join(dir, 'history.jsonl');
  const clusters = new Map<number, ClusterRecord>();
  if (!existsSync(path)) return { clusters, jobs: [] };
  const byId = new Map<string, JobRecord>();
  const text = readFileSync(path, 'utf8');
  let lineNo = 0;
  for (const line of text.split('\n')) {
    lineNo++;
    if (line === '') continue;
    let rec: { cluster?: ClusterRecord; job?: JobRecord };
    try {
      rec = JSON.parse(line) as typeof rec;
    } catch (err) {
      throw new ApfError('APF_ERR_SIM', `${path}:${lineNo}: corrupt history line`, { cause: err });
    }
    if (rec.cluster !== undefined) clusters.set(rec.cluster.id, rec.cluster);
    else if (rec.job !== undefined) {
      const key = `${rec.job.c}.${rec.job.p}`;
      byId.delete(key); // re-insert so that the last occurrence decides the order
      byId.set(key, rec.job);
    }
  }
  return { clusters, jobs: [...byId.values()] };
}

/** Drops clusters that no longer have a job in the queue (after their history was written). */
export function pruneClusters(q: QueueState): void {
  const live = new Set(q.jobs.map((j) => j.c));
  for (const id of Object.keys(q.clusters)) if (!live.has(Number(id))) delete q.clusters[id];
}

/** Names of the schedds that have state in `stateDir`, sorted. */
export function listSchedds(stateDir: string): string[] {
  const root = join(stateDir, 'schedds');
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => decodeURIComponent(d.name))
    .sort();
}
