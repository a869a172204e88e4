/**
 * The Markdown of one cluster benchmark run, and where it goes in docs/benchmarks.md: inside the
 * `bench:cluster` section, each kind of run (`target`, `quick`, `custom`) owns a sub-block between
 * its own markers and replaces only that, so hand-written notes elsewhere in the section survive.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { FailoverStats, GapStats, WindowStats } from './history.ts';

/** Everything one run measured. */
export interface RunResult {
  readonly label: 'target' | 'quick' | 'custom';
  readonly command: string;
  readonly date: string;
  readonly machine: string;
  readonly queues: number;
  readonly instances: number;
  readonly intervalS: number;
  readonly leaseTtlS: number;
  /** How the instances ran (sources or compiled, extra Node flags). */
  readonly runtime: string;
  readonly lockDurationS: number;
  readonly stalledIntervalS: number;
  readonly concurrency: number;
  /** `cluster.spread_step` (s); absent in results written before the grid. */
  readonly spreadStepS?: number;
  readonly windowS: number;
  readonly setup: { readonly schedulersS: number; readonly warmupS: number };
  readonly window: WindowStats;
  readonly perInstance: ReadonlyArray<{
    id: string;
    cycles: number;
    cpuMs: number;
    rssMiB: number;
    /** Mean of the RSS samples taken every 5 s in the window. */
    rssMeanMiB: number;
    peakMiB: number;
    /** Of the RSS at its highest sample: pages private to the instance, and pages shared with other processes (the node binary). */
    privateMiB: number;
    sharedMiB: number;
    /** Proportional set size at the same sample: private pages plus shared pages divided among the processes mapping them. */
    pssMiB: number;
    heapMiB: number;
    loopDelayMs: { p99: number; max: number };
    clientCommands: number;
  }>;
  /** Commands clients sent / Redis executed (incl. inside Lua), per committed cycle. */
  readonly clientPerCycle: number;
  readonly executedPerCycle: number;
  readonly totalProcessedPerCycle: number;
  readonly topClient: ReadonlyArray<readonly [string, number]>;
  readonly topExecuted: ReadonlyArray<readonly [string, number]>;
  readonly redisCpuMsPerCycle: number;
  readonly redisMemoryMiB: number;
  readonly loadAverage: number;
  readonly failover: (FailoverStats & { readonly victim: string; readonly boundMs: number }) | null;
  readonly skips: ReadonlyMap<string, number>;
  /** Skip and fence counters that moved during the measurement window. */
  readonly skipsInWindow: ReadonlyMap<string, number>;
}

const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a');
const verdict = (ok: boolean): string => (ok ? 'met' : '**missed**');

function gapLine(name: string, g: GapStats): string {
  const s = (ms: number | null): string => (ms === null ? 'n/a' : `${fmt(ms / 1000, 1)} s`);
  return `| ${name} | ${fmt(g.queues)} | ${s(g.p50)} | ${s(g.max)} | ${fmt(g.unrecovered)} |`;
}

/** The failover gap the target is judged on: the worst over the victim's and the interrupted queues. */
export function worstFailoverMs(f: FailoverStats): number | null {
  const gaps = [f.victimQueues, f.interrupted].filter((g) => g.queues > 0);
  if (gaps.some((g) => g.unrecovered > 0)) return Infinity;
  const maxes = gaps.map((g) => g.max).filter((m): m is number => m !== null);
  return maxes.length === 0 ? null : Math.max(...maxes);
}

