import { describe, expect, it } from 'vitest';
import { statusOfflinePlugin } from '../../../../src/plugins/sched/status-offline.ts';
import { build, input } from './helpers.ts';

describe('plugins/sched/status-offline', () => {
  const so = build(statusOfflinePlugin, { 'sched.statusoffline.pilots': '1' });

  it('site offline → pilots, message with ret=', () => {
    expect(so(15, input({ site: 'offline' }))).toEqual({ n: 1, msg: 'StatusOffline:comment=offline,in=15,ret=1' });
  });

  it('any other status, including unknown (""), → the input unchanged', () => {
    for (const site of ['online', 'test', 'brokeroff', '']) {
      expect(so(15, input({ site }))).toEqual({ n: 15, msg: 'StatusOffline:comment=not offline,in=15,ret=15' });
    }
  });

  it('pilots defaults to 0', () => {
    expect(build(statusOfflinePlugin)(15, input({ site: 'offline' }))).toEqual({
      n: 0,
      msg: 'StatusOffline:comment=offline,in=15,ret=0',
    });
  });

  it('WMS, site or batch info None → 0 with "no wms/site/batchinfo"', () => {
    const want = { n: 0, msg: 'StatusOffline:comment=no wms/site/batchinfo,in=15,ret=0' };
    expect(so(15, input({ activated: null, site: 'offline' }))).toEqual(want);
    expect(so(15, input({ site: null }))).toEqual(want);
    expect(so(15, input({ batch: null, site: 'offline' }))).toEqual(want);
  });
});
