import { describe, expect, it } from 'vitest';
import { readyPlugin } from '../../../../src/plugins/sched/ready.ts';
import { build, input } from './helpers.ts';

describe('plugins/sched/ready', () => {
  const ready = build(readyPlugin, { 'sched.ready.offset': '4' });

  it('submits activated − offset − pending, ignoring its input and running', () => {
    const inp = input({ activated: 100, batch: { pending: 10, running: 8 } });
    expect(ready(0, inp)).toEqual({ n: 86, msg: 'Ready:in=0,activated=100,offset=4,pending=10,ret=86' });
    expect(ready(-50, inp)).toEqual({ n: 86, msg: 'Ready:in=-50,activated=100,offset=4,pending=10,ret=86' });
    expect(ready(7, input({ activated: 100, batch: { pending: 10, running: 5000 } })).n).toBe(86);
  });

  it('never goes below 0', () => {
    expect(ready(3, input({ activated: 12, batch: { pending: 10, running: 0 } }))).toEqual({
      n: 0,
      msg: 'Ready:in=3,activated=12,offset=4,pending=10,ret=0',
    });
  });

  it('offset defaults to 0', () => {
    expect(build(readyPlugin)(0, input({ activated: 5, batch: { pending: 2, running: 0 } }))).toEqual({
      n: 3,
      msg: 'Ready:in=0,activated=5,offset=0,pending=2,ret=3',
    });
  });

  it('returns 0 with the APF comment when WMS or batch info is None', () => {
    const want = { n: 0, msg: 'Ready:comment=Invalid wmsinfo or batchinfo' };
    expect(ready(9, input({ activated: null, batch: { pending: 0, running: 0 } }))).toEqual(want);
    expect(ready(9, input({ activated: 100, batch: null }))).toEqual(want);
  });

  it('is unaffected by a missing site status', () => {
    expect(ready(0, input({ activated: 10, site: null })).n).toBe(6);
  });
});
