import { describe, expect, it } from 'vitest';
import { ApfError } from '../../../../src/errors.ts';
import { minPendingPlugin } from '../../../../src/plugins/sched/min-pending.ts';
import { build, input } from './helpers.ts';

describe('plugins/sched/min-pending', () => {
  const mp = build(minPendingPlugin, { 'sched.minpending.minimum': '5' });

  it('keeps at least minimum pilots pending', () => {
    expect(mp(0, input({ batch: { pending: 2, running: 0 } }))).toEqual({
      n: 3,
      msg: 'MinPending:in=0,minpending=5,pending=2,ret=3',
    });
    expect(mp(8, input({ batch: { pending: 2, running: 0 } }))).toEqual({
      n: 8,
      msg: 'MinPending:in=8,minpending=5,pending=2,ret=8',
    });
    expect(mp(-9, input({ batch: { pending: 7, running: 0 } }))).toEqual({
      n: -2,
      msg: 'MinPending:in=-9,minpending=5,pending=7,ret=-2',
    });
  });

  it('passes through with the "not set" message (with pending and ret) when unset', () => {
    expect(build(minPendingPlugin)(4, input({ batch: { pending: 2, running: 1 } }))).toEqual({
      n: 4,
      msg: 'MinPending:comment=not set,in=4,pending=2,ret=4',
    });
  });

  it('raises APF_ERR_SCHED without batch info, as APF did (set or not)', () => {
    for (const fn of [mp, build(minPendingPlugin)]) {
      let caught: unknown;
      try {
        fn(1, input({ batch: null }));
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(ApfError);
      expect((caught as ApfError).code).toBe('APF_ERR_SCHED');
    }
  });
});
