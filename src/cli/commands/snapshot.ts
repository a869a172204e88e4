/** `apf snapshot`: write the live WMS and batch inputs to files for offline replay with `apf plan`. */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CliCommand } from '../command.ts';
import { CONFIG_OPTION, commandLogger, loadOrReport, parse, selectQueues } from '../common.ts';
import { StatusSources } from '../../core/status-sources.ts';
import { writeBatchSnapshot, writeWmsSnapshot } from '../../core/snapshot.ts';

export const snapshotCommand: CliCommand = {
  name: 'snapshot',
  summary: 'write the live WMS and batch status as snapshot files (replay them with apf plan)',
  usage: `apf snapshot [--config DIR] [--queue NAME]... [--wms FILE] [--batch FILE]

  Defaults: wms-snapshot.json and batch-snapshot.json in the current directory. A source that
  cannot be read is written as null (replayed as unavailable).`,
  async run(args, io) {
    const { values } = parse(args, {
      ...CONFIG_OPTION,
      queue: { type: 'string', multiple: true },
      wms: { type: 'string' },
      batch: { type: 'string' },
    });
    const config = await loadOrReport(values.config, io, true);
    if (config === undefined) return 1;
    const queues = selectQueues(config, values.queue);
    const sources = new StatusSources({ config, logger: commandLogger(io), queues });
    await sources.refresh(io.signal, true);
    const wmsFile = resolve(io.cwd, values.wms ?? 'wms-snapshot.json');
    const batchFile = resolve(io.cwd, values.batch ?? 'batch-snapshot.json');
    const wmsViews = sources.wmsKeys.map((k) => sources.wmsView(k));
    const batchViews = sources.batchKeys.map((k) => sources.batchView(k));
    await writeFile(wmsFile, writeWmsSnapshot(wmsViews));
    await writeFile(batchFile, writeBatchSnapshot(batchViews));
    for (const v of [...wmsViews, ...batchViews]) {
      if (!v.available) io.stderr.write(`warning: ${v.key} unavailable (${v.reason}): written as null\n`);
    }
    io.stdout.write(`wrote ${wmsFile}\nwrote ${batchFile}\n`);
    return 0;
  },
};
