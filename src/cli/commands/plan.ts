/** `apf plan`: what each queue would submit now and why, without submitting. */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CliCommand } from '../command.ts';
import { CONFIG_OPTION, commandLogger, loadOrReport, parse, selectQueues } from '../common.ts';
import { decisionJson, renderOutcomes } from '../render.ts';
import { runQueues, type SnapshotInputs } from '../../core/run-queues.ts';
import { readBatchSnapshot, readWmsSnapshot } from '../../core/snapshot.ts';

export const planCommand: CliCommand = {
  name: 'plan',
  summary: 'show what each queue would submit now and why (no submission)',
  usage: `apf plan [--config DIR] [--wms-snapshot F] [--batch-snapshot F] [--queue NAME]... [--json]

  Without snapshots the live WMS and batch sources are read. A snapshot file holds the
  normalized pipeline inputs (see docs/operations.md); a file containing null means that source
  is unavailable. --json prints [{"queue","n","submit","msg","steps":[...],"blocked"}].`,
  async run(args, io) {
    const { values } = parse(args, {
      ...CONFIG_OPTION,
      'wms-snapshot': { type: 'string' },
      'batch-snapshot': { type: 'string' },
      queue: { type: 'string', multiple: true },
      json: { type: 'boolean' },
    });
    const config = await loadOrReport(values.config, io, values.json === true);
    if (config === undefined) return 1;
    const queues = selectQueues(config, values.queue);
    const now = Date.now();
    const snapshots: { wms?: SnapshotInputs['wms']; batch?: SnapshotInputs['batch'] } = {};
    if (values['wms-snapshot'] !== undefined) {
      const f = resolve(io.cwd, values['wms-snapshot']);
      snapshots.wms = readWmsSnapshot(await readFile(f, 'utf8'), f, now);
    }
    if (values['batch-snapshot'] !== undefined) {
      const f = resolve(io.cwd, values['batch-snapshot']);
      snapshots.batch = readBatchSnapshot(await readFile(f, 'utf8'), f, now);
    }
    const outcomes = await runQueues({
      config,
      logger: commandLogger(io),
      queues,
      submit: false,
      signal: io.signal,
      now: () => now,
      snapshots,
    });
    io.stdout.write(values.json === true ? `${JSON.stringify(outcomes.map(decisionJson), null, 2)}\n` : renderOutcomes(outcomes, false));
    return 0;
  },
};