/** The Markdown block of one run. */
export function renderRun(r: RunResult): string {
  const w = r.window;
  const cpuTotal = r.perInstance.reduce((a, p) => a + p.cpuMs, 0);
  const cpuPerCycle = cpuTotal / w.cycles;
  const maxRss = Math.max(...r.perInstance.map((p) => p.rssMiB));
  const maxPss = Math.max(...r.perInstance.map((p) => p.pssMiB));
  const failMs = r.failover === null ? null : worstFailoverMs(r.failover);
  const title = r.label === 'target' ? 'Target configuration' : r.label === 'quick' ? 'Quick run (`--quick`)' : 'Custom run';
  const outcomes = [...w.outcomes].map(([k, v]) => `${k} ${fmt(v)}`).join(', ');
  const list = (m: ReadonlyMap<string, number>): string => [...m].filter(([, v]) => v > 0).map(([k, v]) => `${k} ${fmt(v)}`).join(', ') || 'none';
  const lines = [
    `### ${title}: ${fmt(r.queues)} queues × ${r.instances} instances, interval ${r.intervalS} s`,
    '',
    `Command: \`${r.command}\` · ${r.date}`,
    `Machine: ${r.machine}, load average ${fmt(r.loadAverage, 2)} at the end of the window`,
    '',
    `Setup: instances run ${r.runtime}; lease TTL ${r.leaseTtlS} s, BullMQ lock ${r.lockDurationS} s and stalled check every ${r.stalledIntervalS} s, ${r.concurrency} concurrent cycles per instance${r.spreadStepS === undefined ? '' : r.spreadStepS > 0 ? `, queues' phases on a ${r.spreadStepS} s grid` : ', no grid of phases'}; the reconciler created the ${fmt(r.queues)} schedulers in ${fmt(r.setup.schedulersS, 1)} s; warm-up ${fmt(r.setup.warmupS)} s; measured over ${fmt(r.windowS)} s (${fmt(r.windowS / r.intervalS, 1)} intervals): ${fmt(w.cycles)} committed cycles (${outcomes}; ${fmt(w.pilots)} pilots "submitted"), ${fmt(w.missingSlots)} of ${fmt(w.expectedSlots)} scheduler slots without a record; skips in the window: ${list(r.skipsInWindow)}, over the whole run: ${list(r.skips)}.`,
    '',
    '| instance | cycles | CPU ms / cycle | RSS MiB (mean / max in window) | of it private / shared MiB | PSS MiB | peak RSS MiB | JS heap used MiB (end) | event-loop delay p99 / max ms | commands sent / cycle |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.perInstance.map(
      (p) =>
        `| ${p.id} | ${fmt(p.cycles)} | ${fmt(p.cpuMs / p.cycles, 2)} | ${fmt(p.rssMeanMiB, 1)} / ${fmt(p.rssMiB, 1)} | ${fmt(p.privateMiB, 1)} / ${fmt(p.sharedMiB, 1)} | ${fmt(p.pssMiB, 1)} | ${fmt(p.peakMiB, 1)} | ${fmt(p.heapMiB, 1)} | ${fmt(p.loopDelayMs.p99)} / ${fmt(p.loopDelayMs.max)} | ${fmt(p.clientCommands / p.cycles, 1)} |`,
    ),
    `| all | ${fmt(w.cycles)} | ${fmt(cpuPerCycle, 2)} | ${fmt(r.perInstance.reduce((a, p) => a + p.rssMeanMiB, 0) / r.perInstance.length, 1)} / ${fmt(maxRss, 1)} | | | | | | ${fmt(r.clientPerCycle, 1)} |`,
    '',
    `Redis per committed cycle: **${fmt(r.clientPerCycle, 1)} commands sent by clients** (round trips; a script call is one), **${fmt(r.executedPerCycle, 1)} commands executed** including those run inside Lua scripts (INFO commandstats; \`total_commands_processed\` gives ${fmt(r.totalProcessedPerCycle, 1)}); redis-server CPU ${fmt(r.redisCpuMsPerCycle, 3)} ms per cycle; used memory ${fmt(r.redisMemoryMiB, 1)} MiB at the end.`,
    `Most frequent commands sent per cycle: ${r.topClient.map(([k, v]) => `${k} ${fmt(v, 2)}`).join(', ')}.`,
    `Most frequent commands executed per cycle: ${r.topExecuted.map(([k, v]) => `${k} ${fmt(v, 2)}`).join(', ')}.`,
    '',
    `Dispatch lag (cycle start − scheduler slot): p50 ${fmt(w.lagP50)} ms, p99 ${fmt(w.lagP99)} ms, max ${fmt(w.lagMax)} ms.`,
  ];
  if (r.failover !== null) {
    const f = r.failover;
    lines.push(
      '',
      `Failover: SIGKILL of ${f.victim} (it held the reconciler lease); gap = kill → next completed cycle of the queue on another instance.`,
      '',
      '| queues | n | p50 | max | no cycle in time |',
      '| --- | ---: | ---: | ---: | ---: |',
      gapLine('last cycle ran on the victim', f.victimQueues),
      gapLine('cycle interrupted by the kill', f.interrupted),
      gapLine('the others (control)', f.otherQueues),
      '',
      `Cycles completed on the victim after the kill: ${f.afterKillOnVictim}.`,
    );
  }
  const targetRows = [
    `p99 dispatch lag < 1 s: ${verdict(w.lagP99 < 1000)} (${fmt(w.lagP99)} ms)`,
    `≤ 2 ms instance CPU per cycle: ${verdict(cpuPerCycle <= 2)} (${fmt(cpuPerCycle, 2)} ms)`,
    `≤ 15 Redis commands per cycle: sent by clients ${verdict(r.clientPerCycle <= 15)} (${fmt(r.clientPerCycle, 1)}), executed incl. Lua ${verdict(r.executedPerCycle <= 15)} (${fmt(r.executedPerCycle, 1)})`,
    `≤ 150 MB RSS per instance: ${verdict(maxRss * 1.048576 <= 150)} (max ${fmt(maxRss * 1.048576, 1)} MB; PSS, which divides the pages shared between processes among them, max ${fmt(maxPss * 1.048576, 1)} MB)`,
  ];
  if (r.failover !== null) {
    targetRows.push(
      `failover ≤ interval + 10 s = ${fmt(r.failover.boundMs / 1000)} s: ${verdict(failMs !== null && failMs <= r.failover.boundMs)} (max ${failMs === null ? 'n/a' : fmt(failMs / 1000, 1)} s)`,
    );
  }
  lines.push('', `Targets: ${targetRows.join('; ')}.`);
  return lines.join('\n');
}

