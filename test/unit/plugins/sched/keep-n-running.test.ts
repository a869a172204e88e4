import { describe, expect, it } from 'vitest';
import { keepNRunningPlugin } from '../../../../src/plugins/sched/keep-n-running.ts';
import { build, input } from './helpers.ts';

describe('plugins/sched/keep-n-running', () => {
  it('with keep_running set: keep − (running + pending), ignoring the input', () => {
    const k = build(keepNRunningPlugin, { 'sched.keepnrunning.keep_running': '20' });
    expect(k(99, input({ batch: { pending: 3, running: 12 } }))).toEqual({
      n: 5,
      msg: 'KeepNRunning:in=99,keep=20,running=12,pending=3,retiring=0,ret=5',
    });
  });

  it('goes negative (retire) when more pilots exist than wanted', () => {
    const k = build(keepNRunningPlugin, { 'sched.keepnrunning.keep_running': '10' });
    expect(k(0, input({ batch: { pending: 4, running: 12 } }))).toEqual({
      n: -6,
      msg: 'KeepNRunning:in=0,keep=10,running=12,pending=4,retiring=0,ret=-6',
    });
  });

  it('keep_running = 0 is a real target', () => {
    const k = build(keepNRunningPlugin, { 'sched.keepnrunning.keep_running': '0' });
    expect(k(7, input({ batch: { pending: 1, running: 2 } }))).toEqual({
      n: -3,
      msg: 'KeepNRunning:in=7,keep=0,running=2,pending=1,retiring=0,ret=-3',
    });
  });

  it('with keep_running unset or None: the input is the target', () => {
    const variants: Record<string, string>[] = [{}, { 'sched.keepnrunning.keep_running': 'None' }];
    for (const keys of variants) {
      expect(build(keepNRunningPlugin, keys)(30, input({ batch: { pending: 5, running: 10 } }))).toEqual({
        n: 15,
        msg: 'KeepNRunning:in=30,keep=None,running=10,pending=5,retiring=0,ret=15',
      });
    }
  });

  it('clamps negative counts at 0', () => {
    expect(build(keepNRunningPlugin)(10, input({ batch: { pending: -4, running: -2 } }))).toEqual({
      n: 10,
      msg: 'KeepNRunning:in=10,keep=None,running=0,pending=0,retiring=0,ret=10',
    });
  });

  it('returns 0 with "Invalid queueinfo" when batch info is None', () => {
    expect(build(keepNRunningPlugin)(10, input({ batch: null }))).toEqual({ n: 0, msg: 'KeepNRunning:comment=Invalid queueinfo' });
  });

  it('rejects a non-integer target when the config is read', () => {
    expect(() => build(keepNRunningPlugin, { 'sched.keepnrunning.keep_running': 'ten' })).toThrow(/keep_running/);
  });
});
