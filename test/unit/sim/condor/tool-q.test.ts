import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, fixture, newState, run, submitFile, tempDir } from './harness.ts';

const T0 = 1_699_999_100;
const CERN = 'CERN-ce503.cern.ch';

afterAll(cleanup);

/** The APF HTCondor-CE submit file with a readable placeholder proxy and its logs in a temp dir. */
function condorCeJdl(dir: string): string {
  const proxy = submitFile(dir, 'placeholder\n', 'proxy');
  return fixture('submit_apf_condorce.jdl')
    .replace('/var/lib/autopyfactory/proxy/x509-atlas-production', proxy)
    .replace('Dir = /var/log/apf/2023-11-14/CERN-ce503.cern.ch/', `Dir = ${dir}/logs/`);
}

describe('sim/condor/tool-q', () => {
  it('an empty queue prints the XML header and footer, and nothing at all for -json (fixtures)', async () => {
    const state = newState();
    expect(await run(state, 'condor_q', ['-xml'], { now: T0 })).toEqual({ code: 0, stdout: fixture('condor_q_empty.xml'), stderr: '' });
    expect(await run(state, 'condor_q', ['-json'], { now: T0 })).toEqual({ code: 0, stdout: fixture('condor_q_empty.json'), stderr: '' });
  });

  describe('with the three pilots of the APF HTCondor-CE submit file', () => {
    let state: string;
    beforeAll(async () => {
      state = newState({ firstClusterId: 4367890, idleSeconds: 30, runSeconds: 300 });
      const dir = tempDir();
      const r = await run(state, 'condor_submit', [submitFile(dir, condorCeJdl(dir))], { now: T0 });
      expect(r.code).toBe(0);
    });

    it('-json -attributes prints the projected ads in condor_q layout', async () => {
      const r = await run(state, 'condor_q', ['-json', '-attributes', 'ClusterId,ProcId,JobStatus,match_apf_queue,QDate,EnteredCurrentStatus'], { now: T0 + 10 });
      const ad = (p: number): string =>
        `{\n  "ClusterId": 4367890,\n  "EnteredCurrentStatus": ${T0},\n  "JobStatus": 1,\n  "MATCH_APF_QUEUE": "${CERN}",\n  "ProcId": ${p},\n  "QDate": ${T0}\n}`;
      expect(r).toEqual({ code: 0, stdout: `[\n${ad(0)}\n,\n${ad(1)}\n,\n${ad(2)}\n]\n`, stderr: '' });
    });

    it('-xml -attributes prints the projected ads in condor_q layout', async () => {
      const r = await run(state, 'condor_q', ['-xml', '-attributes', 'ClusterId,ProcId,JobStatus', '4367890.1'], { now: T0 + 10 });
      expect(r.stdout).toBe(
        '<?xml version="1.0"?>\n<!DOCTYPE classads SYSTEM "classads.dtd">\n<classads>\n<c>\n' +
          '    <a n="ClusterId"><i>4367890</i></a>\n    <a n="JobStatus"><i>1</i></a>\n    <a n="ProcId"><i>1</i></a>\n</c>\n</classads>\n',
      );
    });

    it('full ads carry the submitted attributes and the schedd attributes', async () => {
      const r = await run(state, 'condor_q', ['-json', '4367890.2'], { now: T0 + 10 });
      const [ad] = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
      expect(ad).toMatchObject({
        ClusterId: 4367890,
        ProcId: 2,
        JobStatus: 1,
        LastJobStatus: 0,
        JobUniverse: 9,
        MATCH_APF_QUEUE: CERN,
        FACTORY_JOBID: 'apf01.hec.lancs.ac.uk#4367890.2',
        Nonessential: true,
        maxMemory: 16000,
        GlobalJobId: expect.stringMatching(/#4367890\.2#1699999100$/) as unknown,
        // "\/Expr(…)\/" once JSON-decoded
        PeriodicRemove: '/Expr((JobStatus == 2 && (CurrentTime - EnteredCurrentStatus) > 604800))/',
      });
      expect(ad).not.toHaveProperty('GridJobStatus');
    });

    it('shows running jobs with the gridmanager attributes once they started', async () => {
      const r = await run(state, 'condor_q', ['-json', '-attributes', 'JobStatus,JobStartDate,GridJobStatus,GridJobId,LastJobStatus', '4367890.0'], { now: T0 + 31 });
      expect(JSON.parse(r.stdout)).toEqual([
        { GridJobId: 'condor ce503.cern.ch ce503.cern.ch:9619 12367890.0', GridJobStatus: 'RUNNING', JobStartDate: T0 + 30, JobStatus: 2, LastJobStatus: 1 },
      ]);
    });

    it('-constraint filters with ClassAd semantics, -af prints values', async () => {
      const r1 = await run(state, 'condor_q', ['-af', 'ProcId', '-constraint', `MATCH_APF_QUEUE == "${CERN.toUpperCase()}" && ProcId > 0`], { now: T0 + 31 });
      expect(r1.stdout).toBe('1\n2\n');
      const r2 = await run(state, 'condor_q', ['-af', 'ProcId', '-constraint', 'NoSuchAttr == 1'], { now: T0 + 31 });
      expect(r2).toEqual({ code: 0, stdout: '', stderr: '' });
    });

    it('-long prints old-syntax Name = value lines, one blank line after each ad', async () => {
      const r = await run(state, 'condor_q', ['-long', '-attributes', 'ProcId,MATCH_APF_QUEUE,Nonessential,RemoteWallClockTime', '4367890.1'], { now: T0 + 31 });
      expect(r.stdout).toBe(`MATCH_APF_QUEUE = "${CERN}"\nNonessential = true\nProcId = 1\nRemoteWallClockTime = 0.0\n\n`);
    });

    it('without -allusers shows only the current user jobs', async () => {
      const other = await run(state, 'condor_q', ['-af', 'ClusterId'], { now: T0 + 31, env: { USER: 'someoneelse' } });
      expect(other.stdout).toBe('');
      const all = await run(state, 'condor_q', ['-allusers', '-af', 'Owner'], { now: T0 + 31, env: { USER: 'someoneelse' } });
      expect(all.stdout).toBe('apf\napf\napf\n');
    });

    it('the human-readable table says it is the simulator and totals the jobs', async () => {
      const r = await run(state, 'condor_q', [], { now: T0 + 31 });
      expect(r.stdout).toContain('(apf HTCondor simulator)');
      expect(r.stdout).toContain('Total for query: 3 jobs; 0 completed, 0 removed, 0 idle, 3 running, 0 held, 0 suspended');
    });
  });

  it('a constraint on an expression attribute sees the whole ad, even with a projection', async () => {
    const state = newState({ idleSeconds: 10 });
    await run(state, 'condor_submit', [submitFile(tempDir(), 'executable = /a\n+Doubled = JobStatus * 2\nqueue 2\n')], { now: T0 });
    const idle = await run(state, 'condor_q', ['-af', 'ProcId', '-constraint', 'Doubled == 2'], { now: T0 + 1 });
    expect(idle.stdout).toBe('0\n1\n');
    const running = await run(state, 'condor_q', ['-json', '-attributes', 'ProcId', '-constraint', 'Doubled == 4', '-limit', '1'], { now: T0 + 11 });
    expect(running.stdout).toBe('[\n{\n  "ProcId": 0\n}\n]\n');
  });

  it('an unparsable constraint is an error exit', async () => {
    const r = await run(newState(), 'condor_q', ['-constraint', 'JobStatus =='], { now: T0 });
    expect(r).toEqual({ code: 1, stdout: '', stderr: '\n-- Parse error in constraint expression "JobStatus =="\n' });
  });

  it('an unknown schedd name is a fetch failure', async () => {
    const r = await run(newState({ schedds: ['schedd01'] }), 'condor_q', ['-name', 'nope.example.org', '-xml'], { now: T0 });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^\n-- Failed to fetch ads from: <[^>]+> : nope\.example\.org\n/);
  });

  it('an unknown option prints usage and exits 1', async () => {
    const r = await run(newState(), 'condor_q', ['-frobnicate'], { now: T0 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Error: unrecognized argument -frobnicate\nUsage: condor_q/);
  });

  it('writes the jobs output, error and log files when their directory exists', async () => {
    const state = newState({ firstClusterId: 7, idleSeconds: 0, runSeconds: 60 });
    const dir = tempDir();
    const logs = `${dir}/logs`;
    const text = condorCeJdl(dir);
    await run(state, 'condor_submit', [submitFile(dir, text)], { now: T0 }); // logs/ missing: no files
    const { mkdirSync, existsSync } = await import('node:fs');
    expect(existsSync(`${logs}/7.0.log`)).toBe(false);
    mkdirSync(logs);
    await run(state, 'condor_submit', [submitFile(dir, text)], { now: T0 });
    await run(state, 'condor_q', [], { now: T0 + 61 });
    const log = readFileSync(`${logs}/8.1.log`, 'utf8');
    expect(log).toMatch(/^000 \(008\.001\.000\) \d{4}-\d\d-\d\d \d\d:\d\d:\d\d Job submitted from host: /);
    expect(log).toContain('001 (008.001.000)');
    expect(log).toContain('005 (008.001.000)');
    expect(log).toContain('\t(1) Normal termination (return value 0)\n');
    expect(readFileSync(`${logs}/8.1.out`, 'utf8')).toContain('pilot 8.1 started');
    expect(readFileSync(`${logs}/8.1.err`, 'utf8')).toBe('');
  });
});
