import { describe, expect, it } from 'vitest';
import { nullPlugin } from '../../../../src/plugins/sched/null.ts';
import { build, input } from './helpers.ts';

describe('plugins/sched/null', () => {
  it('always returns 0 with out=0', () => {
    const z = build(nullPlugin);
    expect(z(17, input())).toEqual({ n: 0, msg: 'Null:in=17,out=0' });
    expect(z(-3, input({ batch: null, activated: null, site: null }))).toEqual({ n: 0, msg: 'Null:in=-3,out=0' });
  });
});
