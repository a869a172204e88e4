/**
 * `batchsubmitplugin = Noop`: submits nothing, returns made-up job ids. For dry runs of a whole
 * cluster and benchmarks of the coordination layer; the decision, lease, fence and records are all
 * real.
 */
import { opt } from '../../config/options.ts';
import { defineBatchSubmitPlugin } from '../define.ts';

let counter = 0;

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
        if (o.delay > 0) await new Promise((r) => setTimeout(r, o.delay));
        signal.throwIfAborted();
        const cluster = `noop${process.pid}x${++counter}`;
        ctx.logger.debug({ n: req.n, cycle: req.cycleId }, 'noop submit');
        return { jobIds: Array.from({ length: req.n }, (_, i) => `${cluster}.${i}`), submitFile: '' };
      },
      retire(req) {
        return Promise.resolve({ removed: [], summary: `noop: would retire ${req.n}` });
      },
    };
  },
});
