import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { builtInMappings, MAPPING_SECTIONS } from '../../../../../src/config/mappings.ts';
import { isApfError } from '../../../../../src/errors.ts';
import type { JobAd } from '../../../../../src/plugins/batch-status/condor/classad.ts';
import {
  DEFAULT_THROTTLE,
  HISTORY_ATTRIBUTES,
  QUEUE_ATTRIBUTES,
  countPilots,
  type CountInput,
} from '../../../../../src/plugins/batch-status/condor/count.ts';
import { parseCondorXml } from '../../../../../src/plugins/batch-status/condor/parse-xml.ts';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../../../fixtures/htcondor/${name}`, import.meta.url), 'utf8');

const CERN = 'CERN-ce503.cern.ch';
const LANCS = 'UKI-NORTHGRID-LANCS-HEP_UCORE-arc01.hec.lancs.ac.uk';
const BNL = 'BNL_LOCAL-vanilla';
const APF_MAPPING = builtInMappings().get(MAPPING_SECTIONS.condorBatch) ?? new Map<string, string>();
const NOW = 1_700_000_000;

function input(over: Partial<CountInput>): CountInput {
  return { queueAds: [], historyAds: undefined, mapping: APF_MAPPING, nowS: NOW, configured: new Map(), ...over };
}

describe('plugins/batch-status/condor/count', () => {
  const queueAds = parseCondorXml(fixture('condor_q_attributes.xml'), { attributes: QUEUE_ATTRIBUTES });
  const historyAds = parseCondorXml(fixture('condor_history_attributes.xml'), { attributes: HISTORY_ATTRIBUTES });

  it('counts condor_q jobs per MATCH_APF_QUEUE through the APF mapping (held is pending)', () => {
    const { queues } = countPilots(input({ queueAds }));
    // condor_q_attributes.xml: CERN 1,2,5 · LANCS 1,5 · BNL 2
    expect(queues.get(CERN)).toEqual({ pending: 2, running: 1, done: 0, failed: 0 });
    expect(queues.get(LANCS)).toEqual({ pending: 2, running: 0, done: 0, failed: 0 });
    expect(queues.get(BNL)).toEqual({ pending: 0, running: 1, done: 0, failed: 0 });
    expect([...queues.keys()].sort()).toEqual([BNL, CERN, LANCS]);
  });

  it('lists every pilot still in the queue for retire', () => {
    const { jobs } = countPilots(input({ queueAds }));
    expect(jobs.get(CERN)).toEqual([
      { id: '4367890.0', queue: CERN, jobStatus: 1, qdate: 1699999100 },
      { id: '4367890.1', queue: CERN, jobStatus: 2, qdate: 1699999100 },
      { id: '4367891.0', queue: CERN, jobStatus: 5, qdate: 1699992800 },
    ]);
    expect(jobs.get(BNL)?.map((j) => j.id)).toEqual(['4367894.0']);
  });

  it('uses the configured mapping and reports statuses it does not place', () => {
    const mapping = new Map([
      ['1', 'pending'],
      ['2', 'running'],
      ['5', 'running'],
    ]);
    const ads: JobAd[] = [...queueAds, { ClusterId: 9, ProcId: 0, JobStatus: 7, MATCH_APF_QUEUE: BNL }];
    const { queues, unmapped, jobs } = countPilots(input({ queueAds: ads, mapping }));
    expect(queues.get(CERN)).toEqual({ pending: 1, running: 2, done: 0, failed: 0 });
    expect(queues.get(BNL)).toEqual({ pending: 0, running: 1, done: 0, failed: 0 });
    expect(unmapped).toEqual(new Map([['7', 1]]));
    // An unmapped pilot is still a pilot for retire.
    expect(jobs.get(BNL)).toHaveLength(2);
  });

  it('counts removed/completed jobs still in the queue as done', () => {
    const ads: JobAd[] = [
      { ClusterId: 1, ProcId: 0, JobStatus: 3, MATCH_APF_QUEUE: 'q' },
      { ClusterId: 1, ProcId: 1, JobStatus: 4, MATCH_APF_QUEUE: 'q' },
      { ClusterId: 1, ProcId: 2, JobStatus: 6, MATCH_APF_QUEUE: 'q' },
      { ClusterId: 1, ProcId: 3, JobStatus: 0, MATCH_APF_QUEUE: 'q' },
    ];
    expect(countPilots(input({ queueAds: ads })).queues.get('q')).toEqual({ pending: 1, running: 1, done: 2, failed: 0 });
  });

  it('gives configured queues without pilots zeros (and an empty job list)', () => {
    const configured = new Map([['idle-queue', DEFAULT_THROTTLE]]);
    const res = countPilots(input({ queueAds, configured }));
    expect(res.queues.get('idle-queue')).toEqual({ pending: 0, running: 0, done: 0, failed: 0 });
    expect(res.jobs.get('idle-queue')).toEqual([]);
    expect(res.queues.get(CERN)?.pending).toBe(2);
  });

  it('adds the last hour of history: exit 0 done, non-zero exit or removed failed', () => {
    // condor_history_attributes.xml: CERN 4/exit 0 at now-1200 · LANCS 4/exit 65 at now-3000 ·
    // LANCS 3 (removed) at now-110000 (outside the hour)
    const { queues } = countPilots(input({ queueAds, historyAds }));
    expect(queues.get(CERN)).toMatchObject({ pending: 2, running: 1, done: 1, failed: 0 });
    expect(queues.get(LANCS)).toMatchObject({ pending: 2, running: 0, done: 0, failed: 1 });
    const removedRecently: JobAd = { ClusterId: 5, ProcId: 0, JobStatus: 3, MATCH_APF_QUEUE: LANCS, EnteredCurrentStatus: NOW - 60 };
    const doneNoExit: JobAd = { ClusterId: 6, ProcId: 0, JobStatus: 4, MATCH_APF_QUEUE: 'other', EnteredCurrentStatus: NOW - 60 };
    const more = countPilots(input({ historyAds: [...historyAds, removedRecently, doneNoExit] })).queues;
    expect(more.get(LANCS)).toMatchObject({ failed: 2 });
    expect(more.get('other')).toMatchObject({ done: 1, failed: 0 });
  });

  it("computes Throttle's recent window per queue from history", () => {
    const ad = (queue: string, started: number | undefined, wall: number | undefined): JobAd => ({
      ClusterId: 1,
      ProcId: 0,
      JobStatus: 4,
      MATCH_APF_QUEUE: queue,
      EnteredCurrentStatus: NOW - 10,
      ...(started === undefined ? {} : { JobStartDate: NOW - started }),
      ...(wall === undefined ? {} : { RemoteWallClockTime: wall }),
    });
    const configured = new Map([
      ['wide', { interval: 7200, maxtime: 100 }],
      ['narrow', { interval: 600, maxtime: 5 }],
    ]);
    const hist = [
      ad('wide', 7000, 50), // recent and short
      ad('wide', 100, 500), // recent, long
      ad('wide', 8000, 1), // too old
      ad('narrow', 500, 4), // recent and short
      ad('narrow', 700, 1), // outside 600 s
      ad('narrow', 10, undefined), // started, no wall clock: short
      ad('narrow', undefined, 1), // never started
      ad('unconfigured', 3000, 9), // default window 3600/10: recent and short
    ];
    const { queues } = countPilots(input({ historyAds: hist, configured }));
    expect(queues.get('wide')?.recent).toEqual({ total: 2, short: 1 });
    expect(queues.get('narrow')?.recent).toEqual({ total: 2, short: 2 });
    expect(queues.get('unconfigured')?.recent).toEqual({ total: 1, short: 1 });
  });

  it('has recent only when history was read', () => {
    expect(countPilots(input({ queueAds })).queues.get(CERN)?.recent).toBeUndefined();
    expect(countPilots(input({ queueAds, historyAds: [] })).queues.get(CERN)?.recent).toEqual({ total: 0, short: 0 });
  });

  it.each([
    ['no MATCH_APF_QUEUE', { ClusterId: 1, ProcId: 0, JobStatus: 1 }],
    ['an expression as JobStatus', { ClusterId: 1, ProcId: 0, JobStatus: { expr: 'x' }, MATCH_APF_QUEUE: 'q' }],
    ['no ProcId', { ClusterId: 1, JobStatus: 1, MATCH_APF_QUEUE: 'q' }],
    ['a real JobStatus', { ClusterId: 1, ProcId: 0, JobStatus: 1.5, MATCH_APF_QUEUE: 'q' }],
  ])('refuses a job with %s (APF_ERR_BATCH_OUTPUT)', (_what, ad) => {
    let err: unknown;
    try {
      countPilots(input({ queueAds: [ad] }));
    } catch (e) {
      err = e;
    }
    expect(isApfError(err, 'APF_ERR_BATCH_OUTPUT')).toBe(true);
  });
});
