import { describe, expect, it } from 'vitest';
import { fixedPlugin } from '../../../../src/plugins/sched/fixed.ts';
import { build, input } from './helpers.ts';

describe('plugins/sched/fixed', () => {
  it('returns pilotspercycle whatever the input', () => {
    const f = build(fixedPlugin, { 'sched.fixed.pilotspercycle': '5' });
    expect(f(0, input())).toEqual({ n: 5, msg: 'Fixed:in=0,ret=5' });
    expect(f(-40, input({ activated: null, batch: null }))).toEqual({ n: 5, msg: 'Fixed:in=-40,ret=5' });
  });

  it('a negative value is truthy too (a fixed retire request)', () => {
    expect(build(fixedPlugin, { 'sched.fixed.pilotspercycle': '-2' })(3, input())).toEqual({ n: -2, msg: 'Fixed:in=3,ret=-2' });
  });

  it('unset or 0 gives 0 with comment=nosetup', () => {
    expect(build(fixedPlugin)(12, input())).toEqual({ n: 0, msg: 'Fixed:comment=nosetup,in=12,ret=0' });
    expect(build(fixedPlugin, { 'sched.fixed.pilotspercycle': '0' })(12, input())).toEqual({
      n: 0,
      msg: 'Fixed:comment=nosetup,in=12,ret=0',
    });
  });
});