const SECTION_START = '<!-- bench:cluster:start -->';
const SECTION_END = '<!-- bench:cluster:end -->';

/** The section created when docs/benchmarks.md has none yet (notes are then added by hand). */
const NEW_SECTION = `## Coordination layer: K instances × M queues on one Redis

Command: \`npm run bench:cluster\` (\`node bench/cluster.ts\`; \`--quick\` for a 1–2 minute run).`;

/** Replaces the run's sub-block (creating the section or the sub-block when missing). */
export function writeRunBlock(file: URL, label: RunResult['label'], md: string): void {
  let doc: string;
  try {
    doc = readFileSync(file, 'utf8');
  } catch {
    doc = '# Benchmarks\n\nEach section is rewritten by the command it names; numbers are from the machine stated.\n';
  }
  const start = `<!-- bench:cluster:${label}:start -->`;
  const end = `<!-- bench:cluster:${label}:end -->`;
  const block = `${start}\n${md}\n${end}`;
  if (!doc.includes(SECTION_START) || !doc.includes(SECTION_END)) {
    doc = `${doc.trimEnd()}\n\n${SECTION_START}\n${NEW_SECTION}\n${SECTION_END}\n`;
  }
  const a = doc.indexOf(start);
  const b = doc.indexOf(end);
  if (a >= 0 && b > a) {
    doc = doc.slice(0, a) + block + doc.slice(b + end.length);
  } else {
    const e = doc.indexOf(SECTION_END);
    doc = `${doc.slice(0, e).trimEnd()}\n\n${block}\n${doc.slice(e)}`;
  }
  writeFileSync(file, doc);
}
