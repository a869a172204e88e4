/**
 * What the cluster benchmark reads from outside the processes it measures: CPU time and memory
 * from /proc (Linux), Redis' INFO sections, and the client-side command counts written by
 * count-commands.ts. Parsers are pure; the readers are thin.
 */
import { existsSync, readFileSync } from 'node:fs';
import { runCommand } from '../../src/util/exec.ts';

/** Clock ticks per second of /proc/<pid>/stat times (`getconf CLK_TCK`, 100 on Linux when unknown). */
export async function clockTicks(): Promise<number> {
  try {
    const r = await runCommand('getconf', ['CLK_TCK'], { timeoutMs: 5000 });
    const n = Number(r.stdout.trim());
    return Number.isInteger(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

/**
 * User + system CPU ticks of a process from the text of /proc/<pid>/stat (fields 14 and 15,
 * counted after the parenthesised command name, which may itself contain spaces).
 */
export function parseProcStatTicks(text: string): number {
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): utime is field 14, stime field 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unexpected /proc stat line: ${text.slice(0, 120)}`);
  return utime + stime;
}

/** CPU milliseconds (user + system, all threads) used so far by `pid`. */
export function cpuMs(pid: number, ticksPerSecond: number): number {
  return (parseProcStatTicks(readFileSync(`/proc/${pid}/stat`, 'utf8')) * 1000) / ticksPerSecond;
}

/** `VmRSS` and `VmHWM` (peak RSS) in MiB from the text of /proc/<pid>/status. */
export function parseProcStatusMemory(text: string): { rssMiB: number; peakMiB: number } {
  const kb = (field: string): number => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    if (m === null) throw new Error(`/proc status has no ${field}`);
    return Number(m[1]);
  };
  return { rssMiB: kb('VmRSS') / 1024, peakMiB: kb('VmHWM') / 1024 };
}

/**
 * How much of a process's resident memory is its own, MiB, from the text of
 * /proc/<pid>/smaps_rollup: `private` (Private_Clean + Private_Dirty: pages no other process
 * maps) and `sharedFile` (Shared_Clean: mostly the node binary's code, mapped once for every
 * instance on the host but counted in each one's RSS), and `pss` (the private pages plus each
 * shared page divided by the number of processes mapping it: what the instance costs the host).
 */
export function parseSmapsRollup(text: string): { privateMiB: number; sharedMiB: number; pssMiB: number } {
  const kb = (field: string): number => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    if (m === null) throw new Error(`smaps_rollup has no ${field}`);
    return Number(m[1]);
  };
  return {
    privateMiB: (kb('Private_Clean') + kb('Private_Dirty')) / 1024,
    sharedMiB: (kb('Shared_Clean') + kb('Shared_Dirty')) / 1024,
    pssMiB: kb('Pss') / 1024,
  };
}

/** Private and shared resident memory of `pid`, MiB (see {@link parseSmapsRollup}). */
export function residentSplit(pid: number): { privateMiB: number; sharedMiB: number; pssMiB: number } {
  return parseSmapsRollup(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
}

/** Current and peak resident memory of `pid`, MiB. */
export function memory(pid: number): { rssMiB: number; peakMiB: number } {
  return parseProcStatusMemory(readFileSync(`/proc/${pid}/status`, 'utf8'));
}

/** The `field:value` lines of an INFO reply, by field. */
export function parseInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.indexOf(':');
    if (i > 0) out.set(line.slice(0, i), line.slice(i + 1));
  }
  return out;
}

/** Calls per command from INFO commandstats (`cmdstat_<name>:calls=…`; subcommands as `config|get`). */
export function commandCalls(info: ReadonlyMap<string, string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [field, value] of info) {
    if (!field.startsWith('cmdstat_')) continue;
    const m = /(?:^|,)calls=(\d+)/.exec(value);
    if (m !== null) out.set(field.slice('cmdstat_'.length), Number(m[1]));
  }
  return out;
}

/** `after − before` per key (keys missing before count from 0); zero deltas are dropped. */
export function deltas(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    if (d !== 0) out.set(k, d);
  }
  return out;
}

/** Sum of a map's values. */
export function total(m: ReadonlyMap<string, number>): number {
  let s = 0;
  for (const v of m.values()) s += v;
  return s;
}

/** One snapshot of a process's client-side command counts (count-commands.ts). */
export interface ClientCounts {
  readonly seq: number;
  readonly counts: Map<string, number>;
  /** The process's `process.memoryUsage()` (bytes) when it wrote the file. */
  readonly memory: Readonly<Record<string, number>>;
  /** Event-loop delay since the previous snapshot, ms (`p50`, `p99`, `max`). */
  readonly loopDelayMs: Readonly<Record<string, number>>;
}

/** Reads the counts file; undefined while it does not exist or is not (yet) the expected shape. */
export function readClientCounts(file: string): ClientCounts | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as { seq?: unknown; counts?: unknown; memory?: unknown; loopDelayMs?: unknown };
    if (typeof raw.seq !== 'number' || typeof raw.counts !== 'object' || raw.counts === null) return undefined;
    const record = (v: unknown): Record<string, number> => (typeof v === 'object' && v !== null ? (v as Record<string, number>) : {});
    return { seq: raw.seq, counts: new Map(Object.entries(raw.counts as Record<string, number>)), memory: record(raw.memory), loopDelayMs: record(raw.loopDelayMs) };
  } catch {
    return undefined;
  }
}

/** Nearest-rank percentile (`p` in 0..100) of unsorted values; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return s[rank - 1] as number;
}
