import { afterAll, describe, expect, it } from 'vitest';
import type { SimConfigFile } from '../../../../src/sim/condor/config.ts';
import { cleanup, fixture, newState, run, sections, submitFile, tempDir, type Run } from './harness.ts';

const T0 = 1_699_999_100;
const CERN_JDL = 'executable = /pilot.sh\n+MATCH_APF_QUEUE = "CERN-ce503.cern.ch"\nqueue 3\n';
const OTHER_JDL = 'executable = /pilot.sh\n+MATCH_APF_QUEUE = "BNL"\nqueue 1\n';

afterAll(cleanup);

/** The fixture's cases: title → expected output, stream and exit status. */
const CASES = new Map(
  [...sections(fixture('condor_rm_outputs.txt'))].map(([title, text]) => {
    const m = /^(.*?)\s+\((stdout|stderr), exit (\d)[^)]*\)$/.exec(title);
    if (m === null) throw new Error(`cannot read fixture title ${title}`);
    return [m[1] as string, { text, stream: m[2] as 'stdout' | 'stderr', exit: Number(m[3]) }];
  }),
);

/** Asserts a run against the fixture case whose title starts with `title`. */
function expectCase(r: Run, title: string): void {
  const c = [...CASES].find(([t]) => t === title)?.[1];
  if (c === undefined) throw new Error(`fixture case "${title}" missing (have: ${[...CASES.keys()].join(' | ')})`);
  expect(r.code).toBe(c.exit);
  expect(c.stream === 'stdout' ? r.stdout : r.stderr).toBe(c.text);
  expect(c.stream === 'stdout' ? r.stderr : r.stdout).toBe('');
}

/** A state with cluster 4367890 (3 CERN pilots) and cluster 4367891 (1 BNL pilot), all idle. */
async function twoClusters(config: SimConfigFile = {}): Promise<string> {
  const state = newState({ firstClusterId: 4367890, ...config });
  const dir = tempDir();
  await run(state, 'condor_submit', [submitFile(dir, CERN_JDL, 'a.jdl')], { now: T0 });
  await run(state, 'condor_submit', [submitFile(dir, OTHER_JDL, 'b.jdl')], { now: T0 });
  return state;
}

const inQueue = async (state: string): Promise<string> => (await run(state, 'condor_q', ['-af', 'ClusterId', 'ProcId', 'JobStatus'], { now: T0 + 1 })).stdout;

