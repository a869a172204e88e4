import { describe, expect, it } from 'vitest';
import { trivialPlugin } from '../../../../src/plugins/sched/trivial.ts';
import { build, input } from './helpers.ts';

describe('plugins/sched/trivial', () => {
  const tr = build(trivialPlugin, { 'sched.trivial.default': '2' });

  it('submits activated − (pending + running), ignoring its input', () => {
    expect(tr(50, input({ activated: 30, batch: { pending: 5, running: 10 } }))).toEqual({
      n: 15,
      msg: 'Trivial:in=50,activated=30,pending=5,running=10,ret=15',
    });
  });

  it('returns 0 with no activated jobs or enough pilots', () => {
    expect(tr(0, input({ activated: 0, batch: { pending: 0, running: 0 } }))).toEqual({
      n: 0,
      msg: 'Trivial:in=0,activated=0,pending=0,running=0,ret=0',
    });
    expect(tr(0, input({ activated: 10, batch: { pending: 5, running: 10 } })).n).toBe(0);
  });

  it('returns the default when the status is invalid', () => {
    expect(tr(9, input({ activated: null }))).toEqual({ n: 2, msg: 'Trivial:comment=invalid status,in=9,ret=2' });
    expect(tr(9, input({ batch: null }))).toEqual({ n: 2, msg: 'Trivial:comment=invalid status,in=9,ret=2' });
    expect(build(trivialPlugin)(9, input({ batch: null })).n).toBe(0);
  });
});
