import { describe, expect, it } from 'vitest';
import { ApfError } from '../../../../src/errors.ts';
import { maxPerFactoryPlugin } from '../../../../src/plugins/sched/max-per-factory.ts';
import { build, input } from './helpers.ts';

describe('plugins/sched/max-per-factory', () => {
  const mpf = build(maxPerFactoryPlugin);
  const at = (pending: number, running: number, maxPerFactory?: number) =>
    input({ batch: { pending: 1, running: 1 }, batchTotal: { pending, running }, maxPerFactory });

  it('passes n through while the factory total stays within the maximum', () => {
    expect(mpf(10, at(30, 50, 100))).toEqual({ n: 10, msg: 'MaxPerFactory:in=10,total=80,maxperfactory=100,ret=10' });
    expect(mpf(20, at(30, 50, 100))).toEqual({ n: 20, msg: 'MaxPerFactory:in=20,total=80,maxperfactory=100,ret=20' });
  });

  it('fills up to the maximum when n would pass it', () => {
    expect(mpf(25, at(30, 50, 100))).toEqual({ n: 20, msg: 'MaxPerFactory:in=25,total=80,maxperfactory=100,ret=20' });
    expect(mpf(5, at(40, 60, 100))).toEqual({ n: 0, msg: 'MaxPerFactory:in=5,total=100,maxperfactory=100,ret=0' });
  });

  it('returns 0 when the total is already over the maximum (never negative)', () => {
    expect(mpf(5, at(70, 50, 100))).toEqual({ n: 0, msg: 'MaxPerFactory:in=5,total=120,maxperfactory=100,ret=0' });
  });

  it('lets a negative input through while under the maximum', () => {
    expect(mpf(-4, at(10, 10, 100))).toEqual({ n: -4, msg: 'MaxPerFactory:in=-4,total=20,maxperfactory=100,ret=-4' });
  });

  it('always returns 0 when the maximum is unset (Python 2: int > None is True)', () => {
    expect(mpf(10, at(0, 0))).toEqual({ n: 0, msg: 'MaxPerFactory:in=10,total=0,maxperfactory=None,ret=0' });
  });

  it('raises APF_ERR_SCHED without batch info', () => {
    expect(() => mpf(3, input({ batch: null, maxPerFactory: 100 }))).toThrow(ApfError);
    expect(() => mpf(3, input({ batch: null, maxPerFactory: 100 }))).toThrow(expect.objectContaining({ code: 'APF_ERR_SCHED' }));
  });
});
