import { describe, expect, it } from 'vitest';
import {
  decodeSourceRecord,
  decodeSubmittedMember,
  encodeSourceBody,
  encodeSubmittedMember,
  REREAD_WINDOW_MS,
  rereadWindow,
  snapshotHead,
  sourceIdFor,
} from '../../../src/coordination/contributions.ts';
import type { SubmittedEntry } from '../../../src/coordination/cluster-view.ts';
import type { SourceRecord } from '../../../src/coordination/records.ts';

/** What the publish script stores: `at` and `seq` first, then the body. */
function stored(rec: SourceRecord): string {
  return `{"at":${rec.at},"seq":${rec.seq},${encodeSourceBody(rec)}}`;
}

const REC: SourceRecord = {
  source: 'condor:ce01.example.org:cm.example.org',
  owner: null,
  publisher: 'host-a',
  at: 1_800_000_000_123,
  seq: 42,
  queues: {
    ANALY_X: { pending: 3, running: 10, done: 2, failed: 1 },
    'UKI-Y_ucore': { pending: 0, running: 1, done: 0, failed: 0, recent: { total: 8, short: 3 } },
  },
};

describe('coordination/contributions', () => {
  it('names a shared schedd by name and pool, and a local one after its instance', () => {
    expect(sourceIdFor('ce01:cm01', 'host-a')).toEqual({ source: 'condor:ce01:cm01', owner: null });
    expect(sourceIdFor('ce01:cm01', 'host-b')).toEqual({ source: 'condor:ce01:cm01', owner: null });
    expect(sourceIdFor('local', 'host-a')).toEqual({ source: 'condor:local@host-a', owner: 'host-a' });
  });

  it('round-trips a source record through its compact stored form', () => {
    const text = stored(REC);
    expect(text.startsWith('{"at":1800000000123,"seq":42,"owner":null,')).toBe(true);
    // Counts are stored as arrays, not objects.
    expect(text).toContain('"ANALY_X":[3,10,2,1]');
    expect(text).toContain('"UKI-Y_ucore":[0,1,0,0,8,3]');
    expect(decodeSourceRecord(text)).toEqual(REC);
    const local = { ...REC, source: 'condor:local@a', owner: 'a', queues: {} };
    expect(decodeSourceRecord(stored(local))).toEqual(local);
    // names are JSON-escaped as they are written out piece by piece
    const odd = { ...REC, source: 'condor:s"1\\x:p', publisher: 'h\u00e9', queues: { 'Q "1"\\ü': { pending: 1, running: 2, done: 3, failed: 4 } } };
    expect(decodeSourceRecord(stored(odd))).toEqual(odd);
    expect(JSON.parse(`{${encodeSourceBody(odd)}}`)).toEqual({ owner: null, source: odd.source, publisher: odd.publisher, q: { 'Q "1"\\ü': [1, 2, 3, 4] } });
  });

  it('keeps queue names that are object keys of JavaScript itself', () => {
    const queues = JSON.parse('{"__proto__":{"pending":1,"running":0,"done":0,"failed":0},"constructor":{"pending":2,"running":0,"done":0,"failed":0}}') as SourceRecord['queues'];
    const back = decodeSourceRecord(stored({ ...REC, queues }));
    expect(Object.keys(back?.queues ?? {})).toEqual(['__proto__', 'constructor']);
    expect(back?.queues['constructor']?.pending).toBe(2);
    // An own property, not the prototype.
    expect(Object.getPrototypeOf(back?.queues)).toBe(Object.prototype);
  });

  it('shares one frozen zero among the idle queues of a snapshot, and builds its head from the numbers', () => {
    const rec: SourceRecord = {
      ...REC,
      queues: { A: { pending: 0, running: 0, done: 0, failed: 0 }, B: { pending: 0, running: 0, done: 0, failed: 0 }, C: { pending: 0, running: 2, done: 0, failed: 0 } },
    };
    const text = stored(rec);
    const got = decodeSourceRecord(text);
    expect(got?.queues).toEqual(rec.queues);
    expect(got?.queues['A']).toBe(got?.queues['B']);
    expect(Object.isFrozen(got?.queues['A'])).toBe(true);
    expect(got?.queues['C']).not.toBe(got?.queues['A']);
    // a zero with recent-history counts is its own object
    const recent = decodeSourceRecord(stored({ ...rec, queues: { D: { pending: 0, running: 0, done: 0, failed: 0, recent: { total: 0, short: 0 } } } }));
    expect(recent?.queues['D']).toEqual({ pending: 0, running: 0, done: 0, failed: 0, recent: { total: 0, short: 0 } });
    // the head the read script compares is the stored text's own start
    expect(text.startsWith(snapshotHead(got as SourceRecord))).toBe(true);
    expect(snapshotHead({ at: 1_800_000_000_123, seq: 42 })).toBe('{"at":1800000000123,"seq":42,');
  });

  it('refuses anything that is not a stored record', () => {
    const bad = [
      'not json',
      'null',
      '[]',
      '{"at":1,"seq":1,"owner":null,"source":"s","publisher":"p"}',
      '{"at":-1,"seq":1,"owner":null,"source":"s","publisher":"p","q":{}}',
      '{"at":1,"seq":1.5,"owner":null,"source":"s","publisher":"p","q":{}}',
      '{"at":1,"seq":1,"owner":7,"source":"s","publisher":"p","q":{}}',
      '{"at":1,"seq":1,"owner":null,"source":"s","publisher":"p","q":{"A":[1,2,3]}}',
      '{"at":1,"seq":1,"owner":null,"source":"s","publisher":"p","q":{"A":[1,2,3,-4]}}',
      '{"at":1,"seq":1,"owner":null,"source":"s","publisher":"p","q":{"A":{"pending":1}}}',
    ];
    for (const text of bad) expect(decodeSourceRecord(text), text).toBeNull();
  });

  it('encodes and decodes submitted members', () => {
    const m = encodeSubmittedMember('ANALY_X', 'ANALY_X:1800000000000:17', 5);
    expect(m).toBe('ANALY_X\tANALY_X:1800000000000:17\t5');
    expect(decodeSubmittedMember('condor:local@a', m, '1800000000500')).toEqual({
      source: 'condor:local@a',
      queue: 'ANALY_X',
      cycleId: 'ANALY_X:1800000000000:17',
      n: 5,
      at: 1_800_000_000_500,
    });
    expect(decodeSubmittedMember('s', 'A\tc', 1)).toBeNull();
    expect(decodeSubmittedMember('s', 'A\tc\tx', 1)).toBeNull();
    expect(decodeSubmittedMember('s', '\tc\t1', 1)).toBeNull();
    expect(decodeSubmittedMember('s', 'A\tc\t1', 'nan')).toBeNull();
  });

  it('asks again from the re-read window below the newest held entry, counting what it keeps below it', () => {
    const e = (at: number): SubmittedEntry => ({ source: REC.source, queue: 'Q', cycleId: `Q:${at}:1`, n: 1, at });
    const at = REC.at;
    // nothing held, or everything inside the window: the whole list
    expect(rereadWindow({ rec: REC, submitted: [] })).toBeNull();
    expect(rereadWindow({ rec: REC, submitted: [e(at + 1), e(at + REREAD_WINDOW_MS)] })).toBeNull();
    // the bound is newest − window, in any order of the entries; entries at the bound are re-read
    const newest = at + 3 * REREAD_WINDOW_MS;
    const from = newest - REREAD_WINDOW_MS;
    expect(rereadWindow({ rec: REC, submitted: [e(from), e(at + 5), e(newest), e(from - 1), e(at + 1)] })).toEqual({ from, count: 3 });
  });
});
