import { describe, expect, it } from 'vitest';
import { statusTestPlugin } from '../../../../src/plugins/sched/status-test.ts';
import { build, input } from './helpers.ts';

describe('plugins/sched/status-test', () => {
  const st = build(statusTestPlugin, { 'sched.statustest.pilots': '3' });

  it('site in test → pilots, message with out=', () => {
    expect(st(43, input({ site: 'test' }))).toEqual({ n: 3, msg: 'StatusTest:comment=test,in=43,out=3' });
  });

  it('any other status, including unknown (""), → the input unchanged', () => {
    for (const site of ['online', 'offline', 'brokeroff', '']) {
      expect(st(43, input({ site }))).toEqual({ n: 43, msg: 'StatusTest:comment=not test,in=43,ret=43' });
    }
  });

  it('pilots defaults to 0', () => {
    expect(build(statusTestPlugin)(43, input({ site: 'test' }))).toEqual({ n: 0, msg: 'StatusTest:comment=test,in=43,out=0' });
  });

  it('WMS, site or batch info None → 0 with "no wms/batch/siteinfo"', () => {
    const want = { n: 0, msg: 'StatusTest:comment=no wms/batch/siteinfo,in=43,ret=0' };
    expect(st(43, input({ activated: null, site: 'test' }))).toEqual(want);
    expect(st(43, input({ site: null }))).toEqual(want);
    expect(st(43, input({ batch: null, site: 'test' }))).toEqual(want);
  });
});