describe('sim/condor/tool-rm', () => {
  it('removes jobs by id (fixture), and they go to history with JobStatus 3', async () => {
    const state = await twoClusters();
    expectCase(await run(state, 'condor_rm', ['4367890.0', '4367890.1'], { now: T0 + 1 }), 'condor_rm 4367890.0 4367890.1');
    expect(await inQueue(state)).toBe('4367890 2 1\n4367891 0 1\n');
    const h = await run(state, 'condor_history', ['-af', 'ProcId', 'JobStatus', 'RemoveReason', 'CompletionDate', 'EnteredCurrentStatus'], { now: T0 + 2 });
    expect(h.stdout).toBe(`1 3 via condor_rm (by user apf) 0 ${T0 + 1}\n0 3 via condor_rm (by user apf) 0 ${T0 + 1}\n`);
  });

  it('removes a cluster (fixture)', async () => {
    const state = await twoClusters();
    expectCase(await run(state, 'condor_rm', ['4367890'], { now: T0 + 1 }), 'condor_rm 4367890');
    expect(await inQueue(state)).toBe('4367891 0 1\n');
  });

  it('removes by constraint (fixture)', async () => {
    const state = await twoClusters();
    expectCase(await run(state, 'condor_rm', ['-constraint', 'MATCH_APF_QUEUE == "CERN-ce503.cern.ch"'], { now: T0 + 1 }), "condor_rm -constraint 'MATCH_APF_QUEUE == \"CERN-ce503.cern.ch\"'");
    expect(await inQueue(state)).toBe('4367891 0 1\n');
  });

  it('removes all jobs of a user (fixture)', async () => {
    const state = await twoClusters();
    expectCase(await run(state, 'condor_rm', ['apf'], { now: T0 + 1 }), 'condor_rm apf');
    expect(await inQueue(state)).toBe('');
  });

  it('reports an unknown job id (fixture)', async () => {
    expectCase(await run(await twoClusters(), 'condor_rm', ['4367999.0'], { now: T0 + 1 }), 'condor_rm 4367999.0 (no such job)');
  });

  it('reports a job already being removed (fixture), with removeSeconds keeping it in the queue', async () => {
    const state = await twoClusters({ removeSeconds: 60 });
    expect((await run(state, 'condor_rm', ['4367890.0'], { now: T0 + 1 })).code).toBe(0);
    expect(await inQueue(state)).toBe('4367890 0 3\n4367890 1 1\n4367890 2 1\n4367891 0 1\n');
    expectCase(await run(state, 'condor_rm', ['4367890.0'], { now: T0 + 2 }), 'condor_rm 4367890.0 (already being removed)');
    // it leaves for history after removeSeconds
    const later = await run(state, 'condor_q', ['-af', 'ProcId', '-constraint', 'ClusterId == 4367890'], { now: T0 + 62 });
    expect(later.stdout).toBe('1\n2\n');
    expect((await run(state, 'condor_history', ['-af', 'ProcId', 'JobStatus'], { now: T0 + 62 })).stdout).toBe('0 3\n');
  });

  it('reports a cluster without jobs while the queue has others (fixture)', async () => {
    expectCase(await run(await twoClusters(), 'condor_rm', ['4367999'], { now: T0 + 1 }), 'condor_rm 4367999 (no such cluster; queue not empty)');
  });

  it('says the queue is empty, exit 0 (fixture)', async () => {
    expectCase(await run(newState(), 'condor_rm', ['4367999'], { now: T0 }), 'condor_rm 4367999 (queue completely empty)');
  });

  it('-forcex only acts on jobs in X state (fixture)', async () => {
    const state = await twoClusters({ removeSeconds: 600 });
    expectCase(await run(state, 'condor_rm', ['-forcex', '4367890.2'], { now: T0 + 1 }), 'condor_rm -forcex 4367890.2 (job not in X state)');
    await run(state, 'condor_rm', ['4367890.2'], { now: T0 + 1 });
    expectCase(await run(state, 'condor_rm', ['-forcex', '4367890.2'], { now: T0 + 2 }), 'condor_rm -forcex 4367890.2 (success)');
    expect(await inQueue(state)).toBe('4367890 0 1\n4367890 1 1\n4367891 0 1\n');
  });

  it('-totals prints the result counts first (fixture)', async () => {
    expectCase(await run(await twoClusters(), 'condor_rm', ['-totals', '4367890'], { now: T0 + 1 }), 'condor_rm -totals 4367890');
  });

  it('combines several clusters into one constraint, as condor_rm does', async () => {
    const r = await run(await twoClusters(), 'condor_rm', ['4367890', '4367891'], { now: T0 + 1 });
    expect(r).toEqual({ code: 0, stdout: 'All jobs matching constraint (ClusterId == 4367890 || ClusterId == 4367891) have been marked for removal\n', stderr: '' });
  });

  it('removes running jobs too, recording their wall-clock time', async () => {
    const state = newState({ idleSeconds: 10, runSeconds: 1000 });
    await run(state, 'condor_submit', [submitFile(tempDir(), 'executable = /a\nqueue 1\n')], { now: T0 });
    expect((await run(state, 'condor_rm', ['1.0'], { now: T0 + 110 })).stdout).toBe('Job 1.0 marked for removal\n');
    const h = await run(state, 'condor_history', ['-af', 'JobStatus', 'LastJobStatus', 'JobStartDate', 'RemoteWallClockTime'], { now: T0 + 120 });
    expect(h.stdout).toBe(`3 2 ${T0 + 10} 100.0\n`);
  });

  it('needs something to remove', async () => {
    const r = await run(newState(), 'condor_rm', [], { now: T0 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^You did not specify any jobs\nUsage: condor_rm/);
  });
});
