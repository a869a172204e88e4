import { describe, expect, it } from 'vitest';
import { decodeWmsResult, encodeWmsResult } from '../../../src/coordination/wms-share.ts';
import type { WmsSnapshot } from '../../../src/core/info.ts';

const SNAP: WmsSnapshot = {
  at: 1_800_000_000_000,
  queues: new Map([
    ['CERN-PROD', { ready: 5, notready: 1, running: 100, done: 7, failed: 2 }],
    ['BNL_X', { ready: 0, notready: 0, running: 0, done: 0, failed: 0 }],
  ]),
  sites: new Map([['CERN-PROD', { status: 'online' }]]),
};

describe('coordination/wms-share', () => {
  it('round-trips a snapshot with Maps stored as objects', () => {
    const text = encodeWmsResult(1_800_000_000_500, 'host-a', { snapshot: SNAP });
    expect(JSON.parse(text)).toMatchObject({ v: 1, ok: true, at: 1_800_000_000_500, by: 'host-a', snapshot: { sites: { 'CERN-PROD': { status: 'online' } } } });
    const back = decodeWmsResult(text);
    expect(back).toEqual({ at: 1_800_000_000_500, by: 'host-a', snapshot: SNAP });
    if (back === null || !('snapshot' in back)) throw new Error('expected a snapshot');
    expect(back.snapshot.queues).toBeInstanceOf(Map);
    expect(back.snapshot.sites).toBeInstanceOf(Map);
  });

  it('keeps sites: null (site status unavailable) distinct from no sites', () => {
    const none = decodeWmsResult(encodeWmsResult(1, 'a', { snapshot: { ...SNAP, sites: null } }));
    expect(none !== null && 'snapshot' in none ? none.snapshot.sites : 'missing').toBeNull();
    const empty = decodeWmsResult(encodeWmsResult(1, 'a', { snapshot: { ...SNAP, sites: new Map() } }));
    expect(empty !== null && 'snapshot' in empty ? empty.snapshot.sites : 'missing').toEqual(new Map());
  });

  it('round-trips a failure', () => {
    expect(decodeWmsResult(encodeWmsResult(9, 'b', { error: 'APF_ERR_HTTP: 503' }))).toEqual({ at: 9, by: 'b', error: 'APF_ERR_HTTP: 503' });
  });

  it('refuses what it did not write', () => {
    for (const t of ['', 'null', '{"v":2,"ok":false,"at":1,"by":"a","error":"x"}', '{"v":1,"ok":true,"at":1,"by":"a"}', '{"v":1,"ok":true,"at":1,"by":"a","snapshot":{"at":1,"queues":{"A":{"ready":-1,"notready":0,"running":0,"done":0,"failed":0}},"sites":null}}']) {
      expect(decodeWmsResult(t), t).toBeNull();
    }
  });
});
