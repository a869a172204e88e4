/**
 * The job timeline of the HTCondor simulator (a simulator, NOT HTCondor). There is no daemon:
 * whenever a tool runs, the queue is advanced lazily from its timestamps to "now". A job waits
 * `idleSeconds` after QDate, then starts (or is held), runs `runSeconds` (or `shortSeconds`) and
 * completes; `maxRunning` limits how many run at once (first eligible, first started). Each job's
 * fate — normal, short, failed (non-zero ExitCode) or held — comes from a hash of its id, never
 * from a random generator, so the same submissions give the same history in every test run.
 * Advancing is exact whatever the call pattern: the result at time T is the same whether the
 * queue was evaluated once at T or many times before.
 */
import type { SimConfig } from './config.ts';
import type { ClusterRecord, JobRecord, QueueState } from './store.ts';

/** What happens to a job once it leaves the idle state. */
export interface Fate {
  readonly kind: 'ok' | 'short' | 'fail' | 'hold';
  /** Run time in seconds (not used for held jobs). */
  readonly runSeconds: number;
  /** ExitCode when it completes. */
  readonly exitCode: number;
}

/** A transition applied while advancing. */
export interface JobEvent {
  readonly kind: 'start' | 'hold' | 'complete' | 'leave';
  /** Epoch seconds. */
  readonly at: number;
  readonly job: JobRecord;
}

/** What {@link advance} did. */
export interface AdvanceResult {
  /** Every transition, in time order (for the jobs' output and log files). */
  readonly events: readonly JobEvent[];
  /** Jobs that left the queue (completed, or removed and done), in time order: they go to history. */
  readonly finished: readonly JobRecord[];
}

/**
 * A well-mixed 32-bit hash of a string: FNV-1a followed by MurmurHash3's finaliser (plain FNV-1a
 * leaves ids such as `100.1`, `100.2` clustered in the high bits, which would skew the fractions).
 */
export function jobHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const FAIL_EXIT_CODES = [1, 2, 64, 65, 66] as const;

/** The deterministic fate of job `c.p` under `cfg` (fractions partition [0, 1) of the id's hash). */
export function fateOf(c: number, p: number, cfg: SimConfig): Fate {
  const u = jobHash(`${c}.${p}`) / 2 ** 32;
  if (u < cfg.holdFraction) return { kind: 'hold', runSeconds: 0, exitCode: 0 };
  if (u < cfg.holdFraction + cfg.failFraction) {
    const code = FAIL_EXIT_CODES[jobHash(`${c}.${p}:exit`) % FAIL_EXIT_CODES.length] ?? 1;
    return { kind: 'fail', runSeconds: cfg.runSeconds, exitCode: code };
  }
  if (u < cfg.holdFraction + cfg.failFraction + cfg.shortFraction) return { kind: 'short', runSeconds: cfg.shortSeconds, exitCode: 0 };
  return { kind: 'ok', runSeconds: cfg.runSeconds, exitCode: 0 };
}

/** The hold reason a held job gets, shaped like the gridmanager's or the starter's. */
export function holdReasonFor(cluster: ClusterRecord | undefined, p: number): { hr: string; hc: number; hs: number } {
  const group = cluster?.groups.find((g) => p >= g.first && p < g.first + g.count);
  const gr = group?.template['GridResource'];
  if (typeof gr === 'string' && gr !== '') {
    const host = gr.split(' ')[1] ?? gr;
    return {
      hr: `Error connecting to schedd ${host}: AUTHENTICATE:1003:Failed to authenticate with any method|AUTHENTICATE:1004:Failed to authenticate using SSL`,
      hc: 0,
      hs: 0,
    };
  }
  return { hr: 'Error from slot1_1@wn001.sim.invalid: Job has gone over cgroup memory limit of 2048 megabytes.', hc: 34, hs: 0 };
}

/** A binary min-heap of numbers (end times of running jobs). */
class MinHeap {
  private readonly a: number[] = [];

  get size(): number {
    return this.a.length;
  }

  peek(): number | undefined {
    return this.a[0];
  }

