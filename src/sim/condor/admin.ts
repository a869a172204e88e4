/**
 * Administration of an HTCondor simulator state directory (a simulator, NOT HTCondor): creating
 * and updating config.json, the state summary (jobs per status per queue and schedd), and the
 * `condor_submit`/`condor_q`/`condor_history`/`condor_rm` executables that put the simulator
 * first on PATH.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ApfError } from '../../errors.ts';
import { CONDOR_TOOLS, FAULT_MODES, readConfigFile, withDefaults, writeConfigFile, type CondorTool, type Fault, type SimConfigFile } from './config.ts';
import { resolveValue, type AdTemplate } from './job-ad.ts';
import { withLock, writeFileAtomic } from './lock.ts';
import { isUnreachable, withSchedd, type ToolContext } from './schedd.ts';
import { listSchedds, readHistory, scheddDir, type ClusterRecord, type JobRecord } from './store.ts';

/** Changes to apply to config.json. */
export interface StateUpdate {
  /** Keys to set (merged over the existing file). */
  readonly set?: Omit<SimConfigFile, 'faults'>;
  /** Faults to add or replace, per tool. */
  readonly faults?: Readonly<Partial<Record<CondorTool, Fault>>>;
  /** Remove every fault first. */
  readonly clearFaults?: boolean;
  /** Seconds to add to `clockOffsetSeconds` (fast-forward the simulated time). */
  readonly advanceSeconds?: number;
}

/**
 * Creates the state directory if needed and applies `update` to its config.json (under the config
 * lock that the tools take when they consume a fault's `times`).
 */
export async function updateState(stateDir: string, update: StateUpdate): Promise<SimConfigFile> {
  mkdirSync(join(stateDir, 'schedds'), { recursive: true });
  return withLock(join(stateDir, 'config.lock'), () => {
    const current = readConfigFile(stateDir);
    const next: SimConfigFile = { ...current, ...update.set };
    if (update.advanceSeconds !== undefined) next.clockOffsetSeconds = (current.clockOffsetSeconds ?? 0) + update.advanceSeconds;
    const faults = { ...(update.clearFaults === true ? {} : current.faults), ...update.faults };
    if (Object.keys(faults).length > 0) next.faults = faults;
    else delete next.faults;
    writeConfigFile(stateDir, next);
    return next;
  });
}

/**
 * Parses `tool=mode[:times]` (`condor_q=hang`, `condor_submit=exit:2`). Throws `APF_ERR_USAGE`.
 */
export function parseFaultSpec(spec: string): [CondorTool, Fault] {
  const m = /^([a-z_]+)=([a-z]+)(?::(\d+))?$/.exec(spec);
  const tool = m?.[1];
  const mode = m?.[2];
  if (m === null || tool === undefined || mode === undefined) {
    throw new ApfError('APF_ERR_USAGE', `--fault "${spec}": expected tool=mode[:times], e.g. condor_q=hang:2`);
  }
  if (!(CONDOR_TOOLS as readonly string[]).includes(tool)) {
    throw new ApfError('APF_ERR_USAGE', `--fault "${spec}": unknown tool "${tool}" (one of ${CONDOR_TOOLS.join(', ')})`);
  }
  if (!(FAULT_MODES as readonly string[]).includes(mode)) {
    throw new ApfError('APF_ERR_USAGE', `--fault "${spec}": unknown mode "${mode}" (one of ${FAULT_MODES.join(', ')})`);
  }
  const times = m[3] === undefined ? undefined : Number(m[3]);
  if (times === 0) throw new ApfError('APF_ERR_USAGE', `--fault "${spec}": times must be at least 1`);
  return [tool as CondorTool, { mode: mode as Fault['mode'], ...(times === undefined ? {} : { times }) }];
}

const STATUS_NAMES: ReadonlyArray<readonly [number, string]> = [
  [1, 'idle'],
  [2, 'running'],
  [5, 'held'],
  [3, 'removing'],
];

/** The APF queue of a job (its `MATCH_APF_QUEUE`), or `(none)`. */
function queueOf(cluster: ClusterRecord | undefined, job: JobRecord): string {
  const group = cluster?.groups.find((g) => job.p >= g.first && job.p < g.first + g.count);
  const t: AdTemplate = group?.template ?? {};
  const key = Object.keys(t).find((k) => k.toLowerCase() === 'match_apf_queue');
  const v = key === undefined ? null : resolveValue(t[key] ?? null, job.p);
  return typeof v === 'string' ? v : '(none)';
}

