import { describe, expect, it } from 'vitest';
import { decodeWmsResult, encodeWmsResult } from '../../../src/coordination/wms-codec.ts';
import { ZERO_WMS, type WmsSnapshot } from '../../../src/core/info.ts';

const SNAP: WmsSnapshot = {
  at: 1_800_000_000_000,
  queues: new Map([
    ['CERN-PROD', { ready: 5, notready: 1, running: 100, done: 7, failed: 2 }],
    ['BNL_X', { ready: 0, notready: 0, running: 0, done: 0, failed: 0 }],
  ]),
  sites: new Map([['CERN-PROD', { status: 'online' }]]),
};

describe('coordination/wms-codec', () => {
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

  it('writes the same JSON as the plain object form would, names escaped', () => {
    const snapshot: WmsSnapshot = {
      at: 5,
      queues: new Map([
        ['A "quoted"\\queue', { ready: 1, notready: 2, running: 3, done: 4, failed: 5 }],
        ['__proto__', { ready: 9, notready: 0, running: 0, done: 0, failed: 0 }],
        ['Ünïcode', { ready: 0, notready: 0, running: 0, done: 0, failed: 0 }],
      ]),
      sites: new Map([['A "quoted"\\queue', { status: 'test' }]]),
    };
    const text = encodeWmsResult(7, 'h"1', { snapshot });
    const plain = JSON.parse(
      JSON.stringify({
        v: 1, ok: true, at: 7, by: 'h"1',
        snapshot: { at: 5, queues: Object.fromEntries([...snapshot.queues].map(([k, q]) => [k, { ...q }])), sites: { 'A "quoted"\\queue': { status: 'test' } } },
      }),
    ) as unknown;
    expect(JSON.parse(text)).toEqual(plain);
    const back = decodeWmsResult(text);
    if (back === null || !('snapshot' in back)) throw new Error('expected a snapshot');
    expect([...back.snapshot.queues.keys()]).toEqual(['A "quoted"\\queue', '__proto__', 'Ünïcode']);
    expect(back.snapshot.queues.get('__proto__')?.ready).toBe(9);
  });

  it('shares one frozen zero among idle queues and one object per site status', () => {
    const names = Array.from({ length: 50 }, (_, i) => `Q${i}`);
    const snapshot: WmsSnapshot = {
      at: 1,
      queues: new Map(names.map((n, i) => [n, { ready: i % 2, notready: 0, running: 0, done: 0, failed: 0 }])),
      sites: new Map(names.map((n, i) => [n, { status: i % 3 === 0 ? 'offline' : 'online' }])),
    };
    const back = decodeWmsResult(encodeWmsResult(2, 'a', { snapshot }));
    if (back === null || !('snapshot' in back) || back.snapshot.sites === null) throw new Error('expected a snapshot with sites');
    expect(back.snapshot.queues.get('Q0')).toBe(ZERO_WMS);
    expect(back.snapshot.queues.get('Q2')).toBe(ZERO_WMS);
    expect(back.snapshot.queues.get('Q1')).toEqual({ ready: 1, notready: 0, running: 0, done: 0, failed: 0 });
    expect(new Set(back.snapshot.sites.values()).size).toBe(2);
    expect(back.snapshot.sites.get('Q0')).toBe(back.snapshot.sites.get('Q3'));
    expect(back.snapshot.sites.get('Q1')).toEqual({ status: 'online' });
    expect(Object.isFrozen(back.snapshot.sites.get('Q1'))).toBe(true);
  });

  it('ignores fields it does not know and refuses wrong shapes at every level', () => {
    const ok = { v: 1, ok: true, at: 1, by: 'a', extra: [1], snapshot: { at: 1, more: {}, queues: { A: { ready: 1, notready: 0, running: 0, done: 0, failed: 0, new: 'x' } }, sites: null } };
    const back = decodeWmsResult(JSON.stringify(ok));
    expect(back !== null && 'snapshot' in back ? back.snapshot.queues.get('A') : null).toEqual({ ready: 1, notready: 0, running: 0, done: 0, failed: 0 });
    const bad = (mutate: (o: typeof ok & Record<string, unknown>) => void): string => {
      const o = structuredClone(ok) as typeof ok & Record<string, unknown>;
      mutate(o);
      return JSON.stringify(o);
    };
    const cases = [
      '[]',
      '"text"',
      bad((o) => { (o as Record<string, unknown>).at = 1.5; }),
      bad((o) => { (o as Record<string, unknown>).by = 3; }),
      bad((o) => { (o as Record<string, unknown>).ok = 'yes'; }),
      bad((o) => { (o as Record<string, unknown>).snapshot = []; }),
      bad((o) => { (o.snapshot as Record<string, unknown>).at = -1; }),
      bad((o) => { (o.snapshot as Record<string, unknown>).queues = []; }),
      bad((o) => { (o.snapshot.queues as Record<string, unknown>).B = [1, 0, 0, 0, 0]; }),
      bad((o) => { (o.snapshot.queues as Record<string, unknown>).B = { ready: 1, notready: 0, running: 0, done: 0 }; }),
      bad((o) => { (o.snapshot.queues as Record<string, unknown>).B = { ready: 2 ** 53, notready: 0, running: 0, done: 0, failed: 0 }; }),
      bad((o) => { delete (o.snapshot as Record<string, unknown>).sites; }),
      bad((o) => { (o.snapshot as Record<string, unknown>).sites = { A: { status: 1 } }; }),
      bad((o) => { (o.snapshot as Record<string, unknown>).sites = { A: 'online' }; }),
      '{"v":1,"ok":false,"at":1,"by":"a"}',
    ];
    for (const t of cases) expect(decodeWmsResult(t), t).toBeNull();
  });
});