  push(v: number): void {
    const a = this.a;
    a.push(v);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((a[parent] as number) <= v) break;
      a[i] = a[parent] as number;
      i = parent;
    }
    a[i] = v;
  }

  pop(): number | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const m = r < a.length && (a[r] as number) < (a[l] as number) ? r : l;
        if ((a[m] as number) >= last) break;
        a[i] = a[m] as number;
        i = m;
      }
      a[i] = last;
    }
    return top;
  }
}

/**
 * Advances `q` to `now` (epoch seconds), mutating its job records and dropping the jobs that left
 * (their clusters stay until the caller has written them to history and calls `pruneClusters`).
 * Nothing happens when `now` is not after the last evaluation.
 */
export function advance(q: QueueState, cfg: SimConfig, now: number): AdvanceResult {
  if (now <= q.evaluatedAt) return { events: [], finished: [] };
  // Jobs idle at the last evaluation cannot have started before it.
  const floor = q.evaluatedAt;
  const events: JobEvent[] = [];
  const ends = new Map<JobRecord, number>();
  const heap = new MinHeap();
  const candidates: Array<{ job: JobRecord; eligible: number; fate: Fate }> = [];

  for (const job of q.jobs) {
    if (job.s === 2) {
      const end = (job.st ?? job.e) + fateOf(job.c, job.p, cfg).runSeconds;
      ends.set(job, end);
      heap.push(end);
    } else if (job.s === 3) {
      if (job.out !== undefined && job.out <= now) events.push({ kind: 'leave', at: job.out, job });
    } else if (job.s === 1) {
      const qdate = q.clusters[String(job.c)]?.qdate ?? job.e;
      const eligible = Math.max(qdate + cfg.idleSeconds, floor);
      if (eligible > now) continue;
      const fate = fateOf(job.c, job.p, cfg);
      if (fate.kind === 'hold') {
        // Refused by the CE / the starter: held without ever taking a slot.
        events.push({ kind: 'hold', at: eligible, job });
      } else {
        candidates.push({ job, eligible, fate });
      }
    }
  }

  candidates.sort((a, b) => a.eligible - b.eligible || a.job.c - b.job.c || a.job.p - b.job.p);
  const max = cfg.maxRunning;
  for (const cand of candidates) {
    let start = cand.eligible;
    if (max !== undefined) {
      if (max === 0) break;
      while ((heap.peek() ?? Infinity) <= start) heap.pop();
      while (heap.size >= max) start = Math.max(start, heap.pop() as number);
      // First eligible, first started: nobody behind this job can start earlier.
      if (start > now) break;
    }
    events.push({ kind: 'start', at: start, job: cand.job });
    const end = start + cand.fate.runSeconds;
    ends.set(cand.job, end);
    heap.push(end);
  }
  for (const [job, end] of ends) {
    if (end <= now) events.push({ kind: 'complete', at: end, job });
  }

  const order = { start: 0, hold: 0, complete: 1, leave: 1 } as const;
  events.sort((a, b) => a.at - b.at || order[a.kind] - order[b.kind] || a.job.c - b.job.c || a.job.p - b.job.p);
  const finished: JobRecord[] = [];
  for (const ev of events) apply(ev, q, cfg, finished);
  if (finished.length > 0) {
    const gone = new Set(finished);
    q.jobs = q.jobs.filter((j) => !gone.has(j));
  }
  q.evaluatedAt = now;
  return { events, finished };
}

function apply(ev: JobEvent, q: QueueState, cfg: SimConfig, finished: JobRecord[]): void {
  const j = ev.job;
  switch (ev.kind) {
    case 'start':
      j.ls = j.s;
      j.s = 2;
      j.e = ev.at;
      j.st = ev.at;
      break;
    case 'hold': {
      const why = holdReasonFor(q.clusters[String(j.c)], j.p);
      j.ls = j.s;
      j.s = 5;
      j.e = ev.at;
      j.hr = why.hr;
      j.hc = why.hc;
      j.hs = why.hs;
      break;
    }
    case 'complete':
      j.ls = j.s;
      j.s = 4;
      j.e = ev.at;
      j.end = ev.at;
      j.x = fateOf(j.c, j.p, cfg).exitCode;
      finished.push(j);
      break;
    case 'leave':
      finished.push(j);
      break;
  }
}
