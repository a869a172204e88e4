import { describe, expect, it } from 'vitest';
import { simplePlugin } from '../../../../src/plugins/sched/simple.ts';
import { build, input } from './helpers.ts';

describe('plugins/sched/simple', () => {
  it('submits activated − pending, ignoring running and its input', () => {
    expect(build(simplePlugin)(77, input({ activated: 30, batch: { pending: 5, running: 100 } }))).toEqual({
      n: 25,
      msg: 'Simple:in=77,activated=30,pending=5,maxpilotspercycle=None,ret=25',
    });
  });

  it('caps at maxpilotspercycle', () => {
    const s = build(simplePlugin, { 'sched.simple.maxpilotspercycle': '10' });
    expect(s(0, input({ activated: 30, batch: { pending: 5, running: 0 } }))).toEqual({
      n: 10,
      msg: 'Simple:in=0,activated=30,pending=5,maxpilotspercycle=10,ret=10',
    });
  });

  it('returns 0 with no activated jobs or when pending covers them', () => {
    const s = build(simplePlugin, { 'sched.simple.maxpilotspercycle': '10' });
    expect(s(0, input({ activated: 0, batch: { pending: 0, running: 0 } }))).toEqual({
      n: 0,
      msg: 'Simple:in=0,activated=0,pending=0,maxpilotspercycle=10,ret=0',
    });
    expect(s(0, input({ activated: 4, batch: { pending: 9, running: 0 } })).n).toBe(0);
  });

  it('accepts (and ignores) maxpendingpilots, which never worked in APF', () => {
    const s = build(simplePlugin, { 'sched.simple.maxpendingpilots': '1' });
    expect(s(0, input({ activated: 30, batch: { pending: 5, running: 0 } })).n).toBe(25);
  });

  it('returns the default when the status is invalid', () => {
    const s = build(simplePlugin, { 'sched.simple.default': '4' });
    expect(s(1, input({ activated: null }))).toEqual({ n: 4, msg: 'Simple:comment=invalid status,in=1,ret=4' });
    expect(s(1, input({ batch: null }))).toEqual({ n: 4, msg: 'Simple:comment=invalid status,in=1,ret=4' });
  });
});
