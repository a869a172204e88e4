import { describe, expect, it } from 'vitest';
import { executeDecision } from '../../../../src/core/execute.ts';
import { ApfError, isApfError } from '../../../../src/errors.ts';
import { noopSubmitPlugin } from '../../../../src/plugins/batch-submit/noop.ts';
import type { BatchSubmitter } from '../../../../src/plugins/define.ts';
import { findPlugin } from '../../../../src/plugins/registry.ts';
import type { Decision } from '../../../../src/core/pipeline.ts';
import { entries, okOptions, pluginOptions, recordingLogger, submitContext } from './context.ts';
import { rejection } from '../../../helpers/rejection.ts';

function submitter(section: Record<string, string> = {}): { sub: BatchSubmitter; records: ReturnType<typeof recordingLogger>['records'] } {
  const { logger, records } = recordingLogger();
  const ctx = submitContext({ queue: 'BENCH_00001', section }, logger);
  return { sub: noopSubmitPlugin.create(okOptions(noopSubmitPlugin, ctx.queue.raw), ctx), records };
}

const req = { n: 3, cycleId: 'BENCH_00001:1700000000000:42', now: new Date('2024-02-29T00:00:00Z') };


describe('plugins/batch-submit/noop', () => {
  it('is the batchsubmit plugin "Noop" with its own key chain and no delay by default', () => {
    expect(findPlugin('batchsubmit', 'noop')).toBe(noopSubmitPlugin);
    expect(noopSubmitPlugin.keyChain).toEqual(['noop']);
    expect(okOptions(noopSubmitPlugin, entries({}))).toEqual({ delay: 0 });
    expect(okOptions(noopSubmitPlugin, entries({ 'batchsubmit.noop.delay': '250' }))).toEqual({ delay: 250 });
    expect(pluginOptions(noopSubmitPlugin, entries({ 'batchsubmit.noop.delay': '-1' })).problems.map((p) => p.key)).toEqual(['batchsubmit.noop.delay']);
  });

  it('returns n made-up job ids, a new cluster per submission, and writes no submit file', async () => {
    const { sub, records } = submitter();
    const a = await sub.submit(req, new AbortController().signal);
    const b = await sub.submit({ ...req, n: 1 }, new AbortController().signal);
    expect(a.submitFile).toBe('');
    expect(a.jobIds).toHaveLength(3);
    const cluster = a.jobIds[0]?.split('.')[0];
    expect(a.jobIds).toEqual([`${cluster}.0`, `${cluster}.1`, `${cluster}.2`]);
    expect(b.jobIds).toHaveLength(1);
    expect(b.jobIds[0]?.split('.')[0]).not.toBe(cluster);
    expect(records.filter((r) => r.msg === 'noop submit').map((r) => r['cycle'])).toEqual([req.cycleId, req.cycleId]);
  });

  it('calls beforeSubmit first, and submits nothing when it throws', async () => {
    const { sub, records } = submitter();
    const order: string[] = [];
    const ok = await sub.submit({ ...req, beforeSubmit: () => void order.push('check') }, new AbortController().signal);
    order.push('returned');
    expect(order).toEqual(['check', 'returned']);
    expect(ok.jobIds).toHaveLength(3);
    const lost = new ApfError('APF_ERR_LEASE_LOST', 'lease gone');
    const err = await rejection(sub.submit({ ...req, beforeSubmit: () => { throw lost; } }, new AbortController().signal));
    expect(err).toBe(lost);
    expect(records.filter((r) => r.msg === 'noop submit')).toHaveLength(1);
  });

  it('fails with APF_ERR_ABORTED when the cycle was cancelled before the submission', async () => {
    const { sub } = submitter();
    const ac = new AbortController();
    const reason = new ApfError('APF_ERR_LEASE_LOST', 'renew found another owner');
    ac.abort(reason);
    const err = await rejection(sub.submit(req, ac.signal));
    expect(isApfError(err, 'APF_ERR_ABORTED')).toBe(true);
    expect((err as ApfError).cause).toBe(reason);
  });

  it('takes `delay` ms per submission, and a cancel cuts the delay short', async () => {
    const slow = submitter({ 'batchsubmit.noop.delay': '60' }).sub;
    const t0 = performance.now();
    expect((await slow.submit(req, new AbortController().signal)).jobIds).toHaveLength(3);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(55);

    const stuck = submitter({ 'batchsubmit.noop.delay': '30000' }).sub;
    const ac = new AbortController();
    const t1 = performance.now();
    setTimeout(() => ac.abort(new Error('deadline')), 20);
    const err = await rejection(stuck.submit(req, ac.signal));
    expect(isApfError(err, 'APF_ERR_ABORTED')).toBe(true);
    expect(performance.now() - t1).toBeLessThan(5000);
  });

  it('retires nothing and says how many it would have retired', async () => {
    const { sub } = submitter();
    const r = await sub.retire({ n: 2, jobs: [{ id: '1.0', queue: 'BENCH_00001', jobStatus: 1, qdate: 1 }], now: req.now }, new AbortController().signal);
    expect(r).toEqual({ removed: [], summary: 'noop: would retire 2' });
  });

  it('gives the cycle runner a failed outcome with the lease error when the lease check refuses', async () => {
    const { logger } = recordingLogger();
    const ctx = submitContext({ queue: 'BENCH_00001', section: {} }, logger);
    const rt = { queue: ctx.queue, chain: [], submitter: noopSubmitPlugin.create({ delay: 0 }, ctx) };
    const decision = { n: 2, submit: 2, blocked: null } as unknown as Decision;
    const common = { cycleId: req.cycleId, now: req.now, signal: new AbortController().signal, jobs: [], submit: true };
    const ok = await executeDecision(rt, decision, common);
    expect(ok.outcome).toBe('submitted');
    expect(ok.jobIds).toHaveLength(2);
    const refused = await executeDecision(rt, decision, {
      ...common,
      beforeSubmit: () => {
        throw new ApfError('APF_ERR_LEASE_LOST', 'deadline passed');
      },
    });
    expect(refused.outcome).toBe('failed');
    expect(refused.errorCode).toBe('APF_ERR_LEASE_LOST');
    expect(refused.jobIds).toEqual([]);
  });
});
