/** `apf run-once`: one real cycle (submission included) for some or all queues. */
import type { CliCommand } from '../command.ts';
import { CONFIG_OPTION, UsageError, commandLogger, loadOrReport, parse, selectQueues } from '../common.ts';
import { outcomeJson, renderOutcomes } from '../render.ts';
import { runQueues } from '../../core/run-queues.ts';

export const runOnceCommand: CliCommand = {
  name: 'run-once',
  summary: 'run one real cycle (submit included) for the given queues, in parallel, each isolated',
  usage: `apf run-once [--config DIR] (--queue NAME... | --all) [--concurrency N] [--json]

  Exit 0 when every queue's cycle completed (submitted, retired, nothing to do or blocked by
  the fail-closed gate), 4 when at least one queue's cycle failed, 1 for an invalid config.`,
  async run(args, io) {
    const { values } = parse(args, {
      ...CONFIG_OPTION,
      queue: { type: 'string', multiple: true },
      all: { type: 'boolean' },
      concurrency: { type: 'string' },
      json: { type: 'boolean' },
    });
    if ((values.queue === undefined || values.queue.length === 0) && values.all !== true) {
      throw new UsageError('name the queues (--queue NAME, repeatable) or pass --all');
    }
    if (values.queue !== undefined && values.all === true) throw new UsageError('--queue and --all exclude each other');
    const concurrency = values.concurrency === undefined ? 8 : Number(values.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError('--concurrency must be a positive integer');
    const config = await loadOrReport(values.config, io, values.json === true);
    if (config === undefined) return 1;
    const queues = selectQueues(config, values.queue);
    const outcomes = await runQueues({
      config,
      logger: commandLogger(io, 'info'),
      queues,
      submit: true,
      concurrency,
      signal: io.signal,
    });
    io.stdout.write(values.json === true ? `${JSON.stringify(outcomes.map(outcomeJson), null, 2)}\n` : renderOutcomes(outcomes, true));
    return outcomes.some((o) => o.outcome === 'failed') ? 4 : 0;
  },
};
