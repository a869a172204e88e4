/** `apf drill`: a failover drill against the live cluster, with a report. */
import type { CliCommand } from '../command.ts';
import { CONFIG_OPTION, UsageError, loadOrReport, parse } from '../common.ts';
import { withCluster } from '../cluster.ts';
import { runDrill, type DrillReport } from '../../core/drill.ts';

function render(r: DrillReport): string {
  const s = (ms: number | null): string => (ms === null ? '—' : `${(ms / 1000).toFixed(1)} s`);
  const lines = [
    `drill: ${r.method} ${r.victim} at ${new Date(r.startedAt).toISOString()} (${s(r.endedAt - r.startedAt)})`,
    `failover gap per queue: max ${s(r.maxGapMs)}, p50 ${s(r.p50GapMs)}; bound interval + 10 s`,
    ...r.queues.map((q) => `  ${q.queue.padEnd(30)} ${s(q.gapMs).padStart(8)}  on ${q.instance ?? '—'}${q.withinBound ? '' : '  OUT OF BOUND'}`),
    `missed: ${r.missed.length === 0 ? 'none' : r.missed.join(', ')}`,
    `duplicate (queue, slot) submissions: ${r.duplicates.length}${r.duplicates.map((d) => `\n  ${d.queue} slot ${d.slot}: tokens ${d.tokens.join(', ')}`).join('')}`,
    r.note,
  ];
  return `${lines.join('\n')}\n`;
}

export const drillCommand: CliCommand = {
  name: 'drill',
  summary: 'run a failover drill: freeze (or --kill) an instance, measure takeover per queue, count duplicates',
  usage: `apf drill [--config DIR] [--instance ID] [--kill] [--timeout SECONDS] [--json]

  Freezes the victim through a control message (no heartbeats, polls or cycles, as if dead) or,
  with --kill, SIGKILLs it when it runs on this host; measures per queue the time until its next
  cycle completes on another instance; counts (queue, slot) pairs submitted under two tokens;
  thaws the victim. Exit 0 when every queue failed over within interval + 10 s with no duplicate,
  5 otherwise.`,
  async run(args, io) {
    const { values } = parse(args, { ...CONFIG_OPTION, instance: { type: 'string' }, kill: { type: 'boolean' }, timeout: { type: 'string' }, json: { type: 'boolean' } });
    const timeout = values.timeout === undefined ? undefined : Number(values.timeout) * 1000;
    if (timeout !== undefined && !(timeout > 0)) throw new UsageError('--timeout must be a positive number of seconds');
    const config = await loadOrReport(values.config, io, true);
    if (config === undefined) return 1;
    const report = await withCluster(config, io, (h) =>
      runDrill(
        { redis: h.redis, keys: h.keys, config, who: h.who },
        {
          ...(values.instance === undefined ? {} : { instance: values.instance }),
          ...(values.kill === true ? { kill: true } : {}),
          ...(timeout === undefined ? {} : { timeoutMs: timeout }),
          ...(values.json === true ? {} : { progress: (l: string) => io.stderr.write(`${l}\n`) }),
        },
      ),
    );
    io.stdout.write(values.json === true ? `${JSON.stringify(report, null, 2)}\n` : render(report));
    return report.missed.length === 0 && report.duplicates.length === 0 && report.queues.every((q) => q.withinBound) ? 0 : 5;
  },
};
