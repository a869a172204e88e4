import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, newState, run, submitFile, tempDir } from './harness.ts';

const T0 = 1_700_000_000;

afterAll(cleanup);

/** Ten submissions of 10 000 pilots each (three APF queues), like a busy factory's schedd. */
function jdl(queue: string): string {
  return [
    'executable = /usr/libexec/wrapper.sh',
    'arguments = -s SITE -h SITE -p 25443 -w https://pandaserver.cern.ch',
    'universe = grid',
    'grid_resource = condor ce503.cern.ch ce503.cern.ch:9619',
    `+MATCH_APF_QUEUE = "${queue}"`,
    '+APF_OUTURL = "http://apf.example.org:25880/$(Cluster).$(Process).out"',
    'environment = "PANDA_JSID=apf APFCID=$(Cluster).$(Process) FACTORYQUEUE=q"',
    'output = /nonexistent/$(Cluster).$(Process).out',
    'log = /nonexistent/$(Cluster).$(Process).log',
    'periodic_remove = (JobStatus == 5 && (CurrentTime - EnteredCurrentStatus) > 3600)',
    'queue 10000',
    '',
  ].join('\n');
}

describe('sim/condor/tool-q (100k jobs)', () => {
  it('condor_q over 100k jobs stays fast (timings printed, not asserted)', async () => {
    const state = newState({ idleSeconds: 60, runSeconds: 3600, maxRunning: 40_000 });
    const dir = tempDir();
    let t = performance.now();
    for (let i = 0; i < 10; i++) {
      const r = await run(state, 'condor_submit', ['-terse', submitFile(dir, jdl(`Q${i % 3}`), `s${i}.jdl`)], { now: T0 + i });
      expect(r.stdout).toBe(`${i + 1}.0 - ${i + 1}.9999\n`);
    }
    const submitMs = performance.now() - t;

    t = performance.now();
    const q = await run(state, 'condor_q', ['-xml', '-attributes', 'match_apf_queue,jobstatus,procid,clusterid'], { now: T0 + 30 });
    const qMs = performance.now() - t;
    expect(q.code).toBe(0);
    expect(q.stdout.split('<c>').length - 1).toBe(100_000);

    t = performance.now();
    const started = await run(state, 'condor_q', ['-json', '-attributes', 'JobStatus', '-constraint', 'MATCH_APF_QUEUE == "Q1"'], { now: T0 + 100 });
    const transitionMs = performance.now() - t;
    const statuses = (JSON.parse(started.stdout) as Array<{ JobStatus: number }>).map((a) => a.JobStatus);
    expect(statuses).toHaveLength(30_000);
    // 40 000 slots over the first four clusters (queues Q0, Q1, Q2, Q0): Q1 has cluster 2 running
    expect(statuses.filter((s) => s === 2)).toHaveLength(10_000);

    t = performance.now();
    await run(state, 'condor_q', ['-af', 'ClusterId'], { now: T0 + 3700 });
    const completeMs = performance.now() - t;
    t = performance.now();
    const h = await run(state, 'condor_history', ['-xml', '-attributes', 'match_apf_queue,jobstatus,enteredcurrentstatus,remotewallclocktime,qdate'], { now: T0 + 3701 });
    const historyMs = performance.now() - t;
    expect(h.stdout.split('<c>').length - 1).toBe(40_000);

    console.log(
      `[sim condor, 100k jobs] 10 × condor_submit of 10k: ${submitMs.toFixed(0)} ms; ` +
        `condor_q -xml -attributes (100k ads): ${qMs.toFixed(0)} ms; ` +
        `condor_q with 40k starts + constraint: ${transitionMs.toFixed(0)} ms; ` +
        `condor_q with 40k completions + 40k starts: ${completeMs.toFixed(0)} ms; ` +
        `condor_history -xml -attributes (40k): ${historyMs.toFixed(0)} ms`,
    );
  }, 120_000);
});
