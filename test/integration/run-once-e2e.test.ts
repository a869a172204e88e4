/**
 * `apf run-once` end to end against both simulators, as an operator runs it: the real CLI in a
 * child process, the PanDA simulator over HTTP, the HTCondor simulator's executables first on PATH.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startPandaSim, type PandaSim } from '../../src/sim/panda/index.ts';
import { parseScenario } from '../../src/sim/panda/scenario.ts';
import { updateState } from '../../src/sim/condor/admin.ts';
import { runApf } from '../helpers/cli.ts';
import { execa } from 'execa';
import { tempDirs } from '../helpers/temp-dirs.ts';

const tempDir = tempDirs('apf-e2e-');

interface RunRecord {
  queue: string;
  n: number;
  submit: number;
  msg: string;
  blocked: string | null;
  outcome: string;
  cycle: string;
  jobIds: string[];
  error: string | null;
  errorCode: string | null;
}

const SCENARIO = parseScenario({
  queues: {
    PQ_A: { timeline: [{ t: 0, activated: 50, running: 10, status: 'online' }] },
    PQ_B: { timeline: [{ t: 0, activated: 7, running: 0, status: 'online' }] },
    PQ_TEST: { timeline: [{ t: 0, activated: 100, status: 'test' }] },
  },
});

let panda: PandaSim;
let root: string;
let configDir: string;
let stateDir: string;
let binDir: string;

function env(): Record<string, string> {
  return { PATH: `${binDir}:${process.env['PATH'] ?? ''}` };
}

async function runOnce(...extra: string[]): Promise<{ code: number; records: RunRecord[]; stderr: string }> {
  const r = await runApf(['run-once', '--config', configDir, '--all', '--json', ...extra], { env: env(), timeoutMs: 90_000 });
  return { code: r.code, records: r.stdout.trim() === '' ? [] : (JSON.parse(r.stdout) as RunRecord[]), stderr: r.stderr };
}

async function condorQ(attrs: string): Promise<Array<Record<string, unknown>>> {
  const r = await execa(join(binDir, 'condor_q'), ['-json', '-attributes', attrs], { reject: false });
  expect(r.exitCode).toBe(0);
  return r.stdout.trim() === '' ? [] : (JSON.parse(r.stdout) as Array<Record<string, unknown>>);
}

function byQueue(records: RunRecord[]): Record<string, RunRecord> {
  return Object.fromEntries(records.map((r) => [r.queue, r]));
}

describe('cli: run-once against the simulators', () => {
  beforeAll(async () => {
    panda = await startPandaSim({ port: 0, scenario: SCENARIO });
    root = tempDir();
    configDir = join(root, 'etc');
    stateDir = join(root, 'condor');
    binDir = join(root, 'bin');
    mkdirSync(configDir);
    const sim = await runApf(['sim', 'condor', '--state', stateDir, '--bin', binDir, '--idle-seconds', '3600']);
    expect(sim.code).toBe(0);
    writeFileSync(
      join(configDir, 'autopyfactory.conf'),
      `[Factory]
factoryId = e2e-factory
factoryAdminEmail = admin@example.org
factoryUser = apf
baseLogDir = ${root}/logs
baseLogDirUrl = http://factory.example.org:25880
wmsstatus.panda.url = ${panda.url}
wmsstatus.panda.sitestatus.url = ${panda.cricUrl}
wmsstatus.panda.timeout = 3
wmsstatus.panda.retries = 0
batchstatus.condor.timeout = 5
`,
    );
    writeFileSync(
      join(configDir, 'queues.conf'),
      `[DEFAULT]
enabled = True
wmsstatusplugin = Panda
batchstatusplugin = Condor
batchsubmitplugin = CondorLocal
batchsubmit.condorlocal.timeout = 4
executable = /usr/libexec/wrapper.sh
executable.arguments = --wrapperwmsqueue=%(wmsqueue)s
schedplugin = Ready, MaxPerCycle, StatusTest
sched.maxpercycle.maximum = 10
sched.statustest.pilots = 1

[A-local]
wmsqueue = PQ_A

[B-local]
wmsqueue = PQ_B
batchsubmit.condorlocal.environ = RUCIO_ACCOUNT=pilot

[TEST-local]
wmsqueue = PQ_TEST
`,
    );
  });

  afterAll(async () => {
    await panda.close();
  });

  beforeEach(async () => {
    await updateState(stateDir, { clearFaults: true });
    panda.clearFaults();
  });

  it('submits what the chain decides, with APF\'s submit file, environment and our tags', async () => {
    const { code, records } = await runOnce();
    expect(code).toBe(0);
    const r = byQueue(records);
    expect(r['A-local']).toMatchObject({ n: 10, submit: 10, outcome: 'submitted', blocked: null });
    expect(r['A-local']?.msg).toBe('Ready:in=0,activated=50,offset=0,pending=0,ret=50;MaxPerCycle:in=50,maxpercycle=10,ret=10;StatusTest:comment=not test,in=10,ret=10');
    expect(r['B-local']).toMatchObject({ n: 7, submit: 7, outcome: 'submitted' });
    expect(r['TEST-local']).toMatchObject({ n: 1, submit: 1 });
    expect(r['A-local']?.jobIds).toHaveLength(10);

    const pilots = await condorQ('ClusterId,ProcId,MATCH_APF_QUEUE,APF_QUEUE,APF_FACTORY,APF_CYCLE,Environment,JobStatus');
    const a = pilots.filter((p) => p['MATCH_APF_QUEUE'] === 'A-local');
    expect(a).toHaveLength(10);
    for (const p of a) {
      expect(p['APF_FACTORY']).toBe('e2e-factory');
      expect(p['APF_QUEUE']).toBe('A-local');
      expect(p['APF_CYCLE']).toBe(r['A-local']?.cycle);
      const envText = String(p['Environment']);
      const cid = `${String(p['ClusterId'])}.${String(p['ProcId'])}`;
      expect(envText).toContain('PANDA_JSID=e2e-factory');
      expect(envText).toContain(`APFCID=${cid}`);
      expect(envText).toContain('APFFID=e2e-factory');
      expect(envText).toContain('FACTORYQUEUE=A-local');
      expect(envText).toContain('FACTORYUSER=apf');
      expect(envText).toMatch(new RegExp(`GTAG=http://factory.example.org:25880/\\d{4}-\\d{2}-\\d{2}/A-local/${cid.replace('.', '\\.')}\\.out`));
    }
    expect(pilots.filter((p) => p['MATCH_APF_QUEUE'] === 'B-local').every((p) => String(p['Environment']).includes('RUCIO_ACCOUNT=pilot'))).toBe(true);
    const day = new Date().toISOString().slice(0, 10);
    const jdl = readFileSync(join(root, 'logs', day, 'A-local', 'submit.jdl'), 'utf8');
    expect(jdl).toContain('+MATCH_APF_QUEUE = "A-local"');
    expect(jdl).toContain('arguments = --wrapperwmsqueue=PQ_A');
    expect(jdl.trimEnd().endsWith('queue 10')).toBe(true);

    // the next cycle sees those pilots as pending: Ready subtracts them
    const again = byQueue((await runOnce()).records);
    expect(again['A-local']?.msg).toContain('Ready:in=0,activated=50,offset=0,pending=10,ret=40');
    expect(again['B-local']).toMatchObject({ n: 0, outcome: 'nothing' });
  });

  it('fails closed when PanDA answers HTTP 500: nothing submitted, the reason recorded', async () => {
    panda.setFault({ endpoint: 'stats', kind: '500' });
    const before = (await condorQ('ClusterId')).length;
    const { code, records } = await runOnce();
    expect(code).toBe(0);
    for (const rec of records) {
      expect(rec.submit).toBe(0);
      expect(rec.outcome).toBe('blocked');
      expect(rec.blocked).toContain('HTTP 500');
    }
    expect((await condorQ('ClusterId')).length).toBe(before);
  });

  it('fails closed when condor_q prints garbage or exits non-zero', async () => {
    await updateState(stateDir, { faults: { condor_q: { mode: 'garbled' } } });
    const garbled = await runOnce();
    expect(garbled.records.every((r) => r.submit === 0 && r.blocked?.includes('APF_ERR_BATCH_OUTPUT') === true)).toBe(true);
    await updateState(stateDir, { clearFaults: true, faults: { condor_q: { mode: 'exit', exitCode: 1, stderr: '-- Failed to fetch ads from: <127.0.0.1:9618> : schedd01\n' } } });
    const failed = await runOnce();
    expect(failed.records.every((r) => r.submit === 0 && r.blocked?.includes('APF_ERR_BATCH_UNAVAILABLE') === true)).toBe(true);
  });

  it('a hanging condor_submit is killed at its deadline; the other queues are unaffected', async () => {
    await updateState(stateDir, { set: { idleSeconds: 0 } }); // pending pilots run at once: demand stays
    await updateState(stateDir, { faults: { condor_submit: { mode: 'hang', times: 1 } } });
    const t0 = Date.now();
    const { code, records } = await runOnce();
    const elapsed = Date.now() - t0;
    expect(code).toBe(4); // one queue's cycle failed
    const failed = records.filter((r) => r.outcome === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.errorCode).toBe('APF_ERR_COMMAND_TIMEOUT');
    expect(records.filter((r) => r.outcome === 'submitted').length).toBeGreaterThanOrEqual(1);
    expect(elapsed).toBeLessThan(60_000); // bounded by the 4 s deadline, not by the hang
    await updateState(stateDir, { set: { idleSeconds: 3600 } });
  });

  it('condor_submit exiting non-zero fails that cycle with its stderr', async () => {
    await updateState(stateDir, {
      faults: { condor_submit: { mode: 'exit', exitCode: 1, stderr: '\nERROR: Failed to connect to local queue manager\nSCHEDD:2:Failed to connect\n' } },
    });
    const { code, records } = await runOnce('--concurrency', '1');
    expect(code).toBe(4);
    const failed = records.filter((r) => r.outcome === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    for (const f of failed) {
      expect(f.errorCode).toBe('APF_ERR_SUBMIT_FAILED');
      expect(f.error).toContain('Failed to connect to local queue manager');
    }
  });
});
