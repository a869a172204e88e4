/**
 * `batchsubmitplugin = Noop`: submits nothing, returns made-up job ids. For dry runs of a whole
 * cluster and benchmarks of the coordination layer; the decision, lease, fence and records are all
 * real.
 *
 * It behaves like a real submitter where the cycle runner can tell: `beforeSubmit` (the lease
 * check) runs first and a throw there submits nothing; the optional `delay` stands for the time
 * `condor_submit` takes and is cut short by the cycle's signal; a cancelled "submission" fails with
 * `APF_ERR_ABORTED`, as `runCommand` reports a killed `condor_submit`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { opt } from '../../config/options.ts';
import { ApfError } from '../../errors.ts';
import { defineBatchSubmitPlugin } from '../define.ts';

/** Makes job ids unique within the process (`noop<pid>x<n>.<proc>`). */
let counter = 0;

function cancelled(signal: AbortSignal): ApfError {
  return new ApfError('APF_ERR_ABORTED', 'noop submit: cancelled', { cause: signal.reason });
}

export const noopSubmitPlugin = defineBatchSubmitPlugin({
  id: 'Noop',
  family: 'batchsubmit',
  summary: 'submits nothing (dry runs, benchmarks): made-up job ids, no batch system contacted',
  keyChain: ['noop'],
  options: { delay: opt.int('Milliseconds each "submission" takes', 0, { min: 0 }) },
  create(o, ctx) {
    return {
      async submit(req, signal) {
        await req.beforeSubmit?.();
        if (signal.aborted) throw cancelled(signal);
        if (o.delay > 0) {
          try {
            await sleep(o.delay, undefined, { signal });
          } catch {
            throw cancelled(signal);
          }
        }
        const cluster = `noop${process.pid}x${++counter}`;
        ctx.logger.debug({ queue: ctx.queue.name, n: req.n, cycle: req.cycleId }, 'noop submit');
        return { jobIds: Array.from({ length: req.n }, (_, i) => `${cluster}.${i}`), submitFile: '' };
      },
      retire(req) {
        return Promise.resolve({ removed: [], summary: `noop: would retire ${req.n}` });
      },
    };
  },
});
