import { afterAll, describe, expect, it } from 'vitest';
import { withDefaults } from '../../../../src/sim/condor/config.ts';
import { emptyQueue, type JobRecord, type QueueState } from '../../../../src/sim/condor/store.ts';
import { advance, fateOf } from '../../../../src/sim/condor/timeline.ts';
import { cleanup, newState, run, submitFile, tempDir } from './harness.ts';

const T0 = 1_700_000_000;

afterAll(cleanup);

/** A queue of `n` idle jobs in cluster 1 submitted at T0 (no templates needed by the timeline). */
function queue(n: number): QueueState {
  const q = emptyQueue(1, T0);
  q.clusters['1'] = { id: 1, qdate: T0, groups: [{ first: 0, count: n, template: {} }] };
  for (let p = 0; p < n; p++) q.jobs.push({ c: 1, p, s: 1, ls: 0, e: T0 });
  return q;
}

const byProc = (jobs: readonly JobRecord[]): JobRecord[] => [...jobs].sort((a, b) => a.p - b.p);

describe('sim/condor/timeline', () => {
  it('idle → running after idleSeconds → completed after runSeconds, exactly at the boundaries', () => {
    const cfg = withDefaults({ idleSeconds: 30, runSeconds: 300 });
    const q = queue(1);
    advance(q, cfg, T0 + 29);
    expect(q.jobs[0]?.s).toBe(1);
    advance(q, cfg, T0 + 30);
    expect(q.jobs[0]).toMatchObject({ s: 2, ls: 1, e: T0 + 30, st: T0 + 30 });
    advance(q, cfg, T0 + 329);
    expect(q.jobs[0]?.s).toBe(2);
    const r = advance(q, cfg, T0 + 330);
    expect(q.jobs).toEqual([]);
    expect(r.finished).toEqual([{ c: 1, p: 0, s: 4, ls: 2, e: T0 + 330, st: T0 + 30, end: T0 + 330, x: 0 }]);
    expect(r.events.map((e) => e.kind)).toEqual(['complete']);
  });

  it('one evaluation at T gives the same result as many evaluations before T', () => {
    const cfg = withDefaults({ idleSeconds: 20, runSeconds: 100, maxRunning: 3, failFraction: 0.2, holdFraction: 0.1, shortFraction: 0.2, shortSeconds: 5 });
    const once = queue(12);
    const many = queue(12);
    const finishedOnce = advance(once, cfg, T0 + 700).finished;
    const finishedMany: JobRecord[] = [];
    for (let t = T0 + 1; t <= T0 + 700; t += 7) finishedMany.push(...advance(many, cfg, t).finished);
    finishedMany.push(...advance(many, cfg, T0 + 700).finished);
    expect(byProc(finishedMany)).toEqual(byProc(finishedOnce));
    expect(many.jobs).toEqual(once.jobs);
  });

  it('maxRunning: jobs beyond the slot limit stay idle and start as slots free, first eligible first', () => {
    const cfg = withDefaults({ idleSeconds: 0, runSeconds: 100, maxRunning: 2 });
    const q = queue(5);
    advance(q, cfg, T0 + 50);
    expect(q.jobs.map((j) => j.s)).toEqual([2, 2, 1, 1, 1]);
    const r = advance(q, cfg, T0 + 1000);
    expect(byProc(r.finished).map((j) => [j.st, j.end])).toEqual([
      [T0, T0 + 100],
      [T0, T0 + 100],
      [T0 + 100, T0 + 200],
      [T0 + 100, T0 + 200],
      [T0 + 200, T0 + 300],
    ]);
    const none = queue(2);
    advance(none, withDefaults({ idleSeconds: 0, maxRunning: 0 }), T0 + 10_000);
    expect(none.jobs.map((j) => j.s)).toEqual([1, 1]);
  });

  it('jobs that were idle at the last evaluation cannot start before it (slot freed by a removal)', () => {
    const cfg = withDefaults({ idleSeconds: 0, runSeconds: 1000, maxRunning: 1 });
    const q = queue(2);
    advance(q, cfg, T0 + 10);
    // condor_rm of the running job at T0 + 50 frees the slot then
    q.jobs = q.jobs.filter((j) => j.p !== 0);
    q.evaluatedAt = T0 + 50;
    advance(q, cfg, T0 + 60);
    expect(q.jobs[0]).toMatchObject({ p: 1, s: 2, st: T0 + 50 });
  });

  it('fates are deterministic per job id and follow the configured fractions', () => {
    const cfg = withDefaults({ failFraction: 0.3, holdFraction: 0.2, shortFraction: 0.1, shortSeconds: 5, runSeconds: 300 });
    const counts = { ok: 0, short: 0, fail: 0, hold: 0 };
    for (let c = 1; c <= 100; c++) for (let p = 0; p < 20; p++) counts[fateOf(c, p, cfg).kind]++;
    expect(counts.hold / 2000).toBeCloseTo(0.2, 1);
    expect(counts.fail / 2000).toBeCloseTo(0.3, 1);
    expect(counts.short / 2000).toBeCloseTo(0.1, 1);
    expect(fateOf(17, 3, cfg)).toEqual(fateOf(17, 3, cfg));
    const fail = [...Array(50).keys()].map((p) => fateOf(5, p, cfg)).find((f) => f.kind === 'fail');
    expect(fail?.exitCode).not.toBe(0);
    expect(fateOf(1, 0, withDefaults({}))).toEqual({ kind: 'ok', runSeconds: 300, exitCode: 0 });
  });

  describe('through the tools, with an injected clock', () => {
    const JDL = 'executable = /pilot.sh\nuniverse = grid\ngrid_resource = condor ce ce:9619\n+MATCH_APF_QUEUE = "Q1"\nqueue 40\n';

    it('condor_history shows finished jobs newest first with consistent times', async () => {
      const state = newState({ idleSeconds: 10, runSeconds: 100, failFraction: 0.25, holdFraction: 0.15, shortFraction: 0.25, shortSeconds: 3, firstClusterId: 100 });
      await run(state, 'condor_submit', [submitFile(tempDir(), JDL)], { now: T0 });
      await run(state, 'condor_submit', [submitFile(tempDir(), JDL)], { now: T0 + 50 });
      const attrs = 'ClusterId,ProcId,JobStatus,QDate,JobStartDate,EnteredCurrentStatus,CompletionDate,RemoteWallClockTime,ExitCode,GridJobStatus';
      const r = await run(state, 'condor_history', ['-json', '-attributes', attrs], { now: T0 + 1000 });
      const hist = JSON.parse(r.stdout) as Array<Record<string, number | null>>;
      const q = JSON.parse((await run(state, 'condor_q', ['-json', '-attributes', 'JobStatus,HoldReason,HoldReasonCode'], { now: T0 + 1000 })).stdout) as Array<Record<string, unknown>>;
      // held jobs stay in the queue; all others finished
      expect(hist.length + q.length).toBe(80);
      expect(q.every((j) => j['JobStatus'] === 5 && typeof j['HoldReason'] === 'string' && j['HoldReasonCode'] === 0)).toBe(true);
      expect(q.length).toBeGreaterThan(0);
      for (let i = 1; i < hist.length; i++) expect(hist[i - 1]?.['CompletionDate']).toBeGreaterThanOrEqual(hist[i]?.['CompletionDate'] ?? 0);
      for (const j of hist) {
        const start = j['JobStartDate'] as number;
        expect(j['JobStatus']).toBe(4);
        expect(start).toBe((j['QDate'] as number) + 10);
        expect(j['EnteredCurrentStatus']).toBe(j['CompletionDate']);
        expect(j['RemoteWallClockTime']).toBe((j['CompletionDate'] as number) - start);
        expect([3, 100]).toContain(j['RemoteWallClockTime']);
        expect(j['GridJobStatus']).toBeNull();
        expect(typeof j['ExitCode']).toBe('number');
      }
      const short = hist.filter((j) => j['RemoteWallClockTime'] === 3);
      const failed = hist.filter((j) => j['ExitCode'] !== 0);
      expect(short.length).toBeGreaterThan(0);
      expect(failed.length).toBeGreaterThan(0);
      expect(failed.every((j) => j['RemoteWallClockTime'] === 100)).toBe(true);

      // the same submissions give the same history, whatever was queried in between
      const again = newState({ idleSeconds: 10, runSeconds: 100, failFraction: 0.25, holdFraction: 0.15, shortFraction: 0.25, shortSeconds: 3, firstClusterId: 100 });
      await run(again, 'condor_submit', [submitFile(tempDir(), JDL)], { now: T0 });
      await run(again, 'condor_q', [], { now: T0 + 20 });
      await run(again, 'condor_submit', [submitFile(tempDir(), JDL)], { now: T0 + 50 });
      await run(again, 'condor_history', [], { now: T0 + 200 });
      expect((await run(again, 'condor_history', ['-json', '-attributes', attrs], { now: T0 + 1000 })).stdout).toBe(r.stdout);

      const limited = await run(state, 'condor_history', ['-af', 'ClusterId', 'ProcId', '-limit', '2'], { now: T0 + 1000 });
      expect(limited.stdout.split('\n').filter((l) => l !== '')).toHaveLength(2);
      const one = await run(state, 'condor_history', ['-af', 'ProcId', '-constraint', 'ClusterId == 101 && ProcId == 7 && JobStatus == 4'], { now: T0 + 1000 });
      expect(['7\n', '']).toContain(one.stdout);
    });

    it('condor_history empty outputs: [\\n]\\n for -json, header/blank/footer for -xml', async () => {
      const state = newState();
      expect((await run(state, 'condor_history', ['-json'], { now: T0 })).stdout).toBe('[\n]\n');
      expect((await run(state, 'condor_history', ['-xml'], { now: T0 })).stdout).toBe(
        '<?xml version="1.0"?>\n<!DOCTYPE classads SYSTEM "classads.dtd">\n<classads>\n\n</classads>\n\n',
      );
      const bad = await run(state, 'condor_history', ['-constraint', '((('], { now: T0 });
      expect(bad).toEqual({ code: 1, stdout: '', stderr: 'Error:  could not parse constraint (((\n' });
    });

    it('condor_history -xml puts a blank line after each ad', async () => {
      const state = newState({ idleSeconds: 0, runSeconds: 1, firstClusterId: 3 });
      await run(state, 'condor_submit', [submitFile(tempDir(), 'executable = /a\nqueue 2\n')], { now: T0 });
      const r = await run(state, 'condor_history', ['-xml', '-attributes', 'ProcId'], { now: T0 + 5 });
      expect(r.stdout).toBe(
        '<?xml version="1.0"?>\n<!DOCTYPE classads SYSTEM "classads.dtd">\n<classads>\n\n' +
          '<c>\n    <a n="ProcId"><i>1</i></a>\n</c>\n\n<c>\n    <a n="ProcId"><i>0</i></a>\n</c>\n\n</classads>\n\n',
      );
    });

    it('vanilla jobs get a RemoteHost and count runs; completed ones record ExitCode and CompletionDate', async () => {
      const state = newState({ idleSeconds: 5, runSeconds: 50, firstClusterId: 9 });
      await run(state, 'condor_submit', [submitFile(tempDir(), 'executable = /a\nqueue 1\n')], { now: T0 });
      const running = JSON.parse((await run(state, 'condor_q', ['-json', '-attributes', 'RemoteHost,JobRunCount,NumJobStarts'], { now: T0 + 6 })).stdout) as unknown[];
      expect(running).toEqual([{ JobRunCount: 1, NumJobStarts: 1, RemoteHost: 'slot1_1@wn009.sim.invalid' }]);
      const done = await run(state, 'condor_history', ['-af', 'JobStatus', 'ExitCode', 'CompletionDate', 'RemoteWallClockTime'], { now: T0 + 60 });
      expect(done.stdout).toBe(`4 0 ${T0 + 55} 50.0\n`);
    });
  });
});