/**
 * The state summary: per schedd, jobs per status per APF queue in the queue (after advancing the
 * timeline to now) and in history.
 */
export async function summarize(ctx: ToolContext): Promise<string> {
  const c = ctx.config;
  const lines = [
    `apf HTCondor simulator (not HTCondor) — state ${ctx.stateDir}`,
    `timeline: idle ${c.idleSeconds} s, run ${c.runSeconds} s, short ${c.shortFraction} × ${c.shortSeconds} s, fail ${c.failFraction}, hold ${c.holdFraction}, ` +
      `slots ${c.maxRunning ?? 'unlimited'}, clock offset ${c.clockOffsetSeconds} s`,
  ];
  const faults = Object.entries(c.faults).map(([t, f]) => `${t}=${f.mode}${f.times === undefined ? '' : ` (${f.times} left)`}`);
  lines.push(`faults: ${faults.length === 0 ? 'none' : faults.join(', ')}`);
  const names = listSchedds(ctx.stateDir);
  if (names.length === 0) lines.push('no schedd has been used yet');
  for (const name of names) {
    const perQueue = new Map<string, number[]>();
    const count = (queue: string, col: number): void => {
      const row = perQueue.get(queue) ?? [0, 0, 0, 0, 0, 0];
      row[col] = (row[col] ?? 0) + 1;
      perQueue.set(queue, row);
    };
    let inQueue: { jobs: number; next: number };
    try {
      inQueue = await withSchedd(ctx, name, (s) => {
        for (const job of s.queue.jobs) {
          const col = STATUS_NAMES.findIndex(([st]) => st === job.s);
          count(queueOf(s.queue.clusters[String(job.c)], job), col < 0 ? 0 : col);
        }
        return { jobs: s.queue.jobs.length, next: s.queue.nextClusterId };
      });
    } catch (err) {
      if (!isUnreachable(err)) throw err;
      lines.push(`schedd ${name}: not available (not in config "schedds", or locked)`);
      continue;
    }
    const hist = readHistory(scheddDir(ctx.stateDir, name));
    for (const job of hist.jobs) count(queueOf(hist.clusters.get(job.c), job), job.s === 4 ? (job.x === 0 ? 4 : 5) : 5);
    lines.push(`schedd ${name}: ${inQueue.jobs} job(s) in the queue, ${hist.jobs.length} in history, next cluster ${inQueue.next}`);
    if (perQueue.size > 0) {
      const width = Math.max(24, ...[...perQueue.keys()].map((k) => k.length));
      lines.push(`  ${'queue'.padEnd(width)}     idle  running     held removing | history: ok  failed/removed`);
      for (const [queue, row] of [...perQueue.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        const cell = (i: number, w = 8): string => String(row[i] ?? 0).padStart(w);
        lines.push(`  ${queue.padEnd(width)} ${cell(0)} ${cell(1)} ${cell(2)} ${cell(3)} | ${cell(4, 11)} ${cell(5, 15)}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Quotes a word for `/bin/sh`. */
function shQuote(s: string): string {
  return `'${s.replaceAll("'", "'\\''")}'`;
}

/**
 * Writes the four executables into `binDir` (created if needed), each a `#!/bin/sh` script that
 * execs `node <entry> sim condor --state <stateDir> exec <tool> "$@"`, mode 755. Returns their paths.
 */
export function writeWrappers(binDir: string, stateDir: string, node: string, entry: string): string[] {
  mkdirSync(binDir, { recursive: true });
  return CONDOR_TOOLS.map((tool) => {
    const path = join(binDir, tool);
    writeFileAtomic(
      path,
      [
        '#!/bin/sh',
        `# ${tool} of the apf HTCondor simulator (NOT HTCondor), state ${stateDir}.`,
        '# Written by `apf sim condor --bin`; see docs/simulators.md.',
        `exec ${shQuote(node)} ${shQuote(entry)} sim condor --state ${shQuote(stateDir)} exec ${tool} "$@"`,
        '',
      ].join('\n'),
    );
    chmodSync(path, 0o755);
    return path;
  });
}

/** Reads the config with defaults (for summaries). */
export function loadConfig(stateDir: string) {
  return withDefaults(readConfigFile(stateDir));
}
