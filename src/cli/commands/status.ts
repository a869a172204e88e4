/** `apf status`: instances, queues and batch sources of the cluster, read from Redis. */
import type { CliCommand } from '../command.ts';
import { CONFIG_OPTION, loadOrReport, parse } from '../common.ts';
import { withCluster } from '../cluster.ts';
import { collectStatus, renderStatus } from '../../core/status.ts';

export const statusCommand: CliCommand = {
  name: 'status',
  summary: 'show instances, queues (last cycle, cluster-wide counts) and batch sources',
  usage: `apf status [--config DIR] [--json]

  Finds Redis the way apf start does. --json prints the documented status interface:
  {"at", "instances": [{"id","state","alive","heartbeatAgeMs",…}], "queues": [{"name","paused",
  "lastCycle": null | {"at","instance","token","n","submit","msg","outcome",…}, "pending","running",…}],
  "sources": [{"source","owner","state","ageMs",…}]} (docs/operations.md).`,
  async run(args, io) {
    const { values } = parse(args, { ...CONFIG_OPTION, json: { type: 'boolean' } });
    const config = await loadOrReport(values.config, io, true);
    if (config === undefined) return 1;
    const report = await withCluster(config, io, (h) => collectStatus(h.redis, h.keys, config));
    io.stdout.write(values.json === true ? `${JSON.stringify(report, null, 2)}\n` : renderStatus(report));
    return 0;
  },
};
